"""Kafka outage detection: an hour whose volume is far below its weekday/hour baseline.

When Kafka is down, clicks are lost, not late: nothing will ever fill the hole, and a naive
dashboard shows "users disengaged". So every UTC hour of a day is compared with the median of the
same weekday and hour over the previous ``baseline_weeks`` weeks (days that have a stg_clicks
partition). An hour is judged only when

- it ended more than 48 h ago (the SLA: later clicks may still be on their way), and
- its baseline is at least ``min_expected_events`` (quiet night hours are too noisy to judge).

A judged hour with fewer than ``outage_ratio`` x baseline events is an outage; a day with an outage
hour is incomplete. Because the baseline of day d uses the same weekday of the 4 previous weeks,
new events on day d can change the verdict for d, d+7, d+14, d+21 and d+28 — the late-data sensor
requests exactly those (``baseline_dependents``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import dagster as dg
import polars as pl

SLA_WINDOW = dt.timedelta(hours=48)

COMPLETENESS_SCHEMA = pl.Schema(
    {
        "date": pl.Date,
        "is_complete": pl.Boolean,
        "reason": pl.String,
        "expected_events": pl.Int64,
        "observed_events": pl.Int64,
        "judged_hours": pl.Int64,
        "outage_hours": pl.String,  # e.g. "03,04,05" (UTC hours), null when none
        "missing_events_estimate": pl.Int64,
        "baseline_weeks": pl.Int64,  # how many prior weeks the baseline had (0 = none)
    }
)


class OutageConfig(dg.Config):
    """Knobs of the outage rule; ``as_of`` pins "now" (ISO timestamp) for reproducible reruns."""

    baseline_weeks: int = 4
    min_expected_events: int = 10
    outage_ratio: float = 0.25
    as_of: str | None = None

    def now(self) -> dt.datetime:
        if self.as_of:
            ts = dt.datetime.fromisoformat(self.as_of)
            return ts if ts.tzinfo else ts.replace(tzinfo=dt.UTC)
        return dt.datetime.now(dt.UTC)


def baseline_dependents(day: dt.date, weeks: int, last: dt.date) -> list[dt.date]:
    """Days whose baseline includes ``day``: the same weekday in the next ``weeks`` weeks."""
    out = [day + dt.timedelta(days=7 * k) for k in range(1, weeks + 1)]
    return [d for d in out if d <= last]


def judge_days(
    hourly: pl.DataFrame,
    days: Iterable[dt.date],
    now: dt.datetime,
    config: OutageConfig,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(one completeness row per day, the per-hour detail) for ``days``.

    ``hourly`` has date, hour, events for the days themselves and their history (days without a
    stg_clicks partition are simply absent).
    """
    wanted = sorted(set(days))
    hist = hourly.rename({"date": "hist_date", "events": "hist_events"})
    target = pl.DataFrame({"date": wanted}, schema={"date": pl.Date}).join(
        pl.DataFrame({"hour": list(range(24))}, schema={"hour": pl.Int32}), how="cross"
    )
    target = target.join(hourly, on=["date", "hour"], how="left").rename({"events": "observed"})
    lags = pl.DataFrame({"weeks_back": list(range(1, config.baseline_weeks + 1))})
    history = (
        target.select("date", "hour")
        .join(lags, how="cross")
        .with_columns(hist_date=pl.col("date") - pl.duration(days=7 * pl.col("weeks_back")))
        .join(hist, on=["hist_date", "hour"], how="inner")
        .group_by("date", "hour")
        .agg(
            expected=pl.col("hist_events").median(),
            history_weeks=pl.col("hist_date").n_unique(),
        )
    )
    cutoff = now - SLA_WINDOW
    detail = (
        target.join(history, on=["date", "hour"], how="left")
        .with_columns(
            hour_end=pl.col("date").cast(pl.Datetime("us", "UTC"))
            + pl.duration(hours=pl.col("hour") + 1),
            present=pl.col("observed").is_not_null(),
        )
        .with_columns(
            settled=pl.col("hour_end") <= pl.lit(cutoff),
            judged=(pl.col("hour_end") <= pl.lit(cutoff))
            & (pl.col("expected") >= config.min_expected_events),
        )
        .with_columns(
            outage=pl.col("judged")
            & (pl.col("observed").fill_null(0) < config.outage_ratio * pl.col("expected"))
        )
        .sort("date", "hour")
    )
    rows = []
    for (day,), d in detail.group_by("date", maintain_order=True):
        present = bool(d["present"].all())
        observed = int(d["observed"].fill_null(0).sum())
        has_baseline = d["expected"].is_not_null().any()
        expected = round(d["expected"].fill_null(0).sum()) if has_baseline else None
        outage = d.filter(pl.col("outage"))
        hours = ",".join(f"{h:02d}" for h in outage["hour"].to_list()) or None
        missing = (
            round((outage["expected"] - outage["observed"].fill_null(0)).sum())
            if outage.height
            else 0
        )
        weeks = int(d["history_weeks"].max() or 0)
        if not present:
            complete, reason = False, "stg_clicks partition missing: materialize it first"
        elif outage.height:
            complete = False
            reason = (
                f"outage suspected: UTC hours {hours} had {int(outage['observed'].fill_null(0).sum())}"
                f" events vs ~{round(outage['expected'].sum())} expected"
                " (weekday/hour baseline); clicks were lost, not disengaged"
            )
        elif not bool(d["settled"].all()):
            complete, reason = False, "provisional: hours newer than 48 h are not judged yet"
        elif not has_baseline:
            complete, reason = True, "unchecked: no earlier weeks to form a baseline"
        else:
            complete, reason = True, None
        rows.append(
            {
                "date": day,
                "is_complete": complete,
                "reason": reason,
                "expected_events": expected,
                "observed_events": observed,
                "judged_hours": int(d["judged"].sum()),
                "outage_hours": hours,
                "missing_events_estimate": missing,
                "baseline_weeks": weeks,
            }
        )
    verdict = (
        pl.DataFrame(rows, schema=COMPLETENESS_SCHEMA) if rows else COMPLETENESS_SCHEMA.to_frame()
    )
    return verdict, detail
