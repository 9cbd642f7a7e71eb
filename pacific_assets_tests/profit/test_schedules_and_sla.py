"""Profit's cadences: what each schedule builds and when.

Which partitions each schedule requests at every calendar edge (the grid's first month included):
pacific_assets_tests/operations/test_schedule_boundaries.py. The SLA check (closed month present
and complete) is the central one: pacific_assets_tests/operations/test_pipeline_sla_checks.py.
"""

from __future__ import annotations

from pacific_assets.orchestration.automation import DUE_ASSETS_KEY, DUE_CRON_KEY
from pacific_assets.profit.pipeline import PIPELINE as PROFIT


def _declared(name: str) -> tuple[str, set[str]]:
    schedule = next(s for s in PROFIT.defs.schedules if s.name == name)
    meta = schedule.metadata
    assert meta[DUE_CRON_KEY].value == schedule.cron_schedule
    return schedule.cron_schedule, set(meta[DUE_ASSETS_KEY].value)


def test_nightly_facts_build_the_books_then_yesterdays_revenue_and_cash() -> None:
    assert _declared("profit_daily_facts_schedule") == (
        "0 2 * * *",
        {"invoice_lines_current", "recognized_revenue_daily", "cash_collected_daily"},
    )


def test_month_close_builds_the_four_monthly_assets_on_the_2nd() -> None:
    assert _declared("profit_month_close_schedule") == (
        "0 4 2 * *",
        {"profit_expenses", "unit_profit", "account_unit_economics", "profit_reconciliation"},
    )


def test_the_keeper_sensor_covers_every_profit_asset() -> None:
    (sensor,) = [s for s in PROFIT.defs.sensors if s.name == "profit_late_billing"]
    from pacific_assets.definitions import defs

    graph = defs.resolve_asset_graph()
    kept = {k.to_user_string() for k in sensor.asset_selection.resolve(graph)}
    built = (
        set(_declared("profit_daily_facts_schedule")[1])
        | _declared("profit_month_close_schedule")[1]
    )
    assert kept == built
