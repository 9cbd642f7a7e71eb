"""Schedules and sensors of the code location: all RUNNING in a fresh instance, one per cadence."""

import dagster as dg

from pacific_assets.definitions import defs
from pacific_assets.operations.cadences import cadence_coverage
from pacific_assets.operations.catalog import DUCKDB_CATALOG
from pacific_assets.operations.factory import with_operations
from pacific_assets.orchestration.automation import cadence_schedule, due_crons
from pacific_assets.registry import discover
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
    # by a sensor between schedules (late data, a missed tick): pacific_assets/orchestration/automation.py.
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
    cadences = [c for p in discover() for c in p.cadences]
    coverage = cadence_coverage(repo.schedule_defs, cadences)
    keys = defs.resolve_asset_graph().materializable_asset_keys
    # the runbooks' six cadences, each declared by its own pipeline
    assert len(cadences) == 6
    for cadence in cadences:
        # Every pipeline has landed: a cadence whose asset is missing is a renamed/removed asset.
        assert dg.AssetKey(cadence.key_asset) in keys, (cadence.label, cadence.key_asset)
        assert len(coverage[cadence.label]) == 1, (cadence.label, coverage[cadence.label])
    assert coverage["monthly investor close"] == ["investor_monthly_close_schedule"]
    assert coverage["Monday executive pack"] == ["executive_weekly_schedule"]


CADENCES = [c for p in discover() for c in p.cadences]


def test_operations_creates_no_schedule_and_reads_the_pipelines_declarations(data_root) -> None:
    """Schedules are the pipelines' own: operations adds none, it reads their metadata."""
    toy = build_toy_defs(data_root, now="2025-10-01T00:00:00")
    assert list(toy.get_repository_def().schedule_defs) == []
    assert all(names == [] for names in cadence_coverage([], CADENCES).values())

    # A pipeline's weekly cadence schedule of account_growth covers "end-of-week growth"; a
    # daily one of the same asset does not, nor does a schedule that declares no cadence.
    weekly = cadence_schedule("my_growth_weekly", ["account_growth"], "0 3 * * 1", "weekly")
    daily = cadence_schedule("my_growth_daily", ["account_growth"], "0 3 * * *", "daily")
    job = dg.define_asset_job("my_growth_job", selection=[account_growth])
    undeclared = dg.build_schedule_from_partitioned_job(job, name="my_growth_plain", hour_of_day=3)
    merged = with_operations(
        toy_pipelines(
            data_root, "2025-10-01T00:00:00", schedules=[weekly, daily, undeclared], jobs=[job]
        )
    )
    schedules = merged.get_repository_def().schedule_defs
    assert {s.name for s in schedules} == {"my_growth_weekly", "my_growth_daily", "my_growth_plain"}
    coverage = cadence_coverage(schedules, CADENCES)
    assert coverage["end-of-week growth"] == ["my_growth_weekly"]
    assert coverage["monthly profit close"] == []
