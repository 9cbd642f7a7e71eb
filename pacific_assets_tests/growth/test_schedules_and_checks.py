"""Growth's definitions and its weekly check.

Which partitions each schedule runs, at every calendar edge: pacific_assets_tests/operations/
test_schedule_boundaries.py; the newest-closed-week SLA check: test_pipeline_sla_checks.py.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from pacific_assets.growth.pipeline import PIPELINE
from pacific_assets.growth.schedules import SCHEDULES
from pacific_assets.resources import LakeResource
from pacific_assets.storage.lake import Lake
from pacific_assets_tests.growth.fixtures import event, materialize_growth, stage_events


def test_growth_definitions_hold_the_sensor_and_the_cadence() -> None:
    assert {s.name for s in PIPELINE.defs.sensors} == {"growth_late_crm_events"}
    (sensor,) = PIPELINE.defs.sensors
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert {s.name for s in PIPELINE.defs.schedules} == {s.name for s in SCHEDULES}


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
