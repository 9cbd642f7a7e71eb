"""Kafka outage detection: a window of hours far below its weekday/hour baseline.

When Kafka is down, clicks are lost, not late: nothing will ever fill the hole, and a naive
dashboard would show "users disengaged". So every UTC hour of a day gets a baseline: the median
of the same weekday and hour over the previous ``baseline_weeks`` weeks (days that have a
stg_clicks partition; at least ``min_history_weeks`` of them, or the day is "unchecked").

A day's hours are *judged* once the whole day ended more than 48 h ago (the SLA: later clicks may
still be on their way). Judging the whole day at once keeps the verdict a function of the data
and one clock fact (settled or not), so a day is re-judged exactly once, when it settles, not
every hour (docs/engagement.md). A judged hour with fewer than ``outage_ratio`` x its baseline events is *low*. Single low
hours happen by chance (clicks come in bursts of sessions), so the verdict is about windows: a run
of consecutive low hours is an outage when together they

- expected at least ``min_expected_events``,
- received fewer than ``outage_ratio`` x that, and
- fell short by at least ``min_shortfall_sigmas`` x sqrt(``burstiness`` x expected): hourly click
  counts vary about ``burstiness`` times more than a Poisson count, because a session brings
  several clicks at once.

A day with an outage window is incomplete. Measured on the simulated "test" company (~20
clicks/hour): a one-hour rule flagged 42 of 100 days; ratio + minimum alone still flagged a
chance dip (12 clicks vs 52 expected in one hour); with the noise test only the injected 6-hour
outage (0 vs ~280 expected, 7.5 sigmas) is flagged. The smallest detectable total loss is about
100 expected clicks (a 1-hour outage at busy production volume, a few hours in the test company).

Because the baseline of day d uses the same weekday of the previous weeks, new events on day d
can change the verdict for d, d+7, ..., d+7·baseline_weeks — the late-data sensor requests those
too (``baseline_dependents``). A window crossing midnight is judged per day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import dagster as dg
import polars as pl

from pacific_assets.engagement.columns import ENGAGEMENT_COMPLETENESS
from pacific_assets.orchestration import clock

SLA_WINDOW = dt.timedelta(hours=48)

COMPLETENESS_SCHEMA = ENGAGEMENT_COMPLETENESS.polars()


class OutageConfig(dg.Config):
    """Knobs of the outage rule; ``as_of`` pins "now" (ISO timestamp) for reproducible reruns."""

    baseline_weeks: int = 4
    min_history_weeks: int = 2
    min_expected_events: int = 50
    outage_ratio: float = 0.25
    #: Clicks come in sessions, so hourly counts vary more than Poisson: variance ≈ burstiness x
    #: mean. A window's shortfall must exceed min_shortfall_sigmas of that noise.
    burstiness: float = 4.0
    min_shortfall_sigmas: float = 5.0
    as_of: str | None = None

    def now(self) -> dt.datetime:
        return clock.parse_instant(self.as_of) if self.as_of else clock.now()


def baseline_dependents(day: dt.date, weeks: int, last: dt.date) -> list[dt.date]:
    """Days whose baseline includes ``day``: the same weekday in the next ``weeks`` weeks."""
    out = [day + dt.timedelta(days=7 * k) for k in range(1, weeks + 1)]
    return [d for d in out if d <= last]


def hourly_baseline(
    hourly: pl.DataFrame, days: Iterable[dt.date], now: dt.datetime, config: OutageConfig
) -> pl.DataFrame:
    """One row per (date, hour) of ``days``: observed, expected, history_weeks, settled, low.

    ``hourly`` has date, hour, events for the days and their history; days without a stg_clicks
    partition are absent (unknown), days with a partition have all 24 hours (zeros included).
    """
    hist = hourly.rename({"date": "hist_date", "events": "hist_events"})
    target = (
        pl.DataFrame({"date": sorted(set(days))}, schema={"date": pl.Date})
        .join(pl.DataFrame({"hour": list(range(24))}, schema={"hour": pl.Int32}), how="cross")
        .join(hourly, on=["date", "hour"], how="left")
        .rename({"events": "observed"})
    )
    lags = pl.DataFrame({"weeks_back": list(range(1, config.baseline_weeks + 1))})
    history = (
        target.select("date", "hour")
        .join(lags, how="cross")
        .with_columns(hist_date=pl.col("date") - pl.duration(days=7 * pl.col("weeks_back")))
        .join(hist, on=["hist_date", "hour"], how="inner")
        .group_by("date", "hour")
        .agg(expected=pl.col("hist_events").median(), history_weeks=pl.len())
    )
    cutoff = now - SLA_WINDOW
    return (
        target.join(history, on=["date", "hour"], how="left")
        .with_columns(
            pl.col("history_weeks").fill_null(0),
            settled=(pl.col("date").cast(pl.Datetime("us", "UTC")) + pl.duration(hours=24))
            <= pl.lit(cutoff),
        )
        .with_columns(
            judged=pl.col("settled") & (pl.col("history_weeks") >= config.min_history_weeks),
        )
        .with_columns(
            low=pl.col("judged")
            & (pl.col("expected") > 0)
            & (pl.col("observed").fill_null(0) < config.outage_ratio * pl.col("expected")),
        )
        .sort("date", "hour")
    )


def outage_windows(detail: pl.DataFrame, config: OutageConfig) -> pl.DataFrame:
    """Runs of consecutive low hours that together are far below their baseline."""
    runs = (
        detail.with_columns(
            run=(pl.col("low") != pl.col("low").shift(1).over("date"))
            .fill_null(True)
            .cum_sum()
            .over("date")
        )
        .filter(pl.col("low"))
        .group_by("date", "run")
        .agg(
            hours=pl.col("hour"),
            expected=pl.col("expected").sum(),
            observed=pl.col("observed").fill_null(0).sum(),
        )
    )
    shortfall = pl.col("expected") - pl.col("observed")
    noise = (config.burstiness * pl.col("expected")).sqrt()
    return runs.filter(
        (pl.col("expected") >= config.min_expected_events)
        & (pl.col("observed") < config.outage_ratio * pl.col("expected"))
        & (shortfall >= config.min_shortfall_sigmas * noise)
    ).sort("date", "run")


def judge_days(
    hourly: pl.DataFrame, days: Iterable[dt.date], now: dt.datetime, config: OutageConfig
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(one completeness row per day, the per-hour detail) for ``days``."""
    detail = hourly_baseline(hourly, days, now, config)
    windows = outage_windows(detail, config)
    rows = []
    for (day,), d in detail.group_by("date", maintain_order=True):
        w = windows.filter(pl.col("date") == day)
        hours = sorted(h for hs in w["hours"].to_list() for h in hs)
        hours_text = ",".join(f"{h:02d}" for h in hours) or None
        expected_out = float(w["expected"].sum()) if w.height else 0.0
        observed_out = int(w["observed"].sum()) if w.height else 0
        weeks = int(d["history_weeks"].max() or 0)
        has_baseline = weeks >= config.min_history_weeks
        if d["observed"].is_null().any():
            complete, reason = False, "stg_clicks partition missing: materialize it first"
        elif w.height:
            complete = False
            reason = (
                f"outage suspected: UTC hours {hours_text} had {observed_out} events vs "
                f"~{round(expected_out)} expected (weekday/hour baseline); clicks were lost "
                "in ingestion, this is not disengagement"
            )
        elif not bool(d["settled"].all()):
            complete, reason = False, "provisional: the day is not 48 h old yet, not judged"
        elif not has_baseline:
            complete = True
            reason = f"unchecked: fewer than {config.min_history_weeks} earlier weeks of baseline"
        else:
            complete, reason = True, None
        rows.append(
            {
                "date": day,
                "is_complete": complete,
                "reason": reason,
                "expected_events": round(d["expected"].fill_null(0).sum())
                if has_baseline
                else None,
                "observed_events": int(d["observed"].fill_null(0).sum()),
                "judged_hours": int(d["judged"].sum()),
                "outage_hours": hours_text,
                "missing_events_estimate": round(expected_out - observed_out),
                "baseline_weeks": weeks,
            }
        )
    verdict = (
        pl.DataFrame(rows, schema=COMPLETENESS_SCHEMA) if rows else COMPLETENESS_SCHEMA.to_frame()
    )
    return verdict, detail
