"""A late CRM event rebuilds its day and every later growth partition — and nothing before it.

Real path end to end: JSONL landed in the CRM export folder -> the staging asset
``stg_account_events`` -> growth assets, all materialized in one (ephemeral) Dagster instance;
the keeper sensor is evaluated with ``dg.build_sensor_context`` against that instance under a
moved Dagster clock, and what it requests is run, until it requests nothing (the daemon's path is
covered by the replay tests, pacific_assets_tests/operations/test_daemon_replay.py).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from pacific_assets.growth.assets import (
    DAILY,
    HISTORY,
    MONTHLY,
    WEEKLY,
    account_growth,
    account_growth_monthly,
    account_status_daily,
    account_status_history,
)
from pacific_assets.growth.schedules import SCHEDULES, growth_late_crm_events
from pacific_assets.orchestration.dagster_compat import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
    moved_clock,
)
from pacific_assets.resources import LakeResource
from pacific_assets.staging.assets import STAGING_ASSETS
from pacific_assets.storage.lake import Lake
from pacific_assets_tests.growth.fixtures import (
    event,
    land_events,
    materialize,
    materialize_growth,
    terms,
)
from pacific_assets_tests.lakes import delivered_through

STG = next(a for a in STAGING_ASSETS if a.key == dg.AssetKey("stg_account_events"))
ON_TIME = [
    event("A1", "A", "account_created", "2025-09-01"),
    event("A2", "A", "subscribed", "2025-09-02", **terms("growth", 10, "2026-09-02", 500.0)),
    event("B1", "B", "account_created", "2025-09-03"),
    event("B2", "B", "subscribed", "2025-09-04", **terms("starter", 4, "2026-09-04", 100.0)),
    event("B3", "B", "seats_changed", "2025-10-08", **terms("starter", 6, "2026-09-04", 150.0)),
]
LATE_TERMS = terms("growth", 14, "2026-09-02", 700.0)
#: Effective Wednesday 2025-09-24, recorded two weeks later: lands in the 2025-10-08 export.
LATE = event("A3", "A", "seats_changed", "2025-09-24", recorded="2025-10-08T10:00", **LATE_TERMS)


@pytest.fixture
def instance() -> dg.DagsterInstance:
    """A real instance (in-memory event log): materializations and their storage ids."""
    return dg.DagsterInstance.ephemeral()


ASSETS = {
    a.key.to_user_string(): a
    for a in (STG, account_status_history, account_status_daily, account_growth,
              account_growth_monthly)
}  # fmt: skip


def definitions(lake_resource: LakeResource) -> dg.Definitions:
    return dg.Definitions(
        assets=list(ASSETS.values()),
        schedules=SCHEDULES,  # when a missing partition is due (the sensor's grace)
        sensors=[growth_late_crm_events],
        resources={"lake": lake_resource},
    )


def evaluate(defs: dg.Definitions, instance: dg.DagsterInstance, now: dt.datetime):
    with (
        moved_clock(lambda: now),
        dg.build_sensor_context(
            instance=instance, definitions=defs, resources={"lake": defs.resources["lake"]}
        ) as context,
    ):
        return growth_late_crm_events(context)


def drive(defs, res, instance, now: dt.datetime) -> dict[str, list[str] | None]:
    """Evaluate and run what is requested until nothing is: asset -> keys rebuilt (None for the
    unpartitioned history), in the order the sensor asked."""
    built: dict[str, list[str] | None] = {}
    for _ in range(10):
        result = evaluate(defs, instance, now)
        if not result.run_requests:
            return built
        for request in result.run_requests:
            tables = [k.to_user_string() for k in request.asset_selection]
            first, last = (
                request.tags.get(ASSET_PARTITION_RANGE_START_TAG),
                request.tags.get(ASSET_PARTITION_RANGE_END_TAG),
            )
            with moved_clock(lambda: now):
                materialize([ASSETS[t] for t in tables], res, instance, first, last)
            for t in tables:
                if first is None or ASSETS[t].partitions_def is None:
                    built[t] = None
                else:
                    pdef = ASSETS[t].partitions_def
                    keys = pdef.get_partition_keys_in_range(dg.PartitionKeyRange(first, last))
                    built.setdefault(t, []).extend(keys)
    raise AssertionError(f"the sensor never settled: {built}")


def days(first: str, last: str) -> list[str]:
    return [d.isoformat() for d in pl.date_range(pl.date(*map(int, first.split("-"))),
                                                 pl.date(*map(int, last.split("-"))), eager=True)]  # fmt: skip


def test_late_event_requests_its_day_and_every_later_partition_only(
    tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    root = tmp_path / "data"
    lake, res = Lake(root), LakeResource(data_root=str(root))
    defs = definitions(res)
    # -- the pipeline is up to date through 10-12 (Sunday) --------------------------------------------
    land_events(lake, ON_TIME)
    delivered_through(root, dt.date(2025, 10, 12))
    materialize([STG], res, instance, "2025-09-01", "2025-10-12")
    materialize_growth(res, "2025-09-01", "2025-10-12", instance)
    monday = dt.datetime(2025, 10, 13, 6, tzinfo=dt.UTC)  # the week 10-06..10-12 closed
    first = evaluate(defs, instance, monday)
    assert not first.run_requests, first.skip_reason

    # -- the late event is exported on 10-08 and staged ------------------------------------------
    before = lake.read(DAILY).sort("date", "account_id")
    weeks_before = lake.read(WEEKLY).sort("week_start")
    land_events(lake, [LATE])
    materialize([STG], res, instance, "2025-10-08", "2025-10-08")
    # -- the sensor rebuilds exactly what the late event touched; nothing before 09-24 -----------
    assert drive(defs, res, instance, monday) == {
        HISTORY: None,
        DAILY: days("2025-09-24", "2025-10-12"),  # the effective day .. the newest built day
        WEEKLY: ["2025-09-22", "2025-09-29", "2025-10-06"],
        MONTHLY: ["2025-09-01"],  # October is not closed yet
    }
    after = lake.read(DAILY).sort("date", "account_id")
    early = pl.col("date") < pl.date(2025, 9, 24)
    assert after.filter(early).equals(before.filter(early))
    a_late = after.filter((pl.col("account_id") == "A") & ~early)
    assert a_late["mrr_usd"].unique().to_list() == [700.0]  # status carries forward
    weeks = lake.read(WEEKLY).sort("week_start")
    assert weeks.filter(pl.col("week_start") < pl.date(2025, 9, 22)).equals(
        weeks_before.filter(pl.col("week_start") < pl.date(2025, 9, 22))
    )
    late_week = weeks.filter(pl.col("week_start") == pl.date(2025, 9, 22)).row(0, named=True)
    assert (late_week["expansion_mrr_usd"], late_week["seats_added"]) == (200.0, 4)

    # ... and the partial rebuild equals a rebuild from scratch with all events
    fresh_root = tmp_path / "fresh"
    fresh, fresh_res = Lake(fresh_root), LakeResource(data_root=str(fresh_root))
    land_events(fresh, [*ON_TIME, LATE])
    delivered_through(fresh_root, dt.date(2025, 10, 12))
    materialize([STG], fresh_res, dg.DagsterInstance.ephemeral(), "2025-09-01", "2025-10-12")
    materialize_growth(fresh_res, "2025-09-01", "2025-10-12")
    for table, key in ((DAILY, ["date", "account_id"]), (WEEKLY, ["week_start"]),
                       (MONTHLY, ["month_start"])):  # fmt: skip
        assert lake.read(table).sort(key).equals(fresh.read(table).sort(key)), table

    # -- nothing new staged: nothing to do, however often it is asked ----------------------------
    assert drive(defs, res, instance, monday) == {}

    # -- an on-time day is its schedule's until the sensor's grace has passed ---------------------
    land_events(lake, [event("C1", "C", "account_created", "2025-10-13")])
    materialize([STG], res, instance, "2025-10-13", "2025-10-13")
    before_schedule = dt.datetime(2025, 10, 14, 1, 10, tzinfo=dt.UTC)  # schedule due 01:30
    # the history reads every staged event: it is stale and rebuilt at once; the new day is not
    # requested (the rebuilt history changes no built day: C1 takes effect after them)
    assert drive(defs, res, instance, before_schedule) == {HISTORY: None}
    assert "nothing due yet" in evaluate(defs, instance, before_schedule).skip_reason.skip_message
    # ... the schedule did not run (daemon down): the sensor builds the day it left behind
    missed = dt.datetime(2025, 10, 14, 1, 50, tzinfo=dt.UTC)
    assert drive(defs, res, instance, missed) == {DAILY: ["2025-10-13"]}
