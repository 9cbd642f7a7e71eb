"""Schedules and sensors of the code location: all RUNNING in a fresh instance, one per cadence."""

import dagster as dg

from pacific_assets.automation import due_crons
from pacific_assets.definitions import defs
from pacific_assets.operations.catalog import DUCKDB_CATALOG
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
    # Every lake table is built on its cadence (a schedule that makes it due) and kept up to date
    # by a sensor between schedules (late data, a missed tick): pacific_assets/automation.py.
    graph = defs.resolve_asset_graph()
    due = due_crons(repo)
    kept: set[str] = set()
    for sensor in repo.sensor_defs:
        if sensor.asset_selection is not None:
            kept |= {k.to_user_string() for k in sensor.asset_selection.resolve(graph)}
    # raw_clicks is registered by the ingest sensor's job; the hand-off runs on its own schedule;
    # the catalog is not a lake table: its sensor requests it when a table appears
    by_job = {"raw_clicks", "engagement_oncall_handoff", DUCKDB_CATALOG}
    tables = {k.to_user_string() for k in graph.materializable_asset_keys} - by_job
    assert tables - set(due) == set(), "no cadence schedule"
    assert tables - kept == set(), "no keeper sensor"
    ingest = repo.get_sensor_def("clicks_ingest_sensor")
    assert ingest.job_name == "clicks_ingest_job"
    assert repo.get_job("clicks_ingest_job").asset_layer.executable_asset_keys >= {
        dg.AssetKey("raw_clicks")
    }


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
