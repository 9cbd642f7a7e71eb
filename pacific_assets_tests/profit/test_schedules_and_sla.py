"""The schedules ask for the right partitions.

The SLA check (closed month present and complete) is the central one: tests in
pacific_assets_tests/operations/test_pipeline_sla_checks.py.
"""

from __future__ import annotations

import datetime as dt

import dagster as dg

from pacific_assets import profit


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
