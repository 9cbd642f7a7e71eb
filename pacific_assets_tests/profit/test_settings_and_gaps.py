"""Settings (capex life, tolerance, allocation driver) and missing or stale inputs."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import polars as pl
import pytest

from pacific_assets.profit.settings import ProfitSettings
from pacific_assets.resources import LakeResource
from pacific_assets.storage.lake import Lake
from pacific_assets_tests.profit.books import (
    DAYS,
    INVOICE_ROWS,
    MONTHS,
    NOV,
    OCT,
    SHARED,
    land_invoice_line,
    write_books,
    write_usage,
)
from pacific_assets_tests.profit.conftest import (
    DAILY_ASSETS,
    MONTHLY_ASSETS,
    run_profit,
    run_stage,
)
from pacific_assets_tests.runs import checks_by_name


def _rows(lake: Lake, table: str) -> dict:
    return {r["month_start"]: r for r in lake.read(table).iter_rows(named=True)}


def test_capex_life_and_tolerance_are_settings(lake: Lake, lake_resource: LakeResource) -> None:
    write_books(lake)
    settings = ProfitSettings(capex_life_months=12, reconciliation_tolerance=0.05)
    run_profit(lake_resource, "2025-10-01", DAYS[-1], "2025-10-01", "2025-11-01", settings)
    up = _rows(lake, "unit_profit")
    # September's laptops ($3,600) are still amortized in October, now over 12 months.
    assert up[OCT]["capex_amortization_usd"] == pytest.approx(3600 / 12 + 720 / 12, abs=1e-9)
    assert up[NOV]["capex_amortization_usd"] == pytest.approx(3600 / 12 + 720 / 12, abs=1e-9)
    rec = _rows(lake, "profit_reconciliation")[NOV]
    # Revenue −4 % and expenses +2.6 % (the filing used 36 months) are inside a 5 % tolerance.
    assert rec["expenses_variance_usd"] == pytest.approx(240.0, abs=1e-9)
    assert rec["status"] == "reconciled" and rec["tolerance_pct"] == pytest.approx(5.0)


def test_usage_driver_allocates_by_engagement_hours(
    lake: Lake, lake_resource: LakeResource
) -> None:
    write_books(lake)
    write_usage(lake)
    run_profit(
        lake_resource,
        "2025-10-01",
        DAYS[-1],
        "2025-10-01",
        "2025-11-01",
        ProfitSettings(allocation_driver="usage"),
    )
    aue = lake.read("account_unit_economics").filter(pl.col("month_start") == OCT)
    got = {r["account_id"]: r for r in aue.iter_rows(named=True)}
    assert {a: got[a]["driver_value"] for a in got} == {"A": 10.0, "B": 30.0, "C": 0.0, "E": 60.0}
    for account, hours in {"A": 10.0, "B": 30.0, "C": 0.0, "E": 60.0}.items():
        assert got[account]["allocation_driver"] == "usage_hours"
        assert got[account]["allocated_cost_usd"] == pytest.approx(SHARED * hours / 100.0, abs=1e-9)
    # November has no usage at all: nothing to allocate over, said so, never a division by zero.
    nov = lake.read("account_unit_economics").filter(pl.col("month_start") == NOV)
    assert nov["allocated_cost_usd"].null_count() == nov.height
    assert set(nov["allocated_cost_usd_null_reason"]) == {
        "no engagement hours in the month to allocate shared costs over"
    }


def test_missing_exports_give_nulls_with_reasons(lake: Lake, lake_resource: LakeResource) -> None:
    """November's HR export has not landed and growth has not run for Nov 30 yet."""
    write_books(lake, salary_months=MONTHS[:2], status_days=DAYS[:-1])
    run_profit(lake_resource, "2025-11-01", DAYS[-1], "2025-11-01", "2025-11-01")
    nov = _rows(lake, "unit_profit")[NOV]
    assert nov["salaries_usd"] is None
    assert nov["salaries_usd_null_reason"] == "stg_salaries has no partition for 2025-11"
    assert nov["total_expenses_usd"] is None and nov["profit_usd"] is None
    assert nov["profit_usd_null_reason"] == "stg_salaries has no partition for 2025-11"
    assert nov["opex_usd"] == pytest.approx(1000.0)  # what is there is still reported
    assert nov["paying_subscribers"] is None and nov["licensed_seats"] is None
    assert nov["paying_subscribers_null_reason"] == (
        "account_status_daily has no partition for 2025-11-30 (month end)"
    )
    assert nov["profit_per_subscriber_usd"] is None
    assert nov["profit_per_subscriber_usd_null_reason"]
    assert nov["gross_margin"] == pytest.approx((1200 - 20) / 1200)  # needs neither input
    assert nov["is_complete"] is False
    assert "stg_salaries has no partition for 2025-11" in nov["incomplete_reason"]
    aue = lake.read("account_unit_economics").filter(pl.col("month_start") == NOV)
    assert set(aue["allocated_cost_usd_null_reason"]) == {
        "stg_salaries has no partition for 2025-11"
    }
    rec = _rows(lake, "profit_reconciliation")[NOV]
    assert rec["status"] == "mismatch" and rec["computed_expenses_usd"] is None
    assert "computed expenses unavailable" in rec["status_reason"]


def test_monthly_assets_refuse_missing_or_stale_daily_facts(
    lake: Lake, lake_resource: LakeResource
) -> None:
    write_books(lake)
    instance = dg.DagsterInstance.ephemeral()
    # Daily facts for October only: November's month close must fail, naming the days.
    run_stage(DAILY_ASSETS, lake_resource, "2025-10-01", "2025-10-31", instance=instance)
    with pytest.raises(
        RuntimeError, match=r"recognized_revenue_daily has no partition for 2025-11"
    ):
        run_stage(MONTHLY_ASSETS, lake_resource, "2025-11-01", "2025-11-01", instance=instance)
    run_stage(MONTHLY_ASSETS, lake_resource, "2025-10-01", "2025-10-01", instance=instance)
    # A billing export lands afterwards (a new refund for B): the facts are now stale.
    land_invoice_line(
        lake,
        INVOICE_ROWS[1],  # B's annual line, paid
        "2025-10-22",
        line_id="L-B1R",
        amount_usd=-100.0,
        status="refunded",
        service_start=dt.date(2025, 10, 22),
    )
    with pytest.raises(RuntimeError, match="stg_invoice_lines changed after invoice_lines_current"):
        run_stage(MONTHLY_ASSETS, lake_resource, "2025-10-01", "2025-10-01", instance=instance)
    run_stage(DAILY_ASSETS, lake_resource, "2025-10-01", "2025-10-31", instance=instance)
    run_stage(MONTHLY_ASSETS, lake_resource, "2025-10-01", "2025-10-01", instance=instance)
    # 10 days x −$100/344 days of the remaining annual period.
    oct_ = _rows(lake, "unit_profit")[OCT]
    assert oct_["recognized_revenue_usd"] == pytest.approx(780.0 - 100.0 * 10 / 344, abs=1e-9)


def test_invalid_service_period_is_reported_not_spread(
    lake: Lake, lake_resource: LakeResource
) -> None:
    write_books(lake)
    empty_period = dict(service_start=dt.date(2025, 10, 5), service_end=dt.date(2025, 10, 5))
    land_invoice_line(lake, INVOICE_ROWS[0], "2025-10-06", line_id="L-BAD", **empty_period)
    result = run_stage(DAILY_ASSETS, lake_resource, "2025-10-01", "2025-10-31")
    check = checks_by_name(result)["service_periods_valid"]
    assert not check.passed and "L-BAD" in check.description
    rev = lake.read("recognized_revenue_daily")
    assert rev["recognized_revenue_usd"].sum() == pytest.approx(310 + 320 + 150, abs=1e-9)


def test_settings_are_validated() -> None:
    with pytest.raises(ValueError, match="capex_life_months"):
        ProfitSettings(capex_life_months=0).validated()
    with pytest.raises(ValueError, match="reconciliation_tolerance"):
        ProfitSettings(reconciliation_tolerance=1.5).validated()
