"""Clickstream: users' sessions of events, landed as Kafka ingest batches, one day at a time.

Vectorized with numpy per simulated day (no per-click Python), so 30M clicks take minutes. Each
day is generated once and used three ways: the truth (engagement before any fault), the landing
batches (with outage, late, delayed and duplicate faults applied) and the manifest counts.

Arrival model: an event reaches ingestion ``sent_at + ~1 min``; ingestion lands one batch per slot
of ``24 / batches_per_day`` hours, at the slot's end minus 1 ms (``landed_at``). Late events arrive
49 h to 21 days after they happened, delayed ones 3-40 h (a later batch, but not "late" by
docs/semantic-contract.md). Everything that arrives after the last slot lands in the last batch of
the horizon.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow.parquet as pq

from pacific_assets.contracts import CLICKS
from pacific_tools.simulate import catalog as C
from pacific_tools.simulate.config import SimConfig
from pacific_tools.simulate.landing import TS_MS_FMT, LandingWriter
from pacific_tools.simulate.schedule import KIND_BATCH, KIND_MANIFEST

US = 1_000_000
HOUR = 3600 * US
DAY = 24 * HOUR
SESSION_GAP_US = 30 * 60 * US
LATE_US = 48 * HOUR
NEVER = np.iinfo(np.int64).max
#: local-hour activity profile: business hours heavier
HOUR_W = np.array(
    [
        0.2,
        0.15,
        0.1,
        0.1,
        0.1,
        0.2,
        0.4,
        0.9,
        2.0,
        3.0,
        3.2,
        3.0,
        2.2,
        2.8,
        3.0,
        2.9,
        2.5,
        1.6,
        1.0,
        0.8,
        0.7,
        0.6,
        0.4,
        0.3,
    ]
)
HOUR_P = HOUR_W / HOUR_W.sum()
WEEKDAY_FACTOR = (1.0, 1.0, 1.0, 0.97, 0.9, 0.15, 0.12)
BASE_P_LICENSED, BASE_P_UNLICENSED = 0.7, 0.25
P_CAP = 0.85  # with a +10% effect the probability stays below 1, so the effect is exact
EXTRA_SESSIONS = 0.6  # sessions per active day = 1 + Poisson(0.6)
GAP_MEAN_S = 300.0  # seconds between events within a session (a session of 6 events ~ 25 min)
P_BAR = 0.39  # typical mean daily activity probability (to turn events/user/day into a rate)


def season(d: dt.date) -> float:
    """Year-end holidays and August are quieter."""
    if (d.month == 12 and d.day >= 20) or (d.month == 1 and d.day <= 2):
        return 0.5
    return 0.85 if d.month == 8 else 1.0


def epoch_us(d: dt.date | dt.datetime) -> int:
    if isinstance(d, dt.datetime):
        return int(d.replace(tzinfo=dt.UTC).timestamp() * US)
    return int(dt.datetime(d.year, d.month, d.day, tzinfo=dt.UTC).timestamp()) * US


def utc_us(us: int) -> dt.datetime:
    """Microseconds since the epoch -> aware UTC datetime (exact, no float rounding)."""
    return dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=int(us))


def iso_us(us: int) -> str:
    t = dt.datetime.fromtimestamp(us / US, dt.UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


@dataclass
class Users:
    """Directory users as arrays (index = position)."""

    user_ids: pl.Series
    account: np.ndarray  # account index
    created_us: np.ndarray
    deact_us: np.ndarray  # NEVER when still active
    licensed: np.ndarray
    team: np.ndarray  # index into catalog.USER_TEAMS
    offset_h: np.ndarray  # local time = UTC + offset
    propensity: np.ndarray


@dataclass
class ClickFaults:
    outage_start_us: int | None
    outage_end_us: int | None
    late_quota: np.ndarray
    delayed_quota: np.ndarray
    dup_quota: np.ndarray
    broken_slots: list[int]


@dataclass
class ClickResult:
    engagement: pl.DataFrame  # truth engagement_daily
    late: list[dict] = field(default_factory=list)
    delayed: list[dict] = field(default_factory=list)
    duplicates: list[dict] = field(default_factory=list)
    malformed: list[dict] = field(default_factory=list)
    outage_lost_by_date: dict[str, int] = field(default_factory=dict)
    batches: int = 0
    landed_rows: int = 0
    unique_events: int = 0


def plan_faults(cfg: SimConfig, rng: np.random.Generator) -> ClickFaults:
    """Where the click faults go: the outage window and per-day quotas (exact totals)."""
    f = cfg.faults
    n_days = cfg.days
    outage_s = outage_e = None
    if f.outage_hours > 0:
        mid = [
            i
            for i in range(int(n_days * 0.4), max(int(n_days * 0.6), int(n_days * 0.4) + 1))
            if (cfg.start + dt.timedelta(days=i)).weekday() < 4
        ]
        day = mid[int(rng.integers(0, len(mid)))] if mid else n_days // 2
        outage_s = epoch_us(cfg.start + dt.timedelta(days=day)) + 13 * HOUR
        outage_e = outage_s + int(f.outage_hours * HOUR)

    def quota(total: int, last_day_excl: int) -> np.ndarray:
        q = np.zeros(n_days, dtype=np.int64)
        if total > 0 and last_day_excl > 0:
            q[:last_day_excl] = rng.multinomial(total, np.full(last_day_excl, 1 / last_day_excl))
        return q

    n_slots = n_days * cfg.batches_per_day
    broken = sorted(rng.integers(0, n_slots, size=_malformed_count(cfg, "clicks")).tolist())
    return ClickFaults(
        outage_s,
        outage_e,
        quota(f.late_clicks, n_days - 3),
        quota(f.delayed_clicks, n_days - 2),
        quota(f.duplicate_clicks, n_days - 1),
        broken,
    )


def _malformed_count(cfg: SimConfig, source: str) -> int:
    return sum(n for s, _, n in cfg.faults.malformed if s == source)


class ClickSim:
    def __init__(
        self,
        cfg: SimConfig,
        rng: np.random.Generator,
        users: Users,
        boost: tuple[np.ndarray, np.ndarray, np.ndarray],
        writer: LandingWriter,
        account_ids: pl.Series,
        truth_dir: Path,
    ):
        self.cfg, self.rng, self.users, self.writer = cfg, rng, users, writer
        self.boost_from, self.boost_to, self.boost_mult = boost
        self.account_ids = account_ids
        self.truth_dir = truth_dir
        self.start_us = epoch_us(cfg.start)
        self.end_us = epoch_us(cfg.end)
        self.slot_us = DAY // cfg.batches_per_day
        self.n_slots = cfg.days * cfg.batches_per_day
        self.pending: dict[int, list[pl.DataFrame]] = {}
        self.offsets = np.zeros(cfg.kafka_partitions, dtype=np.int64)
        self.manifest: list[dict] = []
        #: landing time of the latest batch written (the last slot when none was)
        self.last_landed_us = int(self.landed_at(self.n_slots - 1))
        target = cfg.events_per_user_day * cfg.clicks_multiplier
        self.lam_events = max(0.0, target / (P_BAR * (1 + EXTRA_SESSIONS)) - 1.0)

    # -- generation -----------------------------------------------------------------------
    def day_events(self, d: int) -> pl.DataFrame:
        """All clicks that really happened on day ``d`` (user index, ts, page, action)."""
        rng, u = self.rng, self.users
        day = self.cfg.start + dt.timedelta(days=d)
        d0 = self.start_us + d * DAY
        alive = np.nonzero((u.created_us < d0 + DAY) & (u.deact_us > d0))[0]
        self._alive = alive
        p = np.where(u.licensed[alive], BASE_P_LICENSED, BASE_P_UNLICENSED)
        p = np.minimum(p * u.propensity[alive] * WEEKDAY_FACTOR[day.weekday()] * season(day), P_CAP)
        boosted = (self.boost_from[alive] <= d) & (d < self.boost_to[alive])
        p = p * np.where(boosted, self.boost_mult[alive], 1.0)
        active = alive[rng.random(len(alive)) < p]
        n_sess = 1 + rng.poisson(EXTRA_SESSIONS, len(active))
        s_user = np.repeat(active, n_sess)
        local = rng.choice(24, size=len(s_user), p=HOUR_P) * 3600 + rng.random(len(s_user)) * 3600
        s_start = (local - u.offset_h[s_user] * 3600) % 86400
        n_ev = 1 + rng.poisson(self.lam_events, len(s_user))
        e_user = np.repeat(s_user, n_ev)
        gaps = rng.exponential(GAP_MEAN_S, len(e_user))
        first = np.concatenate([[0], np.cumsum(n_ev)[:-1]]) if len(n_ev) else np.zeros(0, int)
        gaps[first] = 0.0
        csum = np.cumsum(gaps)
        offset_in_session = csum - np.repeat(csum[first], n_ev)
        secs = np.repeat(s_start, n_ev) + offset_in_session
        ts = d0 + np.floor(secs * 1000).astype(np.int64) * 1000  # millisecond precision
        keep = (secs < 86399.99) & (ts >= u.created_us[e_user]) & (ts < u.deact_us[e_user])
        n = int(keep.sum())
        df = pl.DataFrame(
            {
                "u": e_user[keep].astype(np.int32),
                "ts": ts[keep],
                "page": rng.choice(len(C.PAGES), size=n, p=C.PAGE_P).astype(np.int8),
                "action": rng.choice(len(C.ACTIONS), size=n, p=C.ACTION_P).astype(np.int8),
            }
        ).sort(["ts", "u"])
        seq = pl.int_range(1, pl.len() + 1).cast(pl.String).str.zfill(9)
        return df.with_columns(
            pl.format("CK{}-{}", pl.lit(day.strftime("%Y%m%d")), seq).alias("event_id"),
            (pl.col("ts") + pl.Series(rng.integers(50_000, 2_000_000, size=n))).alias("sent"),
        )

    # -- truth ----------------------------------------------------------------------------
    def truth_day(
        self, d: int, ev: pl.DataFrame, late: np.ndarray
    ) -> tuple[pl.DataFrame, pl.DataFrame]:
        """Engagement per user and per account for one day, from every real event
        (docs/semantic-contract.md)."""
        u = self.users
        date = self.cfg.start + dt.timedelta(days=d)
        x = ev.select("u", "ts").with_columns(pl.Series("late", late)).sort(["u", "ts"])
        x = x.with_columns(
            (
                (pl.col("u") != pl.col("u").shift(1)).fill_null(True)
                | ((pl.col("ts") - pl.col("ts").shift(1)) > SESSION_GAP_US)
            )
            .cum_sum()
            .alias("sid")
        )
        sessions = x.group_by("sid").agg(
            pl.col("u").first(),
            (pl.col("ts").max() - pl.col("ts").min()).alias("dur"),
            pl.len().alias("events"),
            pl.col("late").sum().alias("late_events"),
        )
        per_user = (
            sessions.group_by("u")
            .agg(
                pl.len().alias("sessions"),
                (pl.col("dur").sum() / HOUR).alias("hours"),
                pl.col("events").sum().cast(pl.Int64),
                pl.col("late_events").sum().cast(pl.Int64),
            )
            .sort("u")
        )
        uidx = per_user["u"].to_numpy()
        per_user = per_user.with_columns(
            pl.Series("acc", u.account[uidx]),
            pl.Series("licensed", u.licensed[uidx]),
            pl.Series("team", u.team[uidx]),
        )
        alive = self._alive
        lic = alive[u.licensed[alive]]
        licensed_users = (
            pl.DataFrame({"acc": u.account[lic]}, schema={"acc": pl.Int64})
            .group_by("acc")
            .agg(pl.len().cast(pl.Int64).alias("licensed_users"))
        )
        acc = (
            per_user.group_by("acc")
            .agg(
                pl.len().cast(pl.Int64).alias("active_users"),
                pl.col("licensed").sum().cast(pl.Int64).alias("active_licensed_users"),
                pl.col("sessions").sum().cast(pl.Int64),
                pl.col("hours").sum().alias("total_hours"),
                pl.col("events").sum().cast(pl.Int64),
                pl.col("late_events").sum().cast(pl.Int64),
            )
            .with_columns(pl.col("acc").cast(pl.Int64))
            .join(licensed_users, on="acc", how="full", coalesce=True)
            .with_columns(
                pl.col(c).fill_null(0)
                for c in (
                    "licensed_users",
                    "active_users",
                    "active_licensed_users",
                    "sessions",
                    "events",
                    "late_events",
                )
            )
            .with_columns(pl.col("total_hours").fill_null(0.0))
            .sort("acc")
        )
        acc = acc.select(
            pl.lit(date).alias("date"),
            self.account_ids.gather(acc["acc"].to_numpy()).alias("account_id"),
            "licensed_users",
            "active_users",
            "sessions",
            "total_hours",
            "events",
            "active_licensed_users",
            "late_events",
        )
        users_out = per_user.select(
            pl.lit(date).alias("date"),
            u.user_ids.gather(uidx).alias("user_id"),
            self.account_ids.gather(per_user["acc"].to_numpy()).alias("account_id"),
            pl.Series(C.USER_TEAMS).gather(per_user["team"].to_numpy()).alias("team"),
            "licensed",
            pl.col("sessions").cast(pl.Int64),
            "hours",
            "events",
            "late_events",
        )
        return acc, users_out

    # -- landing --------------------------------------------------------------------------
    def slot_of(self, arrival: np.ndarray) -> np.ndarray:
        s = (arrival - self.start_us + 1000) // self.slot_us
        return np.clip(s, 0, self.n_slots - 1)

    def landed_at(self, slot: np.ndarray | int) -> np.ndarray | int:
        return self.start_us + (slot + 1) * self.slot_us - 1000

    def flush(self, upto_slot: int, result: ClickResult, faults: ClickFaults) -> None:
        for slot in sorted(s for s in self.pending if s < upto_slot):
            df = pl.concat(self.pending.pop(slot)).sort(["arrival", "event_id"])
            landed = int(self.landed_at(slot))
            part = (df["u"].to_numpy() % self.cfg.kafka_partitions).astype(np.int64)
            df = df.with_columns(pl.Series("partition", part)).with_columns(
                pl.int_range(pl.len()).over("partition").cast(pl.Int64).alias("rank")
            )
            df = df.with_columns((pl.col("rank") + pl.Series(self.offsets[part])).alias("offset"))
            counts = np.bincount(part, minlength=self.cfg.kafka_partitions)
            self.offsets += counts
            out = df.select(
                "event_id",
                self.users.user_ids.gather(df["u"].to_numpy()).alias("user_id"),
                self.account_ids.gather(self.users.account[df["u"].to_numpy()]).alias("account_id"),
                pl.from_epoch("ts", "us").dt.strftime(TS_MS_FMT).alias("event_ts"),
                pl.from_epoch("sent", "us").dt.strftime(TS_MS_FMT).alias("sent_at"),
                pl.Series(C.PAGES).gather(df["page"].cast(pl.Int64)).alias("page"),
                pl.Series(C.ACTIONS).gather(df["action"].cast(pl.Int64)).alias("action"),
                pl.lit(iso_us(landed)).alias("landed_at"),
                "partition",
                "offset",
            )
            assert out.columns == list(CLICKS.columns)
            ingest_date = dt.datetime.fromtimestamp(landed / US, dt.UTC).date()
            name = f"batch-{slot + 1:08d}.jsonl"
            rel = f"{CLICKS.path}/ingest_date={ingest_date.isoformat()}/{name}"
            inserts = []
            while faults.broken_slots and faults.broken_slots[0] <= slot:
                faults.broken_slots.pop(0)
                pos = int(self.rng.integers(0, out.height + len(inserts) + 1))
                raw = json.dumps(
                    {
                        "event_id": f"CK-BROKEN-{len(result.malformed) + 1}",
                        "user_id": self.users.user_ids[0],
                        "event_ts": "2025-",
                    }
                )[:-12]
                inserts.append((pos, raw))
            # positions refer to the final file: apply in increasing order
            inserts.sort()
            rows = self.writer.write_jsonl(
                "clicks", rel, out, inserts, landed_at=utc_us(landed), kind=KIND_BATCH
            )
            for pos, _ in inserts:
                result.malformed.append(
                    dict(source="clicks", kind="broken_json", file=rel, row=pos + 1, column=None)
                )
            event_dates = sorted(
                {
                    dt.datetime.fromtimestamp(t / US, dt.UTC).date().isoformat()
                    for t in (df["ts"] // DAY * DAY).unique().to_list()
                }
            )
            self.manifest.append(
                dict(
                    batch=name,
                    ingest_date=ingest_date.isoformat(),
                    event_dates=event_dates,
                    rows=rows,
                    landed_at=iso_us(landed),
                )
            )
            result.batches += 1
            result.landed_rows += df.height
            self.last_landed_us = landed

    def run(self, faults: ClickFaults) -> ClickResult:
        cfg, rng = self.cfg, self.rng
        result = ClickResult(engagement=pl.DataFrame())
        acc_frames = []
        user_writer = None
        carry = dict(late=0, delayed=0, dup=0)
        for d in range(cfg.days):
            self.flush(d * cfg.batches_per_day, result, faults)
            ev = self.day_events(d)
            n = ev.height
            result.unique_events += n
            ts = ev["ts"].to_numpy()
            arrival = ev["sent"].to_numpy() + rng.exponential(60 * US, n).astype(np.int64)
            lost = np.zeros(n, dtype=bool)
            if faults.outage_start_us is not None:
                lost = (ts >= faults.outage_start_us) & (ts < faults.outage_end_us)
                if lost.any():
                    day = (cfg.start + dt.timedelta(days=d)).isoformat()
                    result.outage_lost_by_date[day] = int(lost.sum())
            taken = lost.copy()

            def choose(
                kind: str, quota: int, eligible: np.ndarray, taken: np.ndarray = taken
            ) -> np.ndarray:
                """Exactly ``quota`` (+ what earlier days could not place) events, disjoint."""
                want = quota + carry[kind]
                cand = np.nonzero(eligible & ~taken)[0]
                k = min(want, len(cand))
                carry[kind] = want - k
                pick = np.sort(rng.choice(cand, size=k, replace=False)) if k else cand[:0]
                taken[pick] = True
                return pick

            late_i = choose("late", int(faults.late_quota[d]), ts < self.end_us - 51 * HOUR)
            if len(late_i):
                room = np.minimum(21 * DAY, self.end_us - ts[late_i] - HOUR)
                arrival[late_i] = (
                    ts[late_i]
                    + 49 * HOUR
                    + (rng.random(len(late_i)) * (room - 49 * HOUR)).astype(np.int64)
                )
            delayed_i = choose(
                "delayed", int(faults.delayed_quota[d]), ts < self.end_us - 41 * HOUR
            )
            if len(delayed_i):
                arrival[delayed_i] = ts[delayed_i] + (
                    (3 + rng.random(len(delayed_i)) * 37) * HOUR
                ).astype(np.int64)
            slot = self.slot_of(arrival)
            landed = self.landed_at(slot)
            late_flag = ~lost & (landed - ts > LATE_US)
            dup_i = choose("dup", int(faults.dup_quota[d]), slot < self.n_slots - 1)
            dup_arrival = landed[dup_i] + (60 * US + rng.random(len(dup_i)) * 10 * DAY).astype(
                np.int64
            )
            dup_slot = self.slot_of(np.minimum(dup_arrival, self.end_us - 2000))
            # truth first (every real event, none lost, no duplicates)
            acc, users_out = self.truth_day(d, ev, late_flag)
            acc_frames.append(acc)
            if cfg.user_level_truth:
                table = users_out.to_arrow()
                if user_writer is None:
                    user_writer = pq.ParquetWriter(
                        self.truth_dir / "engagement_users_daily.parquet",
                        table.schema,
                        compression="zstd",
                    )
                user_writer.write_table(table)
            # landing
            base = ev.with_columns(pl.Series("arrival", arrival), pl.Series("slot", slot))
            copies = base[dup_i].with_columns(
                pl.Series("arrival", dup_arrival), pl.Series("slot", dup_slot)
            )
            landed_df = pl.concat([base.filter(pl.Series(~lost)), copies])
            for (s,), part in landed_df.partition_by(
                "slot", as_dict=True, maintain_order=True
            ).items():
                self.pending.setdefault(int(s), []).append(part.drop("slot"))
            for idx, store in ((late_i, result.late), (delayed_i, result.delayed)):
                for i in idx.tolist():
                    store.append(
                        dict(
                            event_id=ev["event_id"][i],
                            event_ts=iso_us(int(ts[i])),
                            landed_at=iso_us(int(landed[i])),
                            batch=f"batch-{int(slot[i]) + 1:08d}.jsonl",
                        )
                    )
            for j, i in enumerate(dup_i.tolist()):
                result.duplicates.append(
                    dict(
                        event_id=ev["event_id"][i],
                        first_batch=f"batch-{int(slot[i]) + 1:08d}.jsonl",
                        duplicate_batch=f"batch-{int(dup_slot[j]) + 1:08d}.jsonl",
                    )
                )
        self.flush(self.n_slots + 1, result, faults)
        if user_writer is not None:
            user_writer.close()
        # the manifest grows by one line per batch; it is complete when the last batch landed
        self.writer.write_json_lines(
            "clicks",
            f"{CLICKS.path}/_manifest.jsonl",
            self.manifest,
            landed_at=utc_us(self.last_landed_us),
            kind=KIND_MANIFEST,
        )
        result.engagement = pl.concat(acc_frames)
        self.unfilled = carry
        return result
