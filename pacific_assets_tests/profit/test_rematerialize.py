"""Re-materializing one month replaces that month's partitions and leaves every other file alone."""

from __future__ import annotations

import os

import dagster as dg

from pacific_assets.resources import LakeResource
from pacific_assets.storage.lake import Lake
from pacific_assets_tests.profit.books import DAYS, MONTHS, write_books
from pacific_assets_tests.profit.conftest import DAILY_ASSETS, MONTHLY_ASSETS, run_stage

MONTHLY_TABLES = [
    "profit_expenses",
    "unit_profit",
    "account_unit_economics",
    "profit_reconciliation",
]
DAILY_TABLES = ["recognized_revenue_daily", "cash_collected_daily"]


def _snapshot(lake: Lake, table: str) -> dict[str, tuple[str, int]]:
    """partition key -> (live file, mtime in ns): what a reader would open."""
    out = {}
    for key in lake.partition_keys(table):
        col = "date" if table in DAILY_TABLES else "month_start"
        (f,) = lake.partition_link(table, col, key).resolve().glob("*.parquet")
        out[key] = (str(f), os.stat(f).st_mtime_ns)
    return out


def test_rematerializing_october_touches_only_october(
    lake: Lake, lake_resource: LakeResource
) -> None:
    write_books(lake)
    instance = dg.DagsterInstance.ephemeral()
    run_stage(DAILY_ASSETS, lake_resource, DAYS[0], DAYS[-1], instance=instance)
    run_stage(MONTHLY_ASSETS, lake_resource, MONTHS[0], MONTHS[-1], instance=instance)
    before = {t: _snapshot(lake, t) for t in MONTHLY_TABLES + DAILY_TABLES}
    values_before = lake.read("unit_profit").sort("month_start")

    # The month close for October: its days, then the month.
    run_stage(DAILY_ASSETS, lake_resource, "2025-10-01", "2025-10-31", instance=instance)
    run_stage(MONTHLY_ASSETS, lake_resource, "2025-10-01", "2025-10-01", instance=instance)
    after = {t: _snapshot(lake, t) for t in MONTHLY_TABLES + DAILY_TABLES}

    for table in MONTHLY_TABLES + DAILY_TABLES:
        assert set(after[table]) == set(before[table]), table
        changed = {k for k in before[table] if after[table][k] != before[table][k]}
        expected = {k for k in before[table] if k.startswith("2025-10")}
        assert changed == expected, f"{table}: rewrote {sorted(changed - expected)[:3]}"
    # Same inputs, same numbers: the rewrite is idempotent.
    assert lake.read("unit_profit").sort("month_start").equals(values_before)
