"""The catch-up sensor: range requests for missing upstream partitions, then the rollup."""

from __future__ import annotations

import datetime as dt

import dagster as dg

from pacific_assets.investor import publish
from pacific_assets.investor.assets import executive_weekly, investor_rollup
from pacific_assets.investor.catchup import contiguous_ranges, investor_catchup, plan_catchup
from pacific_assets.investor.spark import spark_resource_from_env
from pacific_assets.resources import LakeResource
from pacific_assets_tests.investor.fixture import write_fixture
from pacific_assets_tests.investor.stubs import upstream_stubs


def _graph():
    return dg.Definitions(
        assets=[*upstream_stubs(), investor_rollup, executive_weekly],
        resources={"lake": LakeResource(), "pyspark": spark_resource_from_env()},  # lazy: no JVM
    ).resolve_asset_graph()


def _requested(requests) -> set[tuple[str, str, str]]:
    return {
        (
            r.asset_selection[0].to_user_string(),
            r.tags["dagster/asset_partition_range_start"],
            r.tags["dagster/asset_partition_range_end"],
        )
        for r in requests
    }


def _publish_september(lake) -> None:
    """Pretend September is closed, so the window is October (and the weeks around it)."""
    (publish.month_dir(lake, dt.date(2025, 9, 1)) / "v=1").mkdir(parents=True)


def test_contiguous_ranges() -> None:
    keys = ["2025-10-03", "2025-10-01", "2025-10-02", "2025-10-09", "2025-11-01"]
    assert contiguous_ranges(keys) == [
        ("2025-10-01", "2025-10-03"),
        ("2025-10-09", "2025-10-09"),
        ("2025-11-01", "2025-11-01"),
    ]


def test_missing_partitions_become_range_runs(lake) -> None:
    write_fixture(lake, skip={"user_engagement_daily": {"2025-10-14", "2025-10-15", "2025-10-16"}})
    _publish_september(lake)
    now = dt.datetime(2025, 11, 1, 6, tzinfo=dt.UTC)  # October just ended
    requests = plan_catchup(lake, dg.DagsterInstance.ephemeral(), _graph(), now)
    assert _requested(requests) == {
        ("user_engagement_daily", "2025-10-14", "2025-10-16"),
        # the weekly pack's previous week has no growth row yet in the fixture
        ("account_growth", "2025-10-20", "2025-10-20"),
        # October's rollup waits for its inputs; the open week (Oct 27) is not a partition yet
    }
    assert all(r.run_key.endswith(":2025-11-01") for r in requests)  # once a day per range
    by_asset = {r.asset_selection[0].to_user_string(): r for r in requests}
    assert by_asset["user_engagement_daily"].tags["pacific/catchup"] == "missing"


def test_month_close_run_is_requested_once_inputs_are_complete(lake) -> None:
    write_fixture(lake)
    _publish_september(lake)
    now = dt.datetime(2025, 11, 1, 6, tzinfo=dt.UTC)
    requested = _requested(plan_catchup(lake, dg.DagsterInstance.ephemeral(), _graph(), now))
    assert ("investor_rollup", "2025-10-01", "2025-10-01") in requested
    # Published months leave the window; nothing is asked for September.
    assert not any(first.startswith("2025-09") for _, first, _ in requested)


def test_sensor_evaluates_with_the_lake_resource(lake) -> None:
    write_fixture(lake)
    resources = {
        "lake": LakeResource(data_root=str(lake.root)),
        "pyspark": spark_resource_from_env(),
    }
    defs = dg.Definitions(
        assets=[*upstream_stubs(), investor_rollup, executive_weekly],
        sensors=[investor_catchup],
        resources=resources,
    )
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(
            instance=instance, definitions=defs, resources={"lake": resources["lake"]}
        )
        result = defs.resolve_sensor_def("investor_catchup").evaluate_tick(context)
    # Today is far past the fixture's October: the open month has nothing landed at all.
    assert result.run_requests
    assert {r.asset_selection[0].to_user_string() for r in result.run_requests} <= {
        t.key.to_user_string() for t in upstream_stubs()
    } | {"investor_rollup", "executive_weekly"}
