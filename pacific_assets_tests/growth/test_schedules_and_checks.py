"""The end-of-week cadence: which partitions each schedule runs.

The newest-closed-week SLA check is the central one: pacific_assets_tests/operations/
test_pipeline_sla_checks.py.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import pytest

from pacific_assets.growth import defs as growth_defs
from pacific_assets.growth.assets import DAILY, GROWTH_ASSETS
from pacific_assets.growth.schedules import GROWTH_JOBS, GROWTH_SCHEDULES
from pacific_assets.resources import LakeResource
from pacific_assets.storage.lake import Lake
from pacific_assets_tests.growth.fixtures import event, materialize_growth, stage_events


def utc(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)


@pytest.mark.parametrize(
    "schedule,tick,partition",
    [
        # yesterday's daily facts, every night
        ("growth_daily_status_schedule", "2025-10-14T01:00", "2025-10-13"),
        # Monday: the Monday week that just closed (Mon 10-06 .. Sun 10-12)
        ("growth_weekly_schedule", "2025-10-13T04:00", "2025-10-06"),
        # the 1st: the month that just closed
        ("growth_monthly_schedule", "2025-11-01T05:00", "2025-10-01"),
    ],
)
def test_each_schedule_runs_the_period_that_just_closed(
    schedule: str, tick: str, partition: str
) -> None:
    defs = dg.Definitions.merge(growth_defs, dg.Definitions(resources={"lake": LakeResource()}))
    sched = defs.resolve_schedule_def(schedule)
    assert sched.default_status == dg.DefaultScheduleStatus.RUNNING
    context = dg.build_schedule_context(scheduled_execution_time=utc(tick))
    (request,) = sched.evaluate_tick(context).run_requests
    assert request.partition_key == partition


def test_the_status_job_runs_history_and_a_day_together(tmp_path: Path) -> None:
    """growth_status_job mixes the unpartitioned history with one daily partition in one run."""
    root = tmp_path / "data"
    stage_events(Lake(root), [event("A1", "A", "account_created", "2025-10-01")])
    defs = dg.Definitions(
        assets=GROWTH_ASSETS,
        jobs=GROWTH_JOBS,
        resources={"lake": LakeResource(data_root=str(root))},
    )
    result = defs.resolve_job_def("growth_status_job").execute_in_process(
        partition_key="2025-10-13", instance=dg.DagsterInstance.ephemeral()
    )
    assert result.success
    assert Lake(root).read(DAILY)["status"].to_list() == ["created"]


def test_growth_definitions_hold_the_sensor_and_the_cadence() -> None:
    assert {s.name for s in growth_defs.sensors} == {"growth_late_crm_events"}
    (sensor,) = growth_defs.sensors
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert {s.name for s in growth_defs.schedules} == {s.name for s in GROWTH_SCHEDULES}


def test_weekly_growth_refuses_a_week_with_missing_daily_facts(tmp_path: Path) -> None:
    """A week built from six days would undercount silently: the run fails naming the days."""
    from pacific_assets.growth.assets import account_growth

    root = tmp_path / "data"
    stage_events(Lake(root), [event("A1", "A", "account_created", "2025-09-01")])
    res = LakeResource(data_root=str(root))
    materialize_growth(res, "2025-09-01", "2025-09-06")  # Sunday 09-07 never built
    result = dg.materialize(
        [account_growth],
        resources={"lake": res},
        instance=dg.DagsterInstance.ephemeral(),
        partition_key="2025-09-01",
        raise_on_error=False,
    )
    assert not result.success
    (failure,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    message = failure.step_failure_data.user_failure_data.description
    assert "account_status_daily is missing 1 day(s)" in message and "2025-09-07" in message
