"""The schedules ask for the right partitions; the SLA check never passes on a missing month."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import polars as pl

from pacific_assets import profit
from pacific_assets.profit.checks import closed_month_status, newest_closed_month
from pacific_assets.profit.unit_profit import UNIT_PROFIT_SCHEMA
from pacific_assets.storage.lake import Lake


def _at(s: str) -> dt.datetime:
    return dt.datetime.fromisoformat(s).replace(tzinfo=dt.UTC)


def _defs() -> dg.Definitions:
    return dg.Definitions.merge(profit.defs, dg.Definitions(resources={"lake": object()}))


def _schedule(name: str) -> dg.ScheduleDefinition:
    return _defs().resolve_schedule_def(name)


def test_nightly_facts_cover_the_previous_month_through_yesterday() -> None:
    schedule = _schedule("profit_daily_facts_schedule")
    assert schedule.cron_schedule == "0 2 * * *"
    context = dg.build_schedule_context(scheduled_execution_time=_at("2025-11-02T02:00:00"))
    (request,) = schedule.evaluate_tick(context).run_requests
    assert request.tags["dagster/asset_partition_range_start"] == "2025-10-01"
    assert request.tags["dagster/asset_partition_range_end"] == "2025-11-01"


def test_month_close_requests_the_closed_month() -> None:
    schedule = _schedule("profit_month_close_schedule")
    assert schedule.cron_schedule == "0 4 2 * *"
    context = dg.build_schedule_context(scheduled_execution_time=_at("2025-11-02T04:00:00"))
    (request,) = schedule.evaluate_tick(context).run_requests
    assert request.partition_key == "2025-10-01"


def test_monthly_job_runs_the_four_monthly_assets_and_their_checks_only() -> None:
    graph = _defs().resolve_asset_graph()
    selection = profit.profit_monthly_job.selection
    keys = {k.to_user_string() for k in selection.resolve(graph)}
    assert keys == {
        "profit_expenses",
        "unit_profit",
        "account_unit_economics",
        "profit_reconciliation",
    }
    checks = {k.name for k in selection.resolve_checks(graph)}
    assert "reconciled_with_filings" in checks and "newest_closed_month_present" not in checks


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


def test_newest_closed_month_check(lake: Lake) -> None:
    assert newest_closed_month(_at("2025-11-02T04:00:00")) == dt.date(2025, 10, 1)
    assert newest_closed_month(_at("2026-01-01T00:00:00")) == dt.date(2025, 12, 1)

    missing_early = closed_month_status(lake, _at("2025-11-02T12:00:00"))
    assert not missing_early.passed and missing_early.severity == dg.AssetCheckSeverity.WARN
    assert "2025-10 does not exist" in missing_early.description
    missing_late = closed_month_status(lake, _at("2025-11-03T09:00:00"))
    assert not missing_late.passed and missing_late.severity == dg.AssetCheckSeverity.ERROR

    _write_unit_profit(lake, "2025-10-01", complete=False)
    incomplete = closed_month_status(lake, _at("2025-11-05T00:00:00"))
    assert not incomplete.passed and "stg_salaries" in incomplete.description
    _write_unit_profit(lake, "2025-10-01", complete=True)
    assert closed_month_status(lake, _at("2025-11-05T00:00:00")).passed
    # A month later, November is the closed month and it is missing again.
    assert not closed_month_status(lake, _at("2025-12-04T00:00:00")).passed


def test_sla_check_job_runs_the_check_against_the_lake(lake: Lake, lake_resource) -> None:
    """Wiring: the scheduled check-only job evaluates the check (an empty lake never passes)."""
    defs = dg.Definitions.merge(profit.defs, dg.Definitions(resources={"lake": lake_resource}))
    result = defs.resolve_job_def("profit_sla_check_job").execute_in_process(
        instance=dg.DagsterInstance.ephemeral()
    )
    (evaluation,) = result.get_asset_check_evaluations()
    assert evaluation.check_name == "newest_closed_month_present"
    assert not evaluation.passed and "does not exist" in evaluation.description
