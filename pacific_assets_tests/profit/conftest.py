"""Profit test helpers: run the pipeline's two stages in-process over a lake."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import dagster as dg
import pytest

from pacific_assets.profit.expenses import profit_expenses
from pacific_assets.profit.reconciliation import profit_reconciliation
from pacific_assets.profit.revenue import (
    cash_collected_daily,
    invoice_lines_current,
    recognized_revenue_daily,
)
from pacific_assets.profit.settings import ProfitSettings
from pacific_assets.profit.unit_economics import account_unit_economics
from pacific_assets.profit.unit_profit import unit_profit
from pacific_assets.resources import LakeResource
from pacific_assets.storage.lake import Lake
from pacific_assets_tests.profit.books import write_books
from pacific_assets_tests.runs import checks_by_name, range_tags

DAILY_ASSETS = [invoice_lines_current, recognized_revenue_daily, cash_collected_daily]
MONTHLY_ASSETS = [profit_expenses, unit_profit, account_unit_economics, profit_reconciliation]


def run_stage(
    assets: Sequence[dg.AssetsDefinition],
    lake_resource: LakeResource,
    first: str,
    last: str,
    settings: ProfitSettings | None = None,
    instance: dg.DagsterInstance | None = None,
) -> dg.ExecuteInProcessResult:
    """One range run, as the month-close jobs (or a backfill with single_run policy) do it."""
    return dg.materialize(
        assets,
        resources={"lake": lake_resource, "profit_settings": settings or ProfitSettings()},
        tags=range_tags(first, last),
        instance=instance or dg.DagsterInstance.ephemeral(),
    )


def run_profit(
    lake_resource: LakeResource,
    first_day: str,
    last_day: str,
    first_month: str,
    last_month: str,
    settings: ProfitSettings | None = None,
) -> tuple[dg.ExecuteInProcessResult, dg.ExecuteInProcessResult]:
    instance = dg.DagsterInstance.ephemeral()
    daily = run_stage(DAILY_ASSETS, lake_resource, first_day, last_day, settings, instance)
    monthly = run_stage(MONTHLY_ASSETS, lake_resource, first_month, last_month, settings, instance)
    return daily, monthly


@pytest.fixture(scope="module")
def books(tmp_path_factory: pytest.TempPathFactory) -> tuple[Lake, LakeResource, dict]:
    """The hand-made books, with the whole pipeline run once over Sep–Nov 2025 (read-only use)."""
    root = Path(tmp_path_factory.mktemp("profit_books")) / "data"
    lake = Lake(root)
    write_books(lake)
    resource = LakeResource(data_root=str(root), duckdb_memory_limit="1GB", duckdb_threads=2)
    daily, monthly = run_profit(resource, "2025-09-01", "2025-11-30", "2025-09-01", "2025-11-01")
    return lake, resource, {**checks_by_name(daily), **checks_by_name(monthly)}
