"""Orchestration: simulate the company, write truth, apply faults, write the landing zone.

Order matters for determinism: each part draws from its own child of ``SeedSequence(seed)``, so
changing e.g. the click volume never changes the CRM history.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from pacific_assets import contracts as K
from pacific_assets.data_root import record_first_day
from pacific_tools.simulate import catalog as C
from pacific_tools.simulate import schedule as S
from pacific_tools.simulate import truth as T
from pacific_tools.simulate.clicks import NEVER, ClickSim, Users, epoch_us, plan_faults
from pacific_tools.simulate.company import EPOCH, Company, midnight, simulate_company
from pacific_tools.simulate.config import SimConfig, make_config
from pacific_tools.simulate.experiments import assign
from pacific_tools.simulate.finance import ops_and_salaries
from pacific_tools.simulate.landing import LandingWriter, to_json_frame, to_text

Progress = Callable[[str], None]
FILE = "part-00000"
#: a correction lands as a second file in the folder of the export it corrects
CORRECTION_FILE = "part-00001"
#: a correction lands this many whole days (inclusive range) after the export it corrects
CORRECTION_DELAY_DAYS = (14, 21)
#: the wrong amount of a corrected line: the true amount times this, rounded to cents
CORRECTION_WRONG_FACTOR = 1.1


@dataclass
class SimSummary:
    """What a run produced and where (returned by ``simulate`` and printed by the CLI)."""

    data_root: str
    profile: str
    seed: int
    start: str
    end: str
    seconds: float
    sources: dict[str, dict[str, int]]
    truth: dict[str, int]
    fault_counts: dict[str, int]
    landing_bytes: int = 0
    truth_bytes: int = 0
    timings: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def _folder(grain: str, d: dt.date) -> str:
    return f"date={d.isoformat()}" if grain == "daily" else f"month={d:%Y-%m}"


def simulate(
    data_root: str | Path,
    profile: str = "test",
    seed: int = 7,
    progress: Progress | None = None,
    **overrides,
) -> SimSummary:
    """Simulate the company into ``<data_root>/landing`` and ``<data_root>/truth``.

    Replaces both folders entirely (the lake and catalog are left alone), and records the
    company's first day as the data root's (``pacific_assets.data_root``): a data root that
    records another day is refused before anything is replaced. ``overrides`` are SimConfig
    fields (accounts, users_per_account, events_per_user_day, clicks_multiplier, start, end,
    days, schema_drift, faults, ...).
    """
    cfg = make_config(profile, data_root=Path(data_root), seed=seed, **overrides)
    return Simulation(cfg, Path(data_root), progress or (lambda _m: None)).run()


class Simulation:
    def __init__(self, cfg: SimConfig, data_root: Path, progress: Progress):
        self.cfg = cfg
        self.root = data_root.expanduser().resolve()
        self.landing = self.root / "landing"
        self.truth_dir = self.root / "truth"
        self.say = progress
        # the 7th child was added later (billing landing faults); children 0-5 are the same as
        # with spawn(6), so adding it changed no existing draw
        seqs = np.random.SeedSequence(cfg.seed).spawn(7)
        (
            self.rng_company,
            self.rng_users,
            self.rng_exp,
            self.rng_clicks,
            self.rng_faults,
            self.rng_fin,
            self.rng_billing,
        ) = (np.random.default_rng(s) for s in seqs)
        self.manifest: dict = {}
        self.malformed: list[dict] = []
        self.timings: dict[str, float] = {}

    # -- helpers --------------------------------------------------------------------------
    def _tick(self, name: str, t0: float) -> float:
        now = time.perf_counter()
        self.timings[name] = round(now - t0, 2)
        return now

    def _landing_day(self, t: dt.datetime | dt.date) -> dt.date:
        """Export folder of a change: its UTC day; history before the start lands in the first
        folder (the initial load)."""
        d = t.date() if isinstance(t, dt.datetime) else t
        return max(d, self.cfg.start)

    def _daily(self, source: str, d: dt.date, history: bool) -> dict:
        """Landing time and kind of the daily folder ``date=d`` of ``source`` (writer kwargs).
        ``history``: the source's first folder carries rows from before the start."""
        kind = S.KIND_INITIAL_LOAD if history and d == self.cfg.start else S.KIND_EXPORT
        return dict(landed_at=S.daily_landed_at(source, d), kind=kind)

    # -- main -----------------------------------------------------------------------------
    def run(self) -> SimSummary:
        cfg = self.cfg
        t_start = t = time.perf_counter()
        # the grids start on the company's first day, once and for every entry point
        record_first_day(self.root, cfg.start, by=f"simulator, profile {cfg.profile!r}")
        for d in (self.landing, self.truth_dir):
            if d.exists():
                shutil.rmtree(d)
            d.mkdir(parents=True)
        self.writer = LandingWriter(self.landing)
        self.say(
            f"simulating '{cfg.profile}': {cfg.accounts:,} accounts, {cfg.start} .. {cfg.end}"
            f" (exclusive), seed {cfg.seed}"
        )
        company = simulate_company(cfg, self.rng_company)
        t = self._tick("company", t)
        self.say(
            f"  company: {len(company.events):,} CRM events, {len(company.lines):,} invoice "
            f"lines, {len(company.users):,} directory users"
        )
        events = T.events_frame(company)
        lines = T.lines_frame(company)
        status = T.account_status_daily(cfg, company, events)
        segments = {a["account_id"]: a["segment"] for a in company.accounts}
        ops, salaries = ops_and_salaries(cfg, self.rng_fin, status, segments)
        revenue = T.recognized_revenue_daily(cfg, lines)
        profit = T.unit_profit_monthly(
            cfg, lines, revenue, status, ops, salaries, C.CAPEX_LIFE_MONTHS
        )
        truth = {
            "account_status_daily": status,
            "recognized_revenue_daily": revenue,
            "unit_profit_monthly": profit,
            "account_growth_weekly": T.account_growth(cfg, events, status, "week"),
            "account_growth_monthly": T.account_growth(cfg, events, status, "month"),
        }
        t = self._tick("truth_business", t)
        users = self._users(company)
        exp = assign(
            cfg,
            self.rng_exp,
            users.created_us,
            users.deact_us,
            users.account,
            users.user_ids,
            self._account_created_us(company),
            pl.Series(company.account_ids),
        )
        truth["experiments"] = exp.truth
        # faults on the business sources, then the landing files
        self.say(
            "  writing landing zone: billing, CRM, directory, ops, salaries, filings, experiments"
        )
        self._plan_malformed()
        self._write_invoices(lines)
        self._write_crm(company, events)
        self._write_directory(company, users)
        self._write_monthly(ops, salaries, profit)
        self._write_experiments(exp)
        t = self._tick("landing_business", t)
        self.say(f"  clicks: {cfg.days} days x {cfg.batches_per_day} batches/day ...")
        click_faults = plan_faults(cfg, self.rng_faults)
        sim = ClickSim(
            cfg,
            self.rng_clicks,
            users,
            (exp.boost_from, exp.boost_to, exp.boost_mult),
            self.writer,
            pl.Series(company.account_ids),
            self.truth_dir,
        )
        clicks = sim.run(click_faults)
        truth["engagement_daily"] = clicks.engagement
        t = self._tick("clicks", t)
        self._click_manifest(clicks, click_faults, sim)
        for name, df in truth.items():
            df.write_parquet(self.truth_dir / f"{name}.parquet", compression="zstd")
        self._write_schedule()
        self._write_manifest()
        t = self._tick("truth_write", t)
        truth_rows = {name: df.height for name, df in truth.items()}
        if cfg.user_level_truth:
            truth_rows["engagement_users_daily"] = (
                pl.scan_parquet(self.truth_dir / "engagement_users_daily.parquet")
                .select(pl.len())
                .collect()
                .item()
            )
        return SimSummary(
            data_root=str(self.root),
            profile=cfg.profile,
            seed=cfg.seed,
            start=cfg.start.isoformat(),
            end=cfg.end.isoformat(),
            seconds=round(time.perf_counter() - t_start, 2),
            sources=dict(self.writer.stats),
            truth=truth_rows,
            fault_counts=self.manifest["counts"],
            landing_bytes=sum(s["bytes"] for s in self.writer.stats.values()),
            truth_bytes=sum(p.stat().st_size for p in self.truth_dir.glob("*")),
            timings=self.timings,
        )

    # -- users ----------------------------------------------------------------------------
    def _users(self, company: Company) -> Users:
        """Directory users alive at some point in range, as arrays for the click model."""
        start_s = (midnight(self.cfg.start) - EPOCH).total_seconds()
        raw = company.users.take(company.users.deactivated_s > start_s)
        company.users = raw
        n = len(raw)
        rng = self.rng_users
        offsets = np.array([C.REGION_UTC_OFFSET[a["region"]] for a in company.accounts])
        account = raw.account
        licensed = raw.licensed
        prop = np.minimum(rng.lognormal(-0.125, 0.5, n), 3.0)
        deact = np.where(np.isinf(raw.deactivated_s), 0, raw.deactivated_s).astype(np.int64)
        return Users(
            user_ids=pl.select(
                pl.format("U{}", pl.int_range(1, n + 1).cast(pl.String).str.zfill(7))
            )
            .to_series()
            .alias("user_id"),
            account=account,
            created_us=raw.created_s.astype(np.int64) * 1_000_000,
            deact_us=np.where(np.isinf(raw.deactivated_s), NEVER, deact * 1_000_000),
            licensed=licensed,
            team=rng.choice(len(C.USER_TEAMS), size=n, p=C.USER_TEAM_P).astype(np.int64),
            offset_h=offsets[account] if n else np.zeros(0, dtype=np.int64),
            propensity=prop,
        )

    def _account_created_us(self, company: Company) -> np.ndarray:
        return np.array([epoch_us(a["created_at"]) for a in company.accounts], dtype=np.int64)

    # -- malformed rows -------------------------------------------------------------------
    def _plan_malformed(self) -> None:
        self.malformed_plan: dict[str, list[str]] = defaultdict(list)
        for source, kind, n in self.cfg.faults.malformed:
            if source != "clicks":
                self.malformed_plan[source].extend([kind] * n)

    def _inserts_for(
        self, source: K.LandingSource, files: dict[str, pl.DataFrame]
    ) -> dict[str, list[tuple[int, dict | str]]]:
        """Pick files and positions for this source's malformed rows; build the broken rows."""
        rng = self.rng_faults
        kinds = self.malformed_plan.get(source.name, [])
        names = sorted(k for k, v in files.items() if v.height)
        out: dict[str, list] = defaultdict(list)
        for j, kind in enumerate(kinds):
            if not names:
                break
            rel = names[int(rng.integers(0, len(names)))]
            base = files[rel]
            template = base.row(int(rng.integers(0, base.height)), named=True)
            row, column = _corrupt(source, kind, template, j + 1)
            out[rel].append((row, column, kind))
        placed: dict[str, list[tuple[int, dict | str]]] = {}
        for rel, items in out.items():
            n = files[rel].height
            positions = sorted(rng.choice(n + len(items), size=len(items), replace=False).tolist())
            placed[rel] = []
            for pos, (row, column, kind) in zip(positions, items, strict=True):
                placed[rel].append((pos, row))
                self.malformed.append(
                    dict(source=source.name, kind=kind, file=rel, row=pos + 1, column=column)
                )
        return placed

    # -- billing --------------------------------------------------------------------------
    def _invoice_feed(self, lines: pl.DataFrame) -> pl.DataFrame:
        """Change feed: a line lands when issued (open) and again when paid or voided; refund
        lines land once. Rows before the start collapse to one row in the first folder."""
        cols = list(K.INVOICE_LINES.columns)
        issued = lines.filter(pl.col("kind").str.ends_with("refund").not_()).with_columns(
            pl.lit(None, pl.Datetime("us")).alias("paid_at"),
            pl.lit("open").alias("status"),
            pl.col("issued_at").alias("t"),
        )
        paid = lines.filter(pl.col("status") == "paid").with_columns(pl.col("paid_at").alias("t"))
        void = lines.filter(pl.col("status") == "void").with_columns(pl.col("voided_at").alias("t"))
        refunds = lines.filter(pl.col("status") == "refunded").with_columns(
            pl.col("issued_at").alias("t")
        )
        feed = pl.concat([x.select(*cols, "t") for x in (issued, paid, void, refunds)])
        start = midnight(self.cfg.start)
        feed = feed.with_columns(pl.col("t").dt.date().alias("day")).with_columns(
            pl.max_horizontal("day", pl.lit(self.cfg.start)).alias("export_day")
        )
        pre = feed.filter(pl.col("t") < start).sort("t").group_by("line_id").last()
        post = feed.filter(pl.col("t") >= start)
        # the initial load keeps lines still in service at the start, and lines that change
        # later (issued before the start, paid after it), so every later row has its first row
        changes_later = post["line_id"].unique().implode()
        pre = pre.filter(
            (pl.col("service_end") > self.cfg.start) | pl.col("line_id").is_in(changes_later)
        )
        return pl.concat(
            [
                pre.select(*cols, "t", "day", "export_day"),
                post.select(*cols, "t", "day", "export_day"),
            ]
        ).sort(["export_day", "t", "line_id"])

    def _write_invoices(self, lines: pl.DataFrame) -> None:
        cfg, rng = self.cfg, self.rng_faults
        feed = self._invoice_feed(lines)
        # which month will the filings get wrong? (chosen first so missing invoices avoid it)
        complete = [m for m in T.month_starts(cfg) if T.next_month(m) <= cfg.end]
        if cfg.faults.filing_mismatch_in_horizon_only:
            horizon = dt.datetime.combine(cfg.end, dt.time(0), tzinfo=dt.UTC)
            complete = [m for m in complete if S.filing_landed_at(m) < horizon]
        self.filing_months: list[dt.date] = []
        if cfg.faults.filing_mismatch_months and complete:
            pool = complete[1:] if len(complete) > 1 else complete
            idx = rng.choice(
                len(pool), size=min(cfg.faults.filing_mismatch_months, len(pool)), replace=False
            )
            self.filing_months = sorted(pool[int(i)] for i in idx)
        # missing invoices: plain monthly invoices issued in range, no refunds, not void
        inv = lines.group_by("invoice_id").agg(
            pl.col("account_id").first(),
            pl.col("issued_at").min(),
            pl.col("service_start").min(),
            pl.col("service_end").max(),
            (pl.col("billing") == "monthly").all().alias("monthly"),
            (pl.col("kind") == "regular").all().alias("regular"),
            pl.col("status").is_in(["paid", "open"]).all().alias("live"),
            pl.col("amount_usd").sum().round(2).alias("amount_usd"),
            pl.col("paid_at").first(),
            pl.len().alias("lines"),
        )
        refunded = lines.filter(pl.col("kind").str.ends_with("refund"))["invoice_id"].unique()
        fm = [m for m in self.filing_months]
        cand = inv.filter(
            pl.col("monthly")
            & pl.col("regular")
            & pl.col("live")
            & (pl.col("issued_at") >= midnight(cfg.start))
            & ~pl.col("invoice_id").is_in(refunded.implode())
        ).sort("invoice_id")
        if fm:
            # keep the two profit faults in different months when the range allows it
            bad = pl.lit(False)
            for m in fm:
                bad = bad | (
                    (pl.col("service_start") < T.next_month(m)) & (pl.col("service_end") > m)
                )
            elsewhere = cand.filter(~bad)
            cand = elsewhere if elsewhere.height >= cfg.faults.missing_invoices else cand
        k = min(cfg.faults.missing_invoices, cand.height)
        picked = (
            cand[sorted(rng.choice(cand.height, size=k, replace=False).tolist())] if k else cand[:0]
        )
        missing = []
        for row in picked.iter_rows(named=True):
            gap = (
                T.recognized_revenue_daily(
                    cfg, lines.filter(pl.col("invoice_id") == row["invoice_id"])
                )
                .with_columns(pl.col("date").dt.truncate("1mo").alias("m"))
                .group_by("m")
                .agg(pl.col("recognized_revenue_usd").sum())
                .sort("m")
            )
            missing.append(
                dict(
                    account_id=row["account_id"],
                    invoice_id=row["invoice_id"],
                    month=row["service_start"].strftime("%Y-%m"),
                    service_start=row["service_start"].isoformat(),
                    service_end=row["service_end"].isoformat(),
                    amount_usd=row["amount_usd"],
                    paid_at=_iso(row["paid_at"]),
                    lines=row["lines"],
                    revenue_gap_by_month={
                        m.strftime("%Y-%m"): round(v, 6) for m, v in gap.iter_rows()
                    },
                )
            )
        feed = feed.filter(~pl.col("invoice_id").is_in(picked["invoice_id"].implode()))
        self.manifest["missing_invoices"] = missing
        history = feed.filter(pl.col("t") < midnight(cfg.start)).height > 0
        # billing landing faults (own rng stream): corrections first, then late exports
        feed = feed.with_row_index("_i")
        corrections = self._plan_corrections(feed)
        late_days = self._plan_late_exports(feed, {c["day"] for c in corrections})
        true_feed = feed
        for c in corrections:
            feed = feed.with_columns(
                pl.when(pl.col("_i") == c["_i"])
                .then(pl.lit(c["wrong"]))
                .otherwise(pl.col("amount_usd"))
                .alias("amount_usd")
            )
        day_of: dict[str, dt.date] = {}
        files = {}
        for (d,), part in feed.partition_by(
            "export_day", as_dict=True, maintain_order=True
        ).items():
            rel = f"{K.INVOICE_LINES.path}/{_folder('daily', d)}/{FILE}.csv"
            files[rel] = to_text(part, K.INVOICE_LINES)
            day_of[rel] = d
        inserts = self._inserts_for(K.INVOICE_LINES, files)
        corrected_files = {
            f"{K.INVOICE_LINES.path}/{_folder('daily', c['day'])}/{FILE}.csv" for c in corrections
        }
        # schema drift: one mid-range invoices file renames amount_usd (only with the flag)
        drift = []
        if cfg.schema_drift:
            names = sorted(
                r
                for r in files
                if r not in inserts and files[r].height and r not in corrected_files
            )
            rel = names[len(names) // 2]
            drift.append(
                dict(
                    source="invoice_lines",
                    file=rel,
                    renamed={"amount_usd": "amount"},
                    rows=files[rel].height,
                )
            )
        self.manifest["schema_drift"] = drift
        late_rows = []
        for rel, text in files.items():
            rename = {"amount_usd": "amount"} if any(x["file"] == rel for x in drift) else None
            d = day_of[rel]
            when = self._daily("invoice_lines", d, history)
            if d in late_days:
                when = dict(
                    landed_at=S.daily_landed_at("invoice_lines", d, late_days[d]),
                    kind=S.KIND_LATE_EXPORT,
                )
                late_rows.append(
                    dict(
                        export_date=d.isoformat(),
                        file=rel,
                        rows=text.height + len(inserts.get(rel, [])),
                        days_late=late_days[d],
                        normal_landed_at=_iso(S.daily_landed_at("invoice_lines", d)),
                        landed_at=_iso(when["landed_at"]),
                    )
                )
            self.writer.write_csv("invoice_lines", rel, text, inserts.get(rel, []), rename, **when)
        self.manifest["late_billing_exports"] = late_rows
        self.manifest["corrected_billing_exports"] = [
            self._write_correction(c, true_feed, inserts) for c in corrections
        ]

    def _plan_corrections(self, feed: pl.DataFrame) -> list[dict]:
        """Pick the lines that land with a wrong amount and are corrected 14-21 days later.

        Candidates: the latest landed row of a line (so the correction is the newest version),
        not void, |amount| >= 1, service period inside the range, exported after the initial
        load in a month that has closed when the correction lands, with the correction landing
        before the horizon end. At most one correction per folder.
        """
        cfg = self.cfg
        n = cfg.faults.corrected_billing_exports
        if n <= 0:
            return []
        lo, hi = CORRECTION_DELAY_DAYS
        delays: dict[dt.date, tuple[int, int]] = {}
        for d in feed["export_day"].unique().sort().to_list():
            # the export lands on d+1 (00:30); the correction k days later: on d+1+k
            k_min = max(lo, (T.next_month(d) - d).days - 1)
            k_max = min(hi, (cfg.end - d).days - 2)
            if d > cfg.start and k_min <= k_max:
                delays[d] = (k_min, k_max)
        latest = feed.group_by("line_id", maintain_order=True).last()
        cands = latest.filter(
            pl.col("export_day").is_in(list(delays))
            & (pl.col("status") != "void")
            & (pl.col("amount_usd").abs() >= 1)
            & (pl.col("service_end") > cfg.start)
            & (pl.col("service_start") < cfg.end)
        ).sort("_i")
        rng = self.rng_billing
        out: list[dict] = []
        used: set[dt.date] = set()
        for j in rng.permutation(cands.height).tolist() if cands.height else []:
            r = cands.row(j, named=True)
            if r["export_day"] in used:
                continue
            used.add(r["export_day"])
            k_min, k_max = delays[r["export_day"]]
            wrong = round(r["amount_usd"] * CORRECTION_WRONG_FACTOR, 2)
            out.append(
                dict(
                    _i=r["_i"],
                    day=r["export_day"],
                    wrong=wrong,
                    delay_days=int(rng.integers(k_min, k_max + 1)),
                )
            )
            if len(out) == n:
                break
        return sorted(out, key=lambda c: c["_i"])

    def _plan_late_exports(self, feed: pl.DataFrame, exclude: set[dt.date]) -> dict[dt.date, int]:
        """Daily billing folders that land late: export day -> days late. Never the initial
        load or a corrected folder; a late folder still lands before the horizon end."""
        cfg = self.cfg
        n, late = cfg.faults.late_billing_exports, cfg.faults.late_billing_export_days
        if n <= 0:
            return {}
        last = cfg.end - dt.timedelta(days=late + 2)  # lands on d + 1 + late < end
        days = [
            d
            for d in feed["export_day"].unique().sort().to_list()
            if cfg.start < d <= last and d not in exclude
        ]
        k = min(n, len(days))
        idx = self.rng_billing.choice(len(days), size=k, replace=False).tolist() if k else []
        return {days[i]: late for i in sorted(idx)}

    def _write_correction(
        self, c: dict, true_feed: pl.DataFrame, inserts: dict[str, list[tuple[int, dict]]]
    ) -> dict:
        """Land the correction file of one wrongly exported line; return its manifest entry."""
        cfg, d = self.cfg, c["day"]
        folder = f"{K.INVOICE_LINES.path}/{_folder('daily', d)}"
        original, rel = f"{folder}/{FILE}.csv", f"{folder}/{CORRECTION_FILE}.csv"
        row = true_feed.filter(pl.col("_i") == c["_i"])
        r = row.row(0, named=True)
        # 1-based data row of the wrong row in the original file, malformed rows counted
        index = true_feed.filter(pl.col("export_day") == d)["_i"].to_list().index(c["_i"])
        taken = {pos for pos, _ in inserts.get(original, [])}
        free = [i for i in range(len(taken) + index + 1) if i not in taken]
        file_row = free[index] + 1
        landed = S.daily_landed_at("invoice_lines", d)
        corrected_at = landed + dt.timedelta(days=c["delay_days"])
        self.writer.write_csv(
            "invoice_lines",
            rel,
            to_text(row, K.INVOICE_LINES),
            landed_at=corrected_at,
            kind=S.KIND_CORRECTION,
        )
        wrong_row = row.with_columns(pl.lit(c["wrong"]).alias("amount_usd"))

        def by_month(frame: pl.DataFrame) -> dict[str, float]:
            daily = T.recognized_revenue_daily(cfg, frame)
            monthly = (
                daily.group_by(pl.col("date").dt.strftime("%Y-%m").alias("m"))
                .agg(pl.col("recognized_revenue_usd").sum())
                .sort("m")
            )
            return dict(monthly.iter_rows())

        true_rev, wrong_rev = by_month(row), by_month(wrong_row)
        return dict(
            line_id=r["line_id"],
            invoice_id=r["invoice_id"],
            account_id=r["account_id"],
            status=r["status"],
            export_date=d.isoformat(),
            original_file=original,
            original_row=file_row,
            original_landed_at=_iso(landed),
            wrong_amount_usd=c["wrong"],
            corrected_amount_usd=r["amount_usd"],
            correction_file=rel,
            correction_landed_at=_iso(corrected_at),
            delay_days=c["delay_days"],
            affected_months=sorted(true_rev),
            revenue_error_by_month={
                m: round(wrong_rev[m] - true_rev[m], 6) for m in sorted(true_rev)
            },
        )

    # -- CRM ------------------------------------------------------------------------------
    def _write_crm(self, company: Company, events: pl.DataFrame) -> None:
        cfg, rng = self.cfg, self.rng_faults
        start, end = midnight(cfg.start), midnight(cfg.end)
        ev = events.with_columns(pl.int_range(pl.len()).over("account_id").alias("k"))
        nxt = ev.select(
            "account_id",
            "event_id",
            "event_type",
            "effective_at",
            pl.col("event_id").shift(-1).over("account_id").alias("next_id"),
            pl.col("event_type").shift(-1).over("account_id").alias("next_type"),
            pl.col("effective_at").shift(-1).over("account_id").alias("next_at"),
        )
        skipped: list[dict] = []
        used_accounts: set[str] = set()

        def pick(kind: str, cands: pl.DataFrame, n: int) -> None:
            cands = cands.filter(~pl.col("account_id").is_in(list(used_accounts)))
            # prefer steps inside the simulated range; top up from the initial-load history
            chosen = []
            for part in (
                cands.filter(pl.col("effective_at") >= start),
                cands.filter(pl.col("effective_at") < start),
            ):
                one = part.unique("account_id", keep="first", maintain_order=True)
                one = one.filter(~pl.col("account_id").is_in([r["account_id"] for r in chosen]))
                k = min(n - len(chosen), one.height)
                idx = sorted(rng.choice(one.height, size=k, replace=False).tolist()) if k else []
                chosen.extend(one.row(i, named=True) for i in idx)
            for r in chosen:
                used_accounts.add(r["account_id"])
                skipped.append(
                    dict(
                        account_id=r["account_id"],
                        missing_event_type=kind,
                        missing_event_id=r["event_id"],
                        missing_effective_at=_iso(r["effective_at"]),
                        successor_event_id=r["next_id"],
                        successor_event_type=r["next_type"],
                        successor_effective_at=_iso(r["next_at"]),
                    )
                )

        # renewal_opened whose term closes with renewed/churned inside the horizon
        ro = (
            ev.filter(pl.col("event_type").is_in(["renewal_opened", "renewed", "churned"]))
            .with_columns(
                pl.col("event_id").shift(-1).over("account_id").alias("next_id"),
                pl.col("event_type").shift(-1).over("account_id").alias("next_type"),
                pl.col("effective_at").shift(-1).over("account_id").alias("next_at"),
            )
            .filter(
                (pl.col("event_type") == "renewal_opened")
                & pl.col("next_type").is_in(["renewed", "churned"])
            )
            .sort("event_id")
        )
        pick("renewal_opened", ro, cfg.faults.skipped_renewal_opened)
        sub = nxt.filter(
            (pl.col("event_type") == "subscribed")
            & pl.col("next_id").is_not_null()
            & (pl.col("next_type") != "renewal_opened")
        ).sort("event_id")
        pick("subscribed", sub, cfg.faults.skipped_subscribed)
        skipped_ids = {s["missing_event_id"] for s in skipped}
        successor_ids = {s["successor_event_id"] for s in skipped}
        # late CRM events: recorded 14-45 days (late_crm_delay_days) after they took effect
        lo, hi = cfg.faults.late_crm_delay_days
        late_c = ev.filter(
            (pl.col("effective_at") >= start)
            & (pl.col("effective_at") < end - dt.timedelta(days=lo + 1))
            & ~pl.col("event_id").is_in(list(skipped_ids | successor_ids))
            & (pl.col("event_type") != "account_created")
        ).sort("event_id")
        k = min(cfg.faults.late_crm_events, late_c.height)
        late_rows = []
        recorded = dict(zip(ev["event_id"], ev["recorded_at"], strict=True))
        for i in sorted(rng.choice(late_c.height, size=k, replace=False).tolist()) if k else []:
            r = late_c.row(i, named=True)
            room = min(hi, (end - r["effective_at"]).total_seconds() / 86400 - 1)
            delay = dt.timedelta(days=float(rng.uniform(lo, room)))
            recorded[r["event_id"]] = r["effective_at"] + delay
            late_rows.append(
                dict(
                    event_id=r["event_id"],
                    account_id=r["account_id"],
                    event_type=r["event_type"],
                    effective_at=_iso(r["effective_at"]),
                    recorded_at=_iso(recorded[r["event_id"]]),
                    landing_date=recorded[r["event_id"]].date().isoformat(),
                )
            )
        self.manifest["skipped_steps"] = skipped
        self.manifest["late_crm_events"] = late_rows
        landed = (
            ev.filter(~pl.col("event_id").is_in(list(skipped_ids)))
            .with_columns(
                pl.col("event_id")
                .replace_strict(recorded, return_dtype=pl.Datetime("us"))
                .alias("recorded_at"),
            )
            .with_columns(
                pl.max_horizontal(pl.col("recorded_at").dt.date(), pl.lit(cfg.start)).alias("day"),
                pl.when(pl.col("status").is_in(["created", "churned"]))
                .then(None)
                .otherwise(pl.col("plan"))
                .alias("plan"),
            )
            .sort(["day", "recorded_at", "event_id"])
        )
        history = landed.filter(pl.col("recorded_at") < start).height > 0
        landed = _utc(landed, ("effective_at", "recorded_at"))
        files, day_of = {}, {}
        for (d,), part in landed.partition_by("day", as_dict=True, maintain_order=True).items():
            rel = f"{K.ACCOUNT_EVENTS.path}/{_folder('daily', d)}/{FILE}.jsonl"
            files[rel], day_of[rel] = to_json_frame(part, K.ACCOUNT_EVENTS), d
        inserts = self._inserts_for(K.ACCOUNT_EVENTS, files)
        for rel, frame in files.items():
            self.writer.write_jsonl(
                "account_events",
                rel,
                frame,
                inserts.get(rel, []),
                **self._daily("account_events", day_of[rel], history),
            )
        # accounts: created rows land on the creation day (history in the first folder)
        acc = (
            pl.DataFrame(company.accounts)
            .with_columns(pl.col("created_at").cast(pl.Datetime("us")))
            .with_columns(
                pl.max_horizontal(pl.col("created_at").dt.date(), pl.lit(cfg.start)).alias("day")
            )
        )
        history = acc.filter(pl.col("created_at") < start).height > 0
        acc = _utc(acc, ("created_at",)).sort(["day", "created_at", "account_id"])
        files, day_of = {}, {}
        for (d,), part in acc.partition_by("day", as_dict=True, maintain_order=True).items():
            rel = f"{K.ACCOUNTS.path}/{_folder('daily', d)}/{FILE}.csv"
            files[rel], day_of[rel] = to_text(part, K.ACCOUNTS), d
        inserts = self._inserts_for(K.ACCOUNTS, files)
        for rel, text in files.items():
            self.writer.write_csv(
                "accounts",
                rel,
                text,
                inserts.get(rel, []),
                **self._daily("accounts", day_of[rel], history),
            )

    # -- directory ------------------------------------------------------------------------
    def _write_directory(self, company: Company, users: Users) -> None:
        cfg = self.cfg
        ids = company.account_ids
        base = pl.DataFrame(
            {
                "user_id": users.user_ids,
                "account_id": pl.Series(ids).gather(users.account),
                "team": pl.Series(C.USER_TEAMS).gather(users.team),
                "licensed": users.licensed,
                "created_at": users.created_us,
                "deactivated_at": pl.Series(users.deact_us).replace(NEVER, None),
            },
        ).with_columns(
            pl.col("created_at", "deactivated_at").cast(pl.Datetime("us")),
        )
        created = base.with_columns(
            pl.lit(None, pl.Datetime("us")).alias("deactivated_at"), pl.col("created_at").alias("t")
        )
        deact = base.filter(pl.col("deactivated_at").is_not_null()).with_columns(
            pl.col("deactivated_at").alias("t")
        )
        start = midnight(cfg.start)
        # pre-start users land once, in their state at the start (initial load)
        created = created.filter(pl.col("t") >= start).vstack(
            base.filter(pl.col("created_at") < start).with_columns(
                pl.when(pl.col("deactivated_at") < start)
                .then(pl.col("deactivated_at"))
                .otherwise(None)
                .alias("deactivated_at"),
                pl.col("created_at").alias("t"),
            )
        )
        deact = deact.filter(pl.col("t") >= start)
        feed = (
            pl.concat([created, deact])
            .with_columns(pl.max_horizontal(pl.col("t").dt.date(), pl.lit(cfg.start)).alias("day"))
            .sort(["day", "t", "user_id"])
        )
        history = feed.filter(pl.col("t") < start).height > 0
        feed = _utc(feed, ("created_at", "deactivated_at"))
        files, day_of = {}, {}
        for (d,), part in feed.partition_by("day", as_dict=True, maintain_order=True).items():
            rel = f"{K.DIRECTORY_USERS.path}/{_folder('daily', d)}/{FILE}.csv"
            files[rel], day_of[rel] = to_text(part, K.DIRECTORY_USERS), d
        inserts = self._inserts_for(K.DIRECTORY_USERS, files)
        for rel, text in files.items():
            self.writer.write_csv(
                "directory_users",
                rel,
                text,
                inserts.get(rel, []),
                **self._daily("directory_users", day_of[rel], history),
            )

    # -- monthly sources ------------------------------------------------------------------
    def _write_monthly(
        self, ops: pl.DataFrame, salaries: pl.DataFrame, profit: pl.DataFrame
    ) -> None:
        for source, frame in ((K.OPS_EXPENSES, ops), (K.SALARIES, salaries)):
            files = {
                f"{source.path}/month={m}/{FILE}.csv": to_text(part, source)
                for (m,), part in frame.partition_by(
                    "month", as_dict=True, maintain_order=True
                ).items()
            }
            inserts = self._inserts_for(source, files)
            for rel, text in files.items():
                month = dt.date.fromisoformat(rel.split("month=")[1][:7] + "-01")
                self.writer.write_csv(
                    source.name,
                    rel,
                    text,
                    inserts.get(rel, []),
                    landed_at=S.monthly_landed_at(month),
                    kind=S.KIND_EXPORT,
                )
        mismatches = []
        for row in profit.filter(pl.col("is_complete_month")).iter_rows(named=True):
            m = row["month_start"]
            rev = round(row["recognized_revenue_usd"], 2)
            exp = round(row["total_expenses_usd"], 2)
            filed_rev, filed_exp = rev, exp
            if m in self.filing_months:
                filed_rev = round(rev * 1.035 + 250.0, 2)
                filed_exp = round(exp * 0.98, 2)
                mismatches.append(
                    dict(
                        month=f"{m:%Y-%m}",
                        true_revenue_usd=rev,
                        filed_revenue_usd=filed_rev,
                        true_expenses_usd=exp,
                        filed_expenses_usd=filed_exp,
                    )
                )
            text = to_text(
                pl.DataFrame(
                    {
                        "month": [f"{m:%Y-%m}"],
                        "revenue_usd": [filed_rev],
                        "expenses_usd": [filed_exp],
                    }
                ),
                K.FILINGS,
            )
            self.writer.write_csv(
                "filings",
                f"{K.FILINGS.path}/month={m:%Y-%m}/{FILE}.csv",
                text,
                landed_at=S.filing_landed_at(m),
                kind=S.KIND_FILING,
            )
        self.manifest["filing_mismatches"] = mismatches

    # -- experiments ----------------------------------------------------------------------
    def _write_experiments(self, exp) -> None:
        self.writer.write_csv(
            "experiment_registry",
            K.EXPERIMENT_REGISTRY.path,
            to_text(exp.registry, K.EXPERIMENT_REGISTRY),
            landed_at=S.registry_landed_at(self.cfg.start),
            kind=S.KIND_REGISTRY,
        )
        a = (
            exp.assignments.with_columns(
                pl.from_epoch("assigned_at", "us").dt.replace_time_zone("UTC")
            )
            .with_columns(pl.col("assigned_at").dt.date().alias("day"))
            .sort(["day", "assigned_at", "experiment_id", "unit_id"])
        )
        history = a.filter(pl.col("day") < self.cfg.start).height > 0
        files, day_of = {}, {}
        for (d,), part in a.partition_by("day", as_dict=True, maintain_order=True).items():
            rel = f"{K.EXPERIMENT_ASSIGNMENTS.path}/{_folder('daily', d)}/{FILE}.csv"
            files[rel], day_of[rel] = to_text(part, K.EXPERIMENT_ASSIGNMENTS), d
        inserts = self._inserts_for(K.EXPERIMENT_ASSIGNMENTS, files)
        for rel, text in files.items():
            self.writer.write_csv(
                "experiment_assignments",
                rel,
                text,
                inserts.get(rel, []),
                **self._daily("experiment_assignments", day_of[rel], history),
            )

    # -- manifest -------------------------------------------------------------------------
    def _click_manifest(self, clicks, faults, sim: ClickSim) -> None:
        outage = None
        if faults.outage_start_us is not None:
            outage = dict(
                start=_iso_us(faults.outage_start_us),
                end=_iso_us(faults.outage_end_us),
                dates=sorted(clicks.outage_lost_by_date),
                lost_events_by_date=clicks.outage_lost_by_date,
                lost_events=sum(clicks.outage_lost_by_date.values()),
            )
        self.manifest["clicks"] = dict(
            outage=outage,
            late=clicks.late,
            delayed=clicks.delayed,
            duplicates=clicks.duplicates,
            batches=clicks.batches,
            landed_rows=clicks.landed_rows,
            unique_events=clicks.unique_events,
            unfilled_quotas=sim.unfilled,
        )
        self.malformed.extend(clicks.malformed)

    def _write_schedule(self) -> None:
        """``truth/landing_schedule.parquet``: when each landed file lands. Refuses to write a
        schedule that misses a file of the landing zone (or lists one that is not there)."""
        schedule = S.schedule_frame(self.writer.schedule)
        on_disk = sorted(
            p.relative_to(self.landing).as_posix() for p in self.landing.rglob("*") if p.is_file()
        )
        listed = sorted(schedule["path"])
        if listed != on_disk:
            extra, missing = set(listed) - set(on_disk), set(on_disk) - set(listed)
            raise RuntimeError(
                f"landing schedule out of step with landing/: not on disk {sorted(extra)[:5]}, "
                f"not scheduled {sorted(missing)[:5]}, listed twice "
                f"{len(listed) - len(set(listed))}"
            )
        schedule.write_parquet(self.truth_dir / S.SCHEDULE_FILE, compression="zstd")

    def _write_manifest(self) -> None:
        cfg, m = self.cfg, self.manifest
        clicks = m["clicks"]
        counts = dict(
            late_clicks=len(clicks["late"]),
            delayed_clicks=len(clicks["delayed"]),
            duplicate_clicks=len(clicks["duplicates"]),
            outage_lost_clicks=clicks["outage"]["lost_events"] if clicks["outage"] else 0,
            skipped_crm_steps=len(m["skipped_steps"]),
            late_crm_events=len(m["late_crm_events"]),
            missing_invoices=len(m["missing_invoices"]),
            late_billing_exports=len(m["late_billing_exports"]),
            corrected_billing_exports=len(m["corrected_billing_exports"]),
            filing_mismatches=len(m["filing_mismatches"]),
            malformed_rows=len(self.malformed),
            schema_drift_files=len(m["schema_drift"]),
        )
        gap_months = sorted({k for x in m["missing_invoices"] for k in x["revenue_gap_by_month"]})
        doc = dict(
            profile=cfg.profile,
            seed=cfg.seed,
            start=cfg.start.isoformat(),
            end_exclusive=cfg.end.isoformat(),
            schema_drift=cfg.schema_drift,
            counts=counts,
            clicks=clicks,
            crm=dict(skipped_steps=m["skipped_steps"], late_events=m["late_crm_events"]),
            billing=dict(
                missing_invoices=m["missing_invoices"],
                late_exports=m["late_billing_exports"],
                corrections=m["corrected_billing_exports"],
            ),
            filings=dict(mismatches=m["filing_mismatches"]),
            malformed=self.malformed,
            schema_drift_files=m["schema_drift"],
            fault_free_scope=dict(
                outage_dates=clicks["outage"]["dates"] if clicks["outage"] else [],
                months_with_missing_invoices=gap_months,
                accounts_with_skipped_steps=sorted({s["account_id"] for s in m["skipped_steps"]}),
                filing_mismatch_months=[x["month"] for x in m["filing_mismatches"]],
            ),
        )
        self.manifest["counts"] = counts
        (self.truth_dir / "fault_manifest.json").write_text(json.dumps(doc, indent=1) + "\n")


def _corrupt(
    source: K.LandingSource, kind: str, template: dict, n: int
) -> tuple[dict | str, str | None]:
    """A malformed row based on a real one, with its own key so no valid row is lost."""
    row = dict(template)
    key = next(iter(source.columns))
    if key in row and row[key] is not None:
        row[key] = f"{row[key]}-M{n}"
    if kind == "broken_json":
        text = json.dumps(row)
        return text[: max(20, len(text) // 2)], None  # cut mid-record: not parseable JSON
    if kind == "bad_number":
        col = next(c for c, t in source.columns.items() if t == pl.Float64)
        row[col] = "12O.5x"
        return row, col
    if kind == "bad_timestamp":
        col = next(
            c
            for c, t in source.columns.items()
            if isinstance(t, pl.Datetime) and c in source.required
        )
        row[col] = "2025-13-40T25:61:00Z"
        return row, col
    if kind == "missing_required":
        col = next(c for c in source.required if c != key)
        row[col] = None
        return row, col
    raise ValueError(f"unknown malformed kind {kind!r}")


def _utc(df: pl.DataFrame, cols: tuple[str, ...]) -> pl.DataFrame:
    return df.with_columns(
        pl.col(c).cast(pl.Datetime("us")).dt.replace_time_zone("UTC") for c in cols
    )


def _iso(t: dt.datetime | None) -> str | None:
    return None if t is None else t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _iso_us(us: int) -> str:
    return dt.datetime.fromtimestamp(us / 1e6, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


__all__ = ["SimConfig", "SimSummary", "make_config", "simulate"]
