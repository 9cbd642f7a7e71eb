"""The central partition check on the real Profit and Growth assets (what their own checks did).

Profit and Growth used to carry their own "newest closed month / week present" checks; they are
now this one check, driven by what each pipeline's ``pipeline.py`` declares. These tests keep what those checks
promised, on the real pipelines' assets and lake tables:

- Profit: the closed month of ``unit_profit`` is a WARN while missing before the review
  deadline (3rd, 09:00 UTC) and an ERROR after; ``is_complete=false`` fails with its
  ``incomplete_reason`` (an ERROR past the deadline); it never passes while the month is missing.
- Growth: the closed Monday week is in ``account_growth`` and all its days are in
  ``account_status_daily``; the failure names what is missing.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
import yaml

from pacific_assets.operations.checks import SlaTarget, evaluate, sla_targets
from pacific_assets.operations.factory import SLA_CHECKS_JOB, with_operations
from pacific_assets.operations.resources import OpsResource
from pacific_assets.pipeline_policy import SLA_CHECK_NAME
from pacific_assets.profit.unit_profit import UNIT_PROFIT_SCHEMA
from pacific_assets.registry import code_location, discover
from pacific_assets.resources import LakeResource
from pacific_assets.storage.lake import Lake
from pacific_assets_tests.growth.fixtures import event, materialize_growth, stage_events
from pacific_assets_tests.operations.builders import at
from pacific_assets_tests.operations.conftest import ROTATION

WARN, ERROR = dg.AssetCheckSeverity.WARN, dg.AssetCheckSeverity.ERROR
_PROFIT_AND_GROWTH = [p for p in discover() if p.name in ("profit", "growth")]


def pipeline_defs(lake_resource: LakeResource, now: str) -> dg.Definitions:
    """The real Profit and Growth definitions with policies and operations, as definitions.py."""
    rotation = Path(lake_resource.data_root).parent / "rotation.yaml"
    rotation.write_text(yaml.safe_dump(ROTATION))
    pipelines = code_location(
        _PROFIT_AND_GROWTH,
        dg.Definitions(
            resources={
                "lake": lake_resource,
                "ops": OpsResource(frozen_now=now, rotation_file=str(rotation)),
            }
        ),
    )
    return with_operations(pipelines)


@pytest.fixture(scope="module")
def targets() -> dict[str, SlaTarget]:
    graph = code_location(_PROFIT_AND_GROWTH, dg.Definitions(resources={"lake": LakeResource()}))
    return {t.table: t for t in sla_targets(graph.resolve_asset_graph())}


def _write_unit_profit(lake: Lake, month: str, complete: bool) -> None:
    row = {c: None for c in UNIT_PROFIT_SCHEMA}
    row.update(
        month_start=dt.date.fromisoformat(month),
        is_complete=complete,
        incomplete_reason=None if complete else "stg_salaries has no partition for 2025-10",
    )
    lake.write_partitions(
        "unit_profit", "month_start", [month], pl.DataFrame([row], schema=UNIT_PROFIT_SCHEMA)
    )


def test_profit_closed_month_warns_before_the_review_deadline_and_errors_after(
    lake: Lake, targets: dict[str, SlaTarget]
) -> None:
    unit_profit = targets["unit_profit"]
    _write_unit_profit(lake, "2025-09-01", complete=True)

    def check(now: str) -> dg.AssetCheckResult:
        return evaluate(unit_profit, lake, at(now))

    # 2 Nov 04:00: the month close is running; October is not expected yet, September is in.
    assert check("2025-11-02T04:00").passed
    # From 2 Nov 06:00 (after the month close) a missing October is a heads-up...
    early = check("2025-11-02T12:00")
    assert (early.passed, early.severity) == (False, WARN)
    assert "2025-10-01 is expected since 2025-11-02 06:00" in early.description
    assert "ERROR from 2025-11-03 09:00" in early.description
    # ...and from the review deadline, 3 Nov 09:00, an ERROR.
    late = check("2025-11-03T09:00")
    assert (late.passed, late.severity) == (False, ERROR)
    assert "2025-10-01 was due at 2025-11-03 09:00" in late.description

    # Present but incomplete: WARN before the deadline, ERROR after, with the reason.
    _write_unit_profit(lake, "2025-10-01", complete=False)
    before = check("2025-11-03T08:00")
    assert (before.passed, before.severity) == (False, WARN)
    assert "stg_salaries has no partition for 2025-10" in before.description
    after = check("2025-11-05T00:00")
    assert (after.passed, after.severity) == (False, ERROR)
    assert "past its deadline" in after.description and "stg_salaries" in after.description

    _write_unit_profit(lake, "2025-10-01", complete=True)
    assert check("2025-11-05T00:00").passed
    # A month later, November is the closed month and it is missing again.
    assert not check("2025-12-04T00:00").passed


def test_profit_does_not_warn_about_a_month_before_its_close_runs(
    lake: Lake, targets: dict[str, SlaTarget]
) -> None:
    """On the 1st October has just ended: nobody expects it yet, so the hourly check is quiet."""
    _write_unit_profit(lake, "2025-09-01", complete=True)
    assert evaluate(targets["unit_profit"], lake, at("2025-11-01T00:15")).passed
    # Both months missing: September is past its deadline (3 Oct), so it is an ERROR naming both.
    empty = Lake(lake.root / "empty")
    result = evaluate(targets["unit_profit"], empty, at("2025-11-02T12:00"))
    assert (result.passed, result.severity) == (False, ERROR)
    assert "2025-10-01" in result.description and "2025-09-01" in result.description


@pytest.fixture(scope="module")
def growth_lake(tmp_path_factory: pytest.TempPathFactory) -> LakeResource:
    """The real growth pipeline over 1–14 Sep 2025: two closed weeks, no closed month."""
    root = tmp_path_factory.mktemp("growth") / "data"
    stage_events(Lake(root), [event("A1", "A", "account_created", "2025-09-01")])
    resource = LakeResource(data_root=str(root))
    materialize_growth(resource, "2025-09-01", "2025-09-14")
    return resource


def test_growth_closed_week_and_its_days_are_checked(
    growth_lake: LakeResource, targets: dict[str, SlaTarget]
) -> None:
    weekly = targets["account_growth"]
    # Monday 15 Sep 09:05: the week of 8 Sep is in, with its 7 days.
    ok = evaluate(weekly, growth_lake.lake, at("2025-09-15T09:05"))
    assert ok.passed, ok.description
    # A week later nothing ran: the week of 15 Sep and all its days are missing.
    late = evaluate(weekly, growth_lake.lake, at("2025-09-22T09:05"))
    assert (late.passed, late.severity) == (False, ERROR)
    assert "partition 2025-09-15 was due at 2025-09-22 09:00" in late.description
    assert "account_status_daily has no partition for 2025-09-15, 2025-09-16" in late.description
    assert "2025-09-21" in late.description


def test_growth_week_with_a_missing_day_is_incomplete(
    tmp_path: Path, targets: dict[str, SlaTarget]
) -> None:
    """The week is in but a day of account facts has gone: ERROR past the deadline, naming it."""
    root = tmp_path / "data"
    stage_events(Lake(root), [event("A1", "A", "account_created", "2025-09-01")])
    materialize_growth(LakeResource(data_root=str(root)), "2025-09-08", "2025-09-14")
    lake = Lake(root)
    link = lake.partition_link("account_status_daily", "date", "2025-09-10")
    link.unlink()  # the day's partition is no longer live
    result = evaluate(targets["account_growth"], lake, at("2025-09-15T09:05"))
    assert (result.passed, result.severity) == (False, ERROR)
    assert "present but incomplete past its deadline" in result.description
    assert "account_status_daily has no partition for 2025-09-10" in result.description


def test_scheduled_check_job_runs_the_central_check_on_the_real_pipelines(
    growth_lake: LakeResource,
) -> None:
    """Wiring: with_operations puts the check on Profit's and Growth's assets; its job runs it."""
    defs = pipeline_defs(growth_lake, now="2025-09-15T09:05:00")
    result = defs.resolve_job_def(SLA_CHECKS_JOB).execute_in_process(
        instance=dg.DagsterInstance.ephemeral()
    )
    evaluations = result.get_asset_check_evaluations()
    assert {e.check_name for e in evaluations} == {SLA_CHECK_NAME}
    got = {e.asset_key.to_user_string(): e for e in evaluations}
    assert got["account_growth"].passed and got["account_status_daily"].passed
    # Nothing of Growth's months or Profit's is due before October.
    assert got["account_growth_monthly"].passed and got["unit_profit"].passed
    assert {s.name for s in defs.sensors} >= {"sla_checks_sensor"}
    assert not {"profit_sla_check_schedule", "growth_week_check_schedule"} & {
        s.name for s in defs.schedules
    }
