"""``account_unit_economics``: per account and month, revenue, its own costs and its share of ours.

Shared costs (ops spend without an account, capex amortization of shared assets, all salaries) are
allocated by a stated driver:

- ``seats`` (default): the account's paying seat-days in the month (seats × days it was paying),
  so an account that joined on the 16th carries half a month of its seats and a churned account
  carries the days it was still paying.
- ``usage``: the account's engagement hours in the month (``engagement_hours.total_hours``).
"""

import datetime as dt

import dagster as dg
import polars as pl

from pacific_assets.orchestration import builds_without_metadata, monthly, single_run_backfill
from pacific_assets.previews import markdown_frame
from pacific_assets.profit import lakeio
from pacific_assets.profit.columns import ACCOUNT_UNIT_ECONOMICS
from pacific_assets.profit.month_inputs import MonthInputs, open_month_inputs
from pacific_assets.profit.settings import ProfitSettings
from pacific_assets.resources import LakeResource
from pacific_assets.storage import duck

GROUP = "profit"

ACCOUNT_UNIT_ECONOMICS_SCHEMA = ACCOUNT_UNIT_ECONOMICS.polars()

_DRIVER_COLUMN = {"seats": "paying_seat_days", "usage": "usage_hours"}
_DRIVER_NAME = {"seats": "seat_days", "usage": "usage_hours"}


def allocate(
    accounts: pl.DataFrame, shared: pl.DataFrame, driver: str, inputs: MonthInputs
) -> pl.DataFrame:
    """Per-account economics from the account-month facts and the month's shared cost.

    ``shared`` has month_start, shared_cost_usd (null when an expense export is missing) and
    shared_cost_reason.
    """
    driver_col = _DRIVER_COLUMN[driver]
    no_driver = {
        "seats": "no paying seat-days in the month to allocate shared costs over",
        "usage": "no engagement hours in the month to allocate shared costs over",
    }[driver]
    # Why a driver total may be zero or incomplete, per month, from the inputs that are missing.
    gaps = inputs.missing_status_days if driver == "seats" else inputs.missing_usage_days
    table = "account_status_daily" if driver == "seats" else "engagement_hours"
    gap_reason = pl.DataFrame(
        {
            "month_start": list(inputs.months),
            "driver_gap": [
                f"{table} missing {len(gaps[m])} day(s) of the month" if gaps.get(m) else None
                for m in inputs.months
            ],
        },
        schema={"month_start": pl.Date, "driver_gap": pl.String},
    )
    df = (
        accounts.with_columns(pl.col(driver_col).cast(pl.Float64).alias("driver_value"))
        .with_columns(pl.col("driver_value").sum().over("month_start").alias("driver_total"))
        .join(shared, on="month_start", how="left")
        .join(gap_reason, on="month_start", how="left")
    )
    unbilled = pl.col("uninvoiced_paying_days") > 0
    revenue_reason = pl.format(
        "billing gap: paying {} day(s) of the month with no invoice line covering them",
        pl.col("uninvoiced_paying_days"),
    )
    allocated_reason = (
        pl.when(pl.col("shared_cost_usd").is_null())
        .then(pl.col("shared_cost_reason"))
        .when(pl.col("driver_gap").is_not_null())
        .then(pl.col("driver_gap"))
        .when(pl.col("driver_total") <= 0)
        .then(pl.lit(no_driver))
    )
    df = df.with_columns(
        pl.col("recognized_revenue_usd").alias("booked_revenue_usd"),
        pl.when(unbilled)
        .then(None)
        .otherwise(pl.col("recognized_revenue_usd"))
        .alias("recognized_revenue_usd"),
        pl.when(unbilled).then(revenue_reason).alias("recognized_revenue_usd_null_reason"),
        pl.when(pl.col("driver_total") > 0)
        .then(pl.col("driver_value") / pl.col("driver_total"))
        .alias("allocation_share"),
        allocated_reason.alias("allocated_cost_usd_null_reason"),
    ).with_columns(
        pl.when(pl.col("allocated_cost_usd_null_reason").is_null())
        .then(pl.col("shared_cost_usd") * pl.col("allocation_share"))
        .alias("allocated_cost_usd"),
    )
    return df.with_columns(
        (
            pl.col("recognized_revenue_usd")
            - pl.col("direct_cost_usd")
            - pl.col("allocated_cost_usd")
        ).alias("contribution_margin_usd"),
        pl.coalesce("recognized_revenue_usd_null_reason", "allocated_cost_usd_null_reason").alias(
            "contribution_margin_usd_null_reason"
        ),
        pl.lit(_DRIVER_NAME[driver]).alias("allocation_driver"),
    )


def shared_costs(totals: pl.DataFrame, inputs: MonthInputs) -> pl.DataFrame:
    """The month's shared cost, null with the reason when an expense export is missing."""
    rows = []
    for t in totals.iter_rows(named=True):
        m: dt.date = t["month_start"]
        reasons = [r for r in (inputs.missing_ops.get(m), inputs.missing_salaries.get(m)) if r]
        rows.append(
            {
                "month_start": m,
                "shared_cost_usd": None if reasons else t["shared_cost_usd"],
                "shared_cost_reason": "; ".join(reasons) if reasons else None,
            }
        )
    return pl.DataFrame(
        rows,
        schema={
            "month_start": pl.Date,
            "shared_cost_usd": pl.Float64,
            "shared_cost_reason": pl.String,
        },
    )


@dg.asset(
    group_name=GROUP,
    partitions_def=monthly,
    backfill_policy=single_run_backfill,
    deps=[
        dg.AssetDep("recognized_revenue_daily", partition_mapping=dg.TimeWindowPartitionMapping()),
        "profit_expenses",
        dg.AssetDep("account_status_daily", partition_mapping=dg.TimeWindowPartitionMapping()),
        # Read only when allocation_driver = "usage"; declared so lineage holds for either driver.
        dg.AssetDep("engagement_hours", partition_mapping=dg.TimeWindowPartitionMapping()),
    ],
    # engagement only drives the "usage" allocation; without either, nulls with the reason
    metadata=builds_without_metadata("account_status_daily", "engagement_hours"),
    check_specs=[
        dg.AssetCheckSpec(
            "allocation_adds_up",
            asset="account_unit_economics",
            description="Per month, the allocated costs add up to the shared cost (nothing lost "
            "or double-counted by the allocation), unless nothing could be allocated.",
        )
    ],
    description="**Unit economics per account and month.** One row per account that was paying, "
    "earned revenue or carried a direct cost in the month. `recognized_revenue_usd`: the "
    "account's accrual revenue — null with a reason when it was paying on days no invoice line "
    "covers (a billing gap; `booked_revenue_usd` keeps what the existing lines recognize and "
    "`estimated_unbilled_revenue_usd` values the gap at the contracted MRR); `direct_cost_usd`: ops costs (opex + capex amortization) attributed to the account; "
    "`allocated_cost_usd`: its share of shared costs (shared ops costs + all salaries) by the "
    "stated driver — `seats` (paying seat-days, default) or `usage` (engagement hours), see "
    "`allocation_driver`, `driver_value`, `allocation_share`; `contribution_margin_usd` = "
    "revenue − direct cost − allocated cost.",
)
def account_unit_economics(
    context: dg.AssetExecutionContext, lake: LakeResource, profit_settings: ProfitSettings
) -> dg.MaterializeResult:
    settings = profit_settings.validated()
    store = lake.for_asset(context)
    window = context.partition_time_window
    months = lakeio.month_starts(window.start.date(), window.end.date())
    with lake.duckdb() as con:
        inputs = open_month_inputs(
            con,
            store,
            months,
            with_cash=False,
            with_usage=settings.allocation_driver == "usage",
        )
        totals = duck.run_sql(con, lakeio.SQL_DIR, "month_totals").pl()
        accounts = duck.run_sql(con, lakeio.SQL_DIR, "account_month").pl()
    shared = shared_costs(totals, inputs)
    df = allocate(accounts, shared, settings.allocation_driver, inputs)
    df = duck.conform(df, ACCOUNT_UNIT_ECONOMICS_SCHEMA)
    lakeio.assert_finite("account_unit_economics", df)
    keys = context.partition_keys
    store.write_partitions("account_unit_economics", "month_start", keys, df)

    check = allocation_check(df, shared)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": df.height,
            "partitions": f"{keys[0]} … {keys[-1]} ({len(keys)} months)",
            "allocation_driver": settings.allocation_driver,
            "accounts_with_uninvoiced_days": int((df["uninvoiced_paying_days"] > 0).sum()),
            "preview": dg.MetadataValue.md(
                markdown_frame(
                    df.select(
                        "month_start",
                        "account_id",
                        "recognized_revenue_usd",
                        "direct_cost_usd",
                        "allocated_cost_usd",
                        "contribution_margin_usd",
                    ).sort("contribution_margin_usd", nulls_last=True),
                    15,
                    cell=lakeio.amount_cell,
                )
            ),
        },
        check_results=[check],
    )


def allocation_check(df: pl.DataFrame, shared: pl.DataFrame) -> dg.AssetCheckResult:
    """Allocated costs sum to the shared cost in every month where allocation was possible."""
    sums = (
        shared.join(
            df.group_by("month_start").agg(
                pl.col("allocated_cost_usd").sum().alias("allocated_usd"),
                pl.col("allocated_cost_usd").is_not_null().any().alias("allocated_any"),
            ),
            on="month_start",
            how="left",
        )
        .with_columns(pl.col("allocated_any").fill_null(False))
        .sort("month_start")
    )
    problems, unallocated = [], []
    for r in sums.iter_rows(named=True):
        if r["shared_cost_usd"] is None:
            continue
        if not r["allocated_any"]:
            if abs(r["shared_cost_usd"]) > 0.005:
                unallocated.append(f"{r['month_start']:%Y-%m} {lakeio.usd(r['shared_cost_usd'])}")
            continue
        if abs(r["allocated_usd"] - r["shared_cost_usd"]) > 0.005:
            problems.append(
                f"{r['month_start']:%Y-%m}: allocated {lakeio.usd(r['allocated_usd'])} vs shared "
                f"{lakeio.usd(r['shared_cost_usd'])}"
            )
    description = (
        "allocated costs add up to the shared cost"
        if not problems
        else "allocation does not add up: " + "; ".join(problems)
    )
    if unallocated:
        description += "; not allocated (no driver): " + ", ".join(unallocated)
    return dg.AssetCheckResult(
        check_name="allocation_adds_up",
        passed=not problems,
        severity=dg.AssetCheckSeverity.ERROR,
        description=description,
        metadata={
            "by_month": dg.MetadataValue.md(markdown_frame(sums, 24, cell=lakeio.amount_cell))
        },
    )
