"""Small pure-logic tests: the outage window rule (what the late-data path rebuilds is tested on
the real daemon, pacific_assets_tests/operations/test_daemon_*.py)."""

from __future__ import annotations

import datetime as dt

import polars as pl

from pacific_assets.dagster_compat import moved_clock
from pacific_assets.engagement.outage import OutageConfig, baseline_dependents, judge_days


def _hourly(
    days: list[dt.date], per_hour: int, holes: dict[dt.date, dict[int, int]]
) -> pl.DataFrame:
    rows = [
        {"date": d, "hour": h, "events": holes.get(d, {}).get(h, per_hour)}
        for d in days
        for h in range(24)
    ]
    return pl.DataFrame(rows, schema={"date": pl.Date, "hour": pl.Int32, "events": pl.Int64})


DAYS = [dt.date(2025, 9, 1) + dt.timedelta(days=i) for i in range(35)]
TARGET = DAYS[-1]
NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
HOLE = {TARGET: {13: 0, 14: 0, 15: 0}}


def _verdict(per_hour: int, holes: dict, now: dt.datetime = NOW, days=DAYS) -> dict:
    verdict, _ = judge_days(_hourly(days, per_hour, holes), [days[-1]], now, OutageConfig())
    return verdict.row(0, named=True)


def test_outage_window_flags_a_real_hole():
    row = _verdict(100, HOLE)  # 3 empty hours where 300 clicks were expected
    assert (row["is_complete"], row["outage_hours"]) == (False, "13,14,15")
    assert row["missing_events_estimate"] == 300
    assert row["reason"].startswith("outage suspected")


def test_outage_rule_ignores_what_noise_can_explain():
    # the same 3-hour hole at 20 clicks/hour: 60 expected is within the burst noise
    assert _verdict(20, HOLE)["is_complete"]
    # a dip to 30 % of the baseline is not "far below"
    row = _verdict(100, {TARGET: {13: 30, 14: 30, 15: 30}})
    assert row["is_complete"] and row["outage_hours"] is None


def test_outage_rule_waits_for_the_sla_window_and_for_history():
    soon = dt.datetime.combine(TARGET, dt.time(20), dt.UTC)
    row = _verdict(100, HOLE, now=soon)  # a day not yet 48 h old as a whole is not judged
    assert not row["is_complete"] and row["reason"].startswith("provisional")
    # 47 h after the day's end: still provisional, even for the early hours of the hole
    row = _verdict(
        100, HOLE, now=dt.datetime.combine(TARGET, dt.time(23), dt.UTC) + dt.timedelta(hours=48)
    )
    assert not row["is_complete"] and row["reason"].startswith("provisional")
    # 48 h after the day's end: judged
    day_end = dt.datetime.combine(TARGET + dt.timedelta(days=1), dt.time(), dt.UTC)
    row = _verdict(100, HOLE, now=day_end + dt.timedelta(hours=48))
    assert row["reason"].startswith("outage suspected")
    row = _verdict(100, {}, days=DAYS[:3])  # no earlier weeks: unchecked, complete
    assert row["is_complete"] and row["reason"].startswith("unchecked")


def test_a_day_changes_the_verdict_of_the_same_weekday_in_the_next_weeks():
    # 2025-09-03 (a Wednesday) is in the baseline of the next four Wednesdays, up to the last day
    day = dt.date(2025, 9, 3)
    assert baseline_dependents(day, 4, dt.date(2025, 12, 31)) == [
        dt.date(2025, 9, 10),
        dt.date(2025, 9, 17),
        dt.date(2025, 9, 24),
        dt.date(2025, 10, 1),
    ]
    # ...that exist: the last day is included, later ones are not
    assert baseline_dependents(day, 4, dt.date(2025, 9, 17)) == [
        dt.date(2025, 9, 10),
        dt.date(2025, 9, 17),
    ]
    assert baseline_dependents(day, 2, dt.date(2025, 12, 31)) == [
        dt.date(2025, 9, 10),
        dt.date(2025, 9, 17),
    ]


def test_as_of_pins_now_for_a_reproducible_rerun():
    assert OutageConfig(as_of="2025-10-02T08:30:00Z").now() == dt.datetime(
        2025, 10, 2, 8, 30, tzinfo=dt.UTC
    )
    with moved_clock(lambda: dt.datetime(2025, 11, 5, 1, 0, tzinfo=dt.UTC)):
        assert OutageConfig().now() == dt.datetime(2025, 11, 5, 1, 0, tzinfo=dt.UTC)
