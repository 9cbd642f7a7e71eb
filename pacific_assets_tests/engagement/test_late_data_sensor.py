"""Late data re-materializes only what it touched, and the result equals a full recomputation.

Six weeks of clicks land (one simulator-style batch per day) and are built in one range run; the
late-data sensor, on a fresh instance over that up-to-date lake, requests nothing. Then one batch
lands with late events for three old dates. The sensor rebuilds exactly those three days for
stg_clicks and user_engagement_daily, and those days plus the same weekday of later weeks (their
outage baseline includes the day) for the completeness and hours assets. The result equals
recomputing everything from scratch. (The same, under the daemon's own iterations:
pacific_assets_tests/operations/test_daemon_replay.py.)
"""

from __future__ import annotations

import datetime as dt
import shutil

import dagster as dg
import polars as pl
import pytest

from pacific_assets.engagement.assets import ASSETS
from pacific_assets.engagement.schedules import clicks_late_data_sensor, engagement_daily_schedule
from pacific_assets.orchestration.dagster_compat import moved_clock
from pacific_assets.storage.lake import Lake
from pacific_assets_tests.engagement.helpers import (
    click,
    land_simulator_batch,
    materialize,
    read_sorted,
    resources,
    write_directory,
)
from pacific_assets_tests.runs import drive_sensor

FIRST, LAST = dt.date(2025, 9, 1), dt.date(2025, 10, 12)  # 6 weeks of data, from the grid's start
#: Monday 10-13, before the daily engagement schedule (02:30): every built day is up to date
NOW = dt.datetime(2025, 10, 13, 2, tzinfo=dt.UTC)
LATE = {"2025-09-12": 5, "2025-09-20": 3, "2025-10-01": 4}
ORDER = [
    "stg_clicks",
    "user_engagement_daily",
    "engagement_completeness",
    "engagement_hours",
    "engagement_hours_by_team",
]
TABLES = ORDER


def _days(first: dt.date, last: dt.date) -> list[str]:
    return [(first + dt.timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]


def _background(day: dt.date) -> list[dict]:
    """Deterministic office-hours clicks: 18 users x 10 hours x 2 events (fewer on weekends)."""
    out = []
    users = 18 if day.weekday() < 5 else 4
    for u in range(users):
        for h in range(8, 18):
            m = (7 * u + 3 * h + day.toordinal()) % 50
            for k, minute in enumerate((m, m + 5)):
                out.append(
                    click(
                        f"bg-{day}-{u}-{h}-{k}",
                        f"u{u}",
                        f"acct{u % 3}",
                        f"{day}T{h:02d}:{minute:02d}:00Z",
                    )
                )
    return out


def _setup(lake: Lake) -> None:
    write_directory(
        lake,
        [
            {
                "user_id": f"u{u}",
                "account_id": f"acct{u % 3}",
                "team": ("sales", "eng")[u % 2],
                "licensed": True,
                "created_at": "2025-09-01T00:00:00Z",
                "export_date": "2025-09-01",
            }
            for u in range(18)
        ],
    )
    for i, day in enumerate(_days(FIRST, LAST)):
        d = dt.date.fromisoformat(day)
        land_simulator_batch(lake, i + 1, f"{d + dt.timedelta(days=1)}T01:00:00Z", _background(d))


def _late_batch(lake: Lake) -> None:
    records = [
        click(
            f"late-{day}-{k}", f"u{k}", f"acct{k % 3}", f"{day}T{20 + k % 3:02d}:{10 * k:02d}:00Z"
        )
        for day, n in LATE.items()
        for k in range(n)
    ]
    land_simulator_batch(lake, 100, "2025-10-13T05:00:00Z", records)


def _defs(lake: Lake) -> dg.Definitions:
    return dg.Definitions(
        assets=ASSETS,
        schedules=[engagement_daily_schedule],  # when a missing day is due
        sensors=[clicks_late_data_sensor],
        resources=resources(lake),
    )


def _drive(lake, defs, instance) -> dict[str, list[str]]:
    def execute(assets, first, last):
        return materialize(lake, assets, first, last, instance=instance)

    built = drive_sensor(defs, "clicks_late_data_sensor", NOW, instance, execute)
    return {t: sorted(keys or []) for t, keys in built.items()}


def _changed_days(before: pl.DataFrame, after: pl.DataFrame, days: list[str]) -> set[str]:
    def rows(frame: pl.DataFrame, day: str) -> pl.DataFrame:
        return frame.filter(pl.col("date").cast(pl.String) == day)

    return {d for d in days if not rows(before, d).equals(rows(after, d))}


def _expected_baseline_days(dates: list[str]) -> list[str]:
    out = set(dates)
    for d in dates:
        day = dt.date.fromisoformat(d)
        out |= {
            (day + dt.timedelta(7 * k)).isoformat()
            for k in range(1, 5)
            if day + dt.timedelta(7 * k) <= LAST
        }
    return sorted(out)


@pytest.mark.timeout(300)
def test_late_events_rematerialize_exactly_their_days(lake, tmp_path):
    _setup(lake)
    defs = _defs(lake)
    # The sensor needs a persistent instance; runs go to an in-memory one (no sqlite fsyncs).
    runs = dg.DagsterInstance.ephemeral()
    with dg.instance_for_test() as instance, moved_clock(lambda: NOW):
        # the lake is built once (as make demo does); a fresh instance over it requests nothing
        assert materialize(lake, ["raw_clicks"], instance=runs).success  # registers batches
        assert materialize(lake, ORDER, FIRST.isoformat(), LAST.isoformat(), instance=runs).success
    with dg.instance_for_test() as instance:
        assert _drive(lake, defs, instance) == {}

        before = read_sorted(lake, "engagement_completeness")
        _late_batch(lake)
        assert materialize(lake, ["raw_clicks"], instance=runs).success
        late_days = sorted(LATE)
        baseline_days = _expected_baseline_days(late_days)
        built = _drive(lake, defs, instance)
        # a later weekday whose verdict did not change (its baseline moved, its row did not)
        # is not re-read by the hours: they are rebuilt for the late days and changed verdicts
        after = read_sorted(lake, "engagement_completeness")
        changed = _changed_days(before, after, baseline_days)
        hours_days = sorted(set(late_days) | changed)
        assert built == {
            "stg_clicks": late_days,
            "user_engagement_daily": late_days,
            "engagement_completeness": baseline_days,
            "engagement_hours": hours_days,
            "engagement_hours_by_team": hours_days,
        }
        assert len(baseline_days) == 11  # 3 days + 8 later same-weekdays within the data
        assert _drive(lake, defs, instance) == {}

    # late events are counted per partition
    stg = lake.read("stg_clicks").filter(pl.col("is_late"))
    per_day = dict(stg.group_by(pl.col("event_date").cast(pl.String)).len().iter_rows())
    assert per_day == LATE
    hours = lake.read("engagement_hours")
    late_hours = hours.group_by(pl.col("date").cast(pl.String)).agg(pl.col("late_events").sum())
    assert dict(late_hours.filter(pl.col("late_events") > 0).iter_rows()) == LATE

    # equals a full recomputation from scratch (same landing, fresh lake, one range run)
    fresh = Lake(tmp_path / "fresh")
    shutil.copytree(lake.landing, fresh.landing)
    shutil.copytree(
        lake.table_dir("stg_directory_users"), fresh.table_dir("stg_directory_users"), symlinks=True
    )
    with moved_clock(lambda: NOW):  # the same instant: the same days are still provisional
        result = materialize(fresh, ORDER, FIRST.isoformat(), LAST.isoformat())
    assert result.success
    for table in TABLES:
        incremental, full = read_sorted(lake, table), read_sorted(fresh, table)
        assert incremental.height == full.height > 0, table
        assert incremental.equals(full), table
