"""The month's expense lines: opex, capex amortization and salaries by team, in one table.

One long table (rather than three sums) so that every figure in ``unit_profit`` and every
category the reconciliation lists for the accountant can be traced to its expense rows.
"""

import dagster as dg
import polars as pl

from pacific_assets.orchestration import builds_without_metadata, monthly, single_run_backfill
from pacific_assets.previews import markdown_frame
from pacific_assets.profit import lakeio
from pacific_assets.profit.columns import PROFIT_EXPENSES
from pacific_assets.profit.settings import DEFAULT_CAPEX_LIFE_MONTHS, ProfitSettings
from pacific_assets.resources import LakeResource
from pacific_assets.storage import duck

GROUP = "profit"

PROFIT_EXPENSES_SCHEMA = PROFIT_EXPENSES.polars()

#: Capex bought up to (life - 1) months before a month is still being amortized in it.
CAPEX_LOOKBACK = dg.TimeWindowPartitionMapping(start_offset=-(DEFAULT_CAPEX_LIFE_MONTHS - 1))


@dg.asset(
    group_name=GROUP,
    partitions_def=monthly,
    backfill_policy=single_run_backfill,
    deps=[
        dg.AssetDep("stg_ops_expenses", partition_mapping=CAPEX_LOOKBACK),
        dg.AssetDep("stg_salaries", partition_mapping=dg.TimeWindowPartitionMapping()),
    ],
    # a month without its ops or HR export closes with nulls and the reason (unit_profit)
    metadata=builds_without_metadata("stg_ops_expenses", "stg_salaries"),
    description="**Expense lines per month.** `opex`: non-capex ops spend, expensed in its month. "
    "`capex_amortization`: each capex purchase spread straight line over "
    "`capex_life_months` (default 36) months starting with its purchase month "
    "(amount ÷ life per month). `salaries`: the month's salary cost per team (HR exports team "
    "aggregates only). `account_id` set = a direct cost of that account; null = a shared cost. "
    "The accounting month is the row's `month` column; a row exported twice counts once.",
)
def profit_expenses(
    context: dg.AssetExecutionContext, lake: LakeResource, profit_settings: ProfitSettings
) -> dg.MaterializeResult:
    settings = profit_settings.validated()
    store = lake.for_asset(context)
    window = context.partition_time_window
    months = lakeio.month_starts(window.start.date(), window.end.date())
    with lake.duckdb() as con:
        # Small monthly tables: read them whole and select by the accounting month in SQL.
        for table in ("stg_ops_expenses", "stg_salaries"):
            duck.lake_view(con, store, table, lakeio.UPSTREAM_SCHEMAS[table])
        duck.frame_view(con, "profit_months", lakeio.months_frame(months))
        df = duck.conform(
            duck.run_sql(
                con,
                lakeio.SQL_DIR,
                "profit_expenses",
                {"capex_life_months": settings.capex_life_months},
            ).pl(),
            PROFIT_EXPENSES_SCHEMA,
        )
    lakeio.assert_finite("profit_expenses", df)
    keys = context.partition_keys
    store.write_partitions("profit_expenses", "month_start", keys, df)
    by_type = (
        df.group_by("month_start", "expense_type")
        .agg(pl.col("amount_usd").sum())
        .pivot("expense_type", index="month_start", values="amount_usd")
        .sort("month_start")
    )
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": df.height,
            "partitions": f"{keys[0]} … {keys[-1]} ({len(keys)} months)",
            "capex_life_months": settings.capex_life_months,
            "totals_by_type": dg.MetadataValue.md(markdown_frame(by_type, cell=lakeio.amount_cell)),
            "preview": dg.MetadataValue.md(markdown_frame(df, cell=lakeio.amount_cell)),
        }
    )
