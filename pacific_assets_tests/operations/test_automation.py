"""Schedules and sensors of the code location: all RUNNING in a fresh instance, one per cadence."""

import dagster as dg

from pacific_assets.definitions import defs
from pacific_assets.operations.factory import with_operations
from pacific_assets.operations.schedules import CADENCES, cadence_coverage
from pacific_assets_tests.operations.conftest import account_growth, build_toy_defs, toy_pipelines


def test_every_sensor_and_schedule_starts_running() -> None:
    """A fresh `dagster dev` must not need a click to start the late-data sensor & co."""
    repo = defs.get_repository_def()
    stopped = [
        s.name for s in repo.sensor_defs if s.default_status != dg.DefaultSensorStatus.RUNNING
    ]
    assert not stopped, f"sensors that would start STOPPED: {stopped}"
    stopped = [
        s.name for s in repo.schedule_defs if s.default_status != dg.DefaultScheduleStatus.RUNNING
    ]
    assert not stopped, f"schedules that would start STOPPED: {stopped}"
    names = {s.name for s in repo.sensor_defs}
    assert {"oncall_run_failure", "oncall_check_results"} <= names
    # Assets with automation conditions (ab_unit_daily follows its daily facts) need a RUNNING
    # automation sensor (the implicit one is STOPPED).
    automated = {
        n.key.to_user_string()
        for n in defs.resolve_asset_graph().asset_nodes
        if n.automation_condition is not None
    }
    assert "ab_unit_daily" in automated, automated
    assert any(isinstance(s, dg.AutomationConditionSensorDefinition) for s in repo.sensor_defs)


def test_exactly_one_schedule_per_business_cadence() -> None:
    repo = defs.get_repository_def()
    graph = defs.resolve_asset_graph()
    coverage = cadence_coverage(list(repo.schedule_defs), graph)
    keys = graph.materializable_asset_keys
    for cadence in CADENCES:
        # Every pipeline has landed: a cadence whose asset is missing is a renamed/removed asset.
        assert dg.AssetKey(cadence.key_asset) in keys, (cadence.label, cadence.key_asset)
        assert len(coverage[cadence.label]) == 1, (cadence.label, coverage[cadence.label])


def test_missing_cadences_are_created_and_a_pipeline_schedule_wins(data_root) -> None:
    toy = build_toy_defs(data_root, now="2025-10-01T00:00:00")
    repo = toy.get_repository_def()
    coverage = cadence_coverage(list(repo.schedule_defs), toy.resolve_asset_graph())
    assert coverage["daily engagement"] == ["engagement_daily_schedule"]
    assert coverage["end-of-week growth"] == ["growth_weekly_schedule"]
    assert coverage["monthly profit close"] == ["profit_monthly_close_schedule"]
    assert coverage["monthly investor close"] == ["investor_monthly_close_schedule"]
    assert coverage["Monday executive pack"] == []  # no such asset in the toy graph
    weekly = repo.get_schedule_def("growth_weekly_schedule")
    assert weekly.cron_schedule == "0 4 * * 1"
    assert weekly.default_status == dg.DefaultScheduleStatus.RUNNING

    # A pipeline that brings its own weekly growth schedule replaces the generated one.
    own_job = dg.define_asset_job("my_growth_job", selection=[account_growth])
    own = dg.build_schedule_from_partitioned_job(own_job, name="my_growth_weekly", hour_of_day=3)
    merged = with_operations(
        toy_pipelines(data_root, "2025-10-01T00:00:00", schedules=[own], jobs=[own_job])
    )
    names = {s.name for s in merged.get_repository_def().schedule_defs}
    assert "my_growth_weekly" in names and "growth_weekly_schedule" not in names
    assert "profit_monthly_close_schedule" in names
