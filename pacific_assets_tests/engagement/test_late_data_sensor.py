"""Late data re-materializes only what it touched, and the result equals a full recomputation.

Five weeks of clicks land (one simulator-style batch per day) and the late-data sensor, on a fresh
instance, requests exactly the days that have data (not the partition history since 2025-09-01).
Then one batch lands with late events for three old dates. The sensor requests exactly those three
days for stg_clicks and user_engagement_daily, and those days plus the same weekday of later weeks
(their outage baseline includes the day) for the completeness/hours assets. Running exactly those
partitions gives the same tables as recomputing everything from scratch.
"""

from __future__ import annotations

import datetime as dt
import shutil

import dagster as dg
import polars as pl
import pytest

from pacific_assets.engagement.assets import ASSETS
from pacific_assets.engagement.sensors import clicks_late_data_sensor
from pacific_assets.storage.lake import Lake
from pacific_assets_tests.engagement.helpers import (
    click,
    land_simulator_batch,
    materialize,
    read_sorted,
    resources,
    write_directory,
)

FIRST, LAST = dt.date(2025, 9, 8), dt.date(2025, 10, 12)  # 5 weeks of data
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
        assets=ASSETS, sensors=[clicks_late_data_sensor], resources=resources(lake)
    )


def _tick(defs, instance, cursor):
    context = dg.build_sensor_context(
        instance=instance, cursor=cursor, definitions=defs, resources=defs.resources
    )
    return clicks_late_data_sensor(context)


def _requested(result) -> dict[str, list[str]]:
    (request,) = result.run_requests
    subset = request.asset_graph_subset
    return {
        key.to_user_string(): sorted(subset.get_partitions_subset(key).get_partition_keys())
        for key in subset.asset_keys
    }


def _groups(requested: dict[str, list[str]]) -> list[tuple[list[str], str, str]]:
    """Consecutive days that want the same assets, in date order: (assets, start, end).

    Like a backfill, each group is one range run; date order runs every upstream day (a day's
    stg_clicks, the earlier weeks of a baseline) before the days that read it.
    """
    wanted: dict[str, list[str]] = {}
    for asset in ORDER:
        for day in requested.get(asset, []):
            wanted.setdefault(day, []).append(asset)
    groups: list[tuple[list[str], str, str]] = []
    for day in sorted(wanted):
        prev = groups[-1] if groups else None
        adjacent = prev and dt.date.fromisoformat(day) - dt.date.fromisoformat(
            prev[2]
        ) == dt.timedelta(1)
        if prev and adjacent and prev[0] == wanted[day]:
            groups[-1] = (prev[0], prev[1], day)
        else:
            groups.append((wanted[day], day, day))
    return groups


def _execute(lake: Lake, requested: dict[str, list[str]], instance) -> dict[str, set[str]]:
    """Run exactly the requested partitions; returns what materialized, per asset."""
    done: dict[str, set[str]] = {}
    for assets, start, end in _groups(requested):
        result = materialize(lake, assets, start, end, instance=instance)
        assert result.success
        for mat in result.get_asset_materialization_events():
            done.setdefault(mat.asset_key.to_user_string(), set()).add(mat.partition)
    return done


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
    with dg.instance_for_test() as instance:
        assert materialize(lake, ["raw_clicks"], instance=runs).success  # registers batches
        first = _tick(defs, instance, None)
        requested = _requested(first)
        all_days = _days(FIRST, LAST)
        assert requested == {asset: all_days for asset in ORDER}  # data days, not since 09-01
        _execute(lake, requested, runs)

        _late_batch(lake)
        assert materialize(lake, ["raw_clicks"], instance=runs).success
        second = _tick(defs, instance, first.cursor)
        requested = _requested(second)
        late_days = sorted(LATE)
        baseline_days = _expected_baseline_days(late_days)
        assert requested == {
            "stg_clicks": late_days,
            "user_engagement_daily": late_days,
            "engagement_completeness": baseline_days,
            "engagement_hours": baseline_days,
            "engagement_hours_by_team": baseline_days,
        }
        assert len(baseline_days) == 11  # 3 days + 5 later same-weekdays within the data
        assert second.run_requests[0].tags["pacific/late_events"] == str(sum(LATE.values()))
        done = _execute(lake, requested, runs)
        assert {k: sorted(v) for k, v in done.items()} == requested

        third = _tick(defs, instance, second.cursor)
        assert not third.run_requests

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
    result = materialize(fresh, ORDER, FIRST.isoformat(), LAST.isoformat())
    assert result.success
    for table in TABLES:
        incremental, full = read_sorted(lake, table), read_sorted(fresh, table)
        assert incremental.height == full.height > 0, table
        assert incremental.equals(full), table
