"""Small pure-logic tests: what the late-data sensor plans, and the outage window rule."""

from __future__ import annotations

import datetime as dt

import polars as pl

from pacific_assets.engagement.outage import OutageConfig, judge_days
from pacific_assets.engagement.sensors import plan_late_data


def test_plan_waits_for_days_that_are_not_over():
    plan = plan_late_data(
        {"2025-10-01", "2025-10-20", "2025-10-21"},
        pending={"2025-10-19"},
        first_key="2025-09-01",
        last_key="2025-10-19",
        last_data_date="2025-10-21",
    )
    assert plan.same_day == ("2025-10-01", "2025-10-19")
    assert plan.pending == ("2025-10-20", "2025-10-21")  # today and the future wait
    # 10-01 also re-judges 10-08 and 10-15 (their baseline holds 10-01), capped at the last key
    assert plan.with_baseline == ("2025-10-01", "2025-10-08", "2025-10-15", "2025-10-19")


def test_plan_ignores_dates_before_the_first_partition():
    plan = plan_late_data({"2025-08-30"}, set(), "2025-09-01", "2025-10-19", "2025-08-30")
    assert plan.empty and not plan.pending


def _hourly(days: list[dt.date], per_hour: int, holes: dict[dt.date, range]) -> pl.DataFrame:
    rows = [
        {"date": d, "hour": h, "events": 0 if h in holes.get(d, ()) else per_hour}
        for d in days
        for h in range(24)
    ]
    return pl.DataFrame(rows, schema={"date": pl.Date, "hour": pl.Int32, "events": pl.Int64})


def test_outage_window_flags_only_a_real_hole():
    days = [dt.date(2025, 9, 1) + dt.timedelta(days=i) for i in range(35)]
    target = days[-1]
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    config = OutageConfig()
    # three empty hours at 20 events/hour (60 expected) -> outage
    verdict, _ = judge_days(_hourly(days, 20, {target: range(13, 16)}), [target], now, config)
    row = verdict.row(0, named=True)
    assert (row["is_complete"], row["outage_hours"]) == (False, "13,14,15")
    assert row["missing_events_estimate"] == 60
    assert row["reason"].startswith("outage suspected")
    # one empty hour (20 expected < 50): noise, not an outage
    verdict, _ = judge_days(_hourly(days, 20, {target: range(13, 14)}), [target], now, config)
    assert verdict["is_complete"].item() and verdict["outage_hours"].item() is None
    # the same hole inside the 48 h window is not judged yet: provisional
    soon = dt.datetime.combine(target, dt.time(20), dt.UTC)
    verdict, _ = judge_days(_hourly(days, 20, {target: range(13, 16)}), [target], soon, config)
    assert not verdict["is_complete"].item()
    assert verdict["reason"].item().startswith("provisional")
    # no earlier weeks: unchecked, complete
    verdict, _ = judge_days(_hourly(days[:3], 20, {}), [days[2]], now, config)
    assert verdict["is_complete"].item() and verdict["reason"].item().startswith("unchecked")
