"""The investor keeper sensor: a rollup period is built once every input it reads is settled.

The fixture writes the input tables straight into the lake (no lineage: trusted as built); the
sensor is evaluated through Dagster's public ``evaluate_tick`` with Dagster's clock moved.
"""

from __future__ import annotations

import datetime as dt

import dagster as dg

from pacific_assets.investor.assets import executive_weekly, investor_rollup
from pacific_assets.investor.schedules import SCHEDULES, investor_catchup
from pacific_assets.investor.spark import spark_resource_from_env
from pacific_assets.orchestration.dagster_compat import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
    moved_clock,
)
from pacific_assets.resources import LakeResource
from pacific_assets_tests.investor.fixture import write_fixture
from pacific_assets_tests.investor.stubs import upstream_stubs
from pacific_assets_tests.lakes import mark_built

#: The 3rd of November, after the month-close schedule (06:00) and the sensor's grace.
AFTER_CLOSE = dt.datetime(2025, 11, 3, 7, tzinfo=dt.UTC)


def _settle(lake, now: dt.datetime, skip: dict[str, set[str]] | None = None) -> None:
    """Every other upstream partition that exists at ``now`` is built (the fixture writes only
    October), except those in ``skip``."""
    for stub in upstream_stubs():
        table = stub.key.to_user_string()
        keys = stub.partitions_def.get_partition_keys(current_time=now)
        mark_built(lake.root, table, [k for k in keys if k not in (skip or {}).get(table, set())])


def _evaluate(lake, now: dt.datetime):
    resources = {
        "lake": LakeResource(data_root=str(lake.root)),
        "pyspark": spark_resource_from_env(),  # lazy: no JVM
    }
    defs = dg.Definitions(
        assets=[*upstream_stubs(), investor_rollup, executive_weekly],
        schedules=SCHEDULES,
        sensors=[investor_catchup],
        resources=resources,
    )
    with (
        dg.instance_for_test() as instance,
        moved_clock(lambda: now),
        dg.build_sensor_context(
            instance=instance, definitions=defs, resources={"lake": resources["lake"]}
        ) as context,
    ):
        return defs.resolve_sensor_def("investor_catchup").evaluate_tick(context)


def _requested(result) -> dict[str, tuple[str, str]]:
    return {
        k.to_user_string(): (
            r.tags[ASSET_PARTITION_RANGE_START_TAG],
            r.tags[ASSET_PARTITION_RANGE_END_TAG],
        )
        for r in result.run_requests
        for k in r.asset_selection
    }


def test_closed_periods_with_settled_inputs_are_built_in_range_runs(lake) -> None:
    write_fixture(lake)
    _settle(lake, AFTER_CLOSE)
    requested = _requested(_evaluate(lake, AFTER_CLOSE))
    assert requested["investor_rollup"] == ("2025-09-01", "2025-10-01")
    first, last = requested["executive_weekly"]
    # the week that closed on 11-03 is its schedule's (Monday 07:00) until the sensor's grace ends
    assert first == "2025-09-01" and last == "2025-10-20"


def test_a_month_waits_for_its_missing_inputs_and_says_which(lake) -> None:
    skip = {"user_engagement_daily": {"2025-10-14", "2025-10-15", "2025-10-16"}}
    write_fixture(lake, skip=skip)
    _settle(lake, AFTER_CLOSE, skip)
    result = _evaluate(lake, AFTER_CLOSE)
    # September is complete: built; October waits for the three days, and so does the Monday
    # week 10-13..10-19 that holds them. The weeks before it run in one range, 10-20 alone; the
    # week 10-27 closed at 11-03 00:00 and is its schedule's (Monday 07:00) until the grace ends.
    requested = {
        (r.asset_selection[0].to_user_string(), _range(r))
        for r in result.run_requests
        if len(r.asset_selection) == 1
    }
    assert len(requested) == len(result.run_requests)
    assert requested == {
        ("investor_rollup", ("2025-09-01", "2025-09-01")),
        ("executive_weekly", ("2025-09-01", "2025-10-06")),
        ("executive_weekly", ("2025-10-20", "2025-10-20")),
    }
    # Once what it could build is built, the sensor skips and says what waits (and for what).
    mark_built(lake.root, "investor_rollup", ["2025-09-01"])
    mark_built(
        lake.root,
        "executive_weekly",
        [
            *(f"2025-{d}" for d in ("09-01", "09-08", "09-15", "09-22", "09-29", "10-06")),
            "2025-10-20",
        ],
    )
    again = _evaluate(lake, AFTER_CLOSE)
    assert again.run_requests == []
    assert again.skip_message == (
        "waiting for upstream partitions: executive_weekly 2025-10-13; investor_rollup 2025-10-01"
    )


def _range(request) -> tuple[str, str]:
    return (
        request.tags[ASSET_PARTITION_RANGE_START_TAG],
        request.tags[ASSET_PARTITION_RANGE_END_TAG],
    )


def test_before_the_month_close_the_sensor_leaves_the_month_to_its_schedule(lake) -> None:
    write_fixture(lake)
    before = dt.datetime(2025, 11, 3, 5, tzinfo=dt.UTC)  # the close runs at 06:00
    _settle(lake, before)
    requested = _requested(_evaluate(lake, before))
    assert requested["investor_rollup"] == ("2025-09-01", "2025-09-01")
