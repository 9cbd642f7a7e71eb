"""Small pure-logic tests: the outage window rule (what the late-data path rebuilds is tested on
the real daemon, pacific_assets_tests/operations/test_daemon_*.py)."""

from __future__ import annotations

import datetime as dt

import polars as pl

from pacific_assets.engagement.outage import (
    OutageConfig,
    baseline_dependents,
    hourly_baseline,
    judge_days,
    outage_windows,
)
from pacific_assets.orchestration.dagster_compat import moved_clock


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


# -- the two steps one by one, on counts chosen by hand ---------------------------------------
MONDAY = dt.date(2025, 10, 6)
#: Hour 0's count on the Mondays before MONDAY, 1 to 5 weeks back: the baseline is the median of
#: the 4 weeks before (10, 20, 30, 40: 25); the 5th week back (1000) and the Sunday before
#: (5000, another weekday) are not in it.
WEEKS_BACK = {1: 10, 2: 20, 3: 30, 4: 40, 5: 1000}


def _hours(day: dt.date, counts: dict[int, int], default: int = 0) -> list[dict]:
    return [{"date": day, "hour": h, "events": counts.get(h, default)} for h in range(24)]


def test_the_baseline_is_the_median_of_the_same_hour_on_the_four_weekdays_before():
    rows = _hours(MONDAY - dt.timedelta(days=1), {}, default=5000)
    for weeks, n in WEEKS_BACK.items():
        # hour 3 is 1 click every week: a baseline of 1 still judges
        # hour 1: 12, 20, 28, 36 (median 24)
        rows += _hours(MONDAY - dt.timedelta(weeks=weeks), {0: n, 1: 4 + 8 * weeks, 3: 1})
    # MONDAY: hour 0 at 6 (< 25 / 4 = 6.25: low), hour 1 at 6 (= 24 / 4: not below, not low),
    # hour 3 at 0 of 1 expected (low), hour 2 at 0 of 0 expected (nothing expected: not low)
    rows += _hours(MONDAY, {0: 6, 1: 6, 3: 0})
    hourly = pl.DataFrame(rows, schema={"date": pl.Date, "hour": pl.Int32, "events": pl.Int64})
    unknown = MONDAY + dt.timedelta(weeks=1)
    fresh = dt.date(2025, 9, 2)  # a Tuesday with a partition and no earlier week at all
    hourly = pl.concat([hourly, pl.DataFrame(_hours(fresh, {}), schema=hourly.schema)])
    detail = hourly_baseline(hourly, [unknown, MONDAY, fresh], NOW, OutageConfig())

    assert detail.schema["hour"] == pl.Int32 and detail.schema["date"] == pl.Date
    assert detail.select("date", "hour").rows() == [
        (d, h) for d in (fresh, MONDAY, unknown) for h in range(24)
    ]
    monday = detail.filter(pl.col("date") == MONDAY)
    assert monday["expected"].to_list()[:4] == [25.0, 24.0, 0.0, 1.0]
    assert monday["history_weeks"].unique().to_list() == [4]
    assert monday["observed"].to_list()[:4] == [6, 6, 0, 0]
    assert monday["low"].to_list()[:4] == [True, False, False, True]
    assert monday["settled"].all() and monday["judged"].all()
    # the unknown day: no partition (observed null, counted as 0), baseline from the weeks
    # that have one: MONDAY (6), and 2-4 weeks back (10, 20, 30) at hour 0 -> median 15
    later = detail.filter(pl.col("date") == unknown)
    assert later["observed"].null_count() == 24
    assert later["expected"][0] == 15.0 and later["history_weeks"][0] == 4
    # hour 1: (6, 12, 20, 28) -> 16; hour 3: (0, 1, 1, 1) -> 1, and unknown counts 0 < 1 / 4
    assert later["expected"].to_list()[:4] == [15.0, 16.0, 0.0, 1.0]
    assert later["low"].to_list()[:4] == [True, True, False, True]
    # no earlier week: 0 weeks of history (not null), not judged
    first = detail.filter(pl.col("date") == fresh)
    assert first["history_weeks"].unique().to_list() == [0]
    assert not first["judged"].any() and not first["low"].any()


def test_exactly_the_minimum_of_history_weeks_is_enough_to_judge():
    rows = []
    for weeks in (1, 2):
        rows += _hours(MONDAY - dt.timedelta(weeks=weeks), {}, default=100)
    rows += _hours(MONDAY, {}, default=0)
    hourly = pl.DataFrame(rows, schema={"date": pl.Date, "hour": pl.Int32, "events": pl.Int64})
    detail = hourly_baseline(hourly, [MONDAY], NOW, OutageConfig(min_history_weeks=2))
    assert detail["history_weeks"].unique().to_list() == [2]
    assert detail["judged"].all() and detail["low"].all()


def _detail(day: dt.date, low: dict[int, tuple[float, int | None]]) -> pl.DataFrame:
    """A day's per-hour detail: the hours in ``low`` are low with (expected, observed)."""
    return pl.DataFrame(
        [
            {
                "date": day,
                "hour": h,
                "low": h in low,
                "expected": low.get(h, (100.0, 100))[0],
                "observed": low.get(h, (100.0, 100))[1],
            }
            for h in range(24)
        ],
        schema={
            "date": pl.Date,
            "hour": pl.Int32,
            "low": pl.Boolean,
            "expected": pl.Float64,
            "observed": pl.Int64,
        },
    )


def test_windows_are_runs_of_low_hours_judged_together():
    loose = OutageConfig(min_shortfall_sigmas=1.0)  # noise test: shortfall >= 2 sqrt(expected)
    day, next_day = MONDAY, MONDAY + dt.timedelta(days=1)
    detail = pl.concat(
        [
            _detail(
                day,
                {
                    2: (25.0, None),  # hours 2-3: 50 expected (the minimum), 0 observed
                    3: (25.0, None),
                    5: (40.0, 10),  # hours 5-7: 100 expected, 25 observed = 25 %: not below
                    6: (30.0, 10),
                    7: (30.0, 5),
                    10: (30.0, 3),  # hours 10-11: 60 expected, 6 observed: a window
                    11: (30.0, 3),
                },
            ),
            _detail(next_day, {2: (40.0, 0), 3: (40.0, 0)}),
        ]
    )
    windows = outage_windows(detail, loose)
    # run ids count the changes of "low" within a day, from 1: hours 0-1 are run 1, 2-3 run 2,
    # 4 run 3, 5-7 run 4, 8-9 run 5, 10-11 run 6
    assert windows.select("date", "run", "hours", "expected", "observed").rows() == [
        (day, 2, [2, 3], 50.0, 0),
        (day, 6, [10, 11], 60.0, 6),
        (next_day, 2, [2, 3], 80.0, 0),
    ]
    # 49 expected is under the minimum
    assert outage_windows(_detail(day, {2: (24.0, 0), 3: (25.0, 0)}), loose).is_empty()
    # with the default 5 sigmas: 100 expected, 20 observed falls 80 short, and the noise is
    # 5 x sqrt(4 x 100) = 100: not an outage; 0 observed (100 short) is one
    assert outage_windows(_detail(day, {4: (100.0, 20)}), OutageConfig()).is_empty()
    assert outage_windows(_detail(day, {4: (100.0, 0)}), OutageConfig()).height == 1
