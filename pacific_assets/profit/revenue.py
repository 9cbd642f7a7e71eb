"""Revenue facts: the current state of the books, recognized revenue and cash, per account per day.

``invoice_lines_current`` is unpartitioned on purpose: billing is a change feed, so any export
(yesterday's or last year's) can change any line — an annual prepaid line issued eleven months
ago still earns revenue today, and a void or refund that lands next month changes this month.
"The latest state of every line" is therefore one table built from *all* export dates
(``AllPartitionMapping``), and every daily partition of the facts below is derived from it.
"""

import datetime as dt

import dagster as dg
import polars as pl

from pacific_assets.orchestration import (
    Read,
    daily,
    publish_slices,
    reads_metadata,
    single_run_backfill,
)
from pacific_assets.previews import markdown_frame
from pacific_assets.profit import lakeio
from pacific_assets.profit.columns import (
    CASH_COLLECTED_DAILY,
    INVOICE_LINES_CURRENT,
    RECOGNIZED_REVENUE_DAILY,
)
from pacific_assets.resources import LakeResource
from pacific_assets.storage import duck

GROUP = "profit"

INVOICE_LINES_CURRENT_SCHEMA = INVOICE_LINES_CURRENT.polars()
RECOGNIZED_REVENUE_DAILY_SCHEMA = RECOGNIZED_REVENUE_DAILY.polars()
CASH_COLLECTED_DAILY_SCHEMA = CASH_COLLECTED_DAILY.polars()


@dg.asset(
    group_name=GROUP,
    deps=[dg.AssetDep("stg_invoice_lines", partition_mapping=dg.AllPartitionMapping())],
    check_specs=[
        dg.AssetCheckSpec(
            "service_periods_valid",
            asset="invoice_lines_current",
            description="Every non-void invoice line has a non-empty half-open service period "
            "[service_start, service_end). A line that fails cannot be spread over days and is "
            "left out of recognized revenue, so it is listed here for billing to correct.",
        )
    ],
    description="The current state of every invoice line: the latest row per `line_id` over all "
    "billing exports (by export date, then file, then row). Adds `service_days`, "
    "`daily_rate_usd` = amount ÷ days of the half-open service period, and `is_recognized` "
    "(false for void lines). Unpartitioned because any export can change any line.",
)
def invoice_lines_current(
    context: dg.AssetExecutionContext, lake: LakeResource
) -> dg.MaterializeResult:
    store = lake.for_asset(context)
    with lake.duckdb() as con:
        files = duck.lake_view(
            con, store, "stg_invoice_lines", lakeio.UPSTREAM_SCHEMAS["stg_invoice_lines"]
        )
        lines = duck.conform(
            duck.run_sql(con, lakeio.SQL_DIR, "invoice_lines_current").pl(),
            INVOICE_LINES_CURRENT_SCHEMA,
        )
    lakeio.assert_finite("invoice_lines_current", lines)
    publish_slices(
        store,
        "invoice_lines_current",
        lines,
        {
            "recognized": (duck.sql_text(lakeio.SQL_DIR, "revenue_slice_recognized"), False),
            "cash": (duck.sql_text(lakeio.SQL_DIR, "revenue_slice_cash"), False),
        },
    )
    store.write_table("invoice_lines_current", lines)

    bad = lines.filter((pl.col("status") != "void") & ~pl.col("is_recognized"))
    check = dg.AssetCheckResult(
        check_name="service_periods_valid",
        passed=bad.is_empty(),
        severity=dg.AssetCheckSeverity.ERROR,
        description=(
            "every non-void line has a valid service period"
            if bad.is_empty()
            else f"{bad.height} line(s) with service_end <= service_start are not recognized: "
            + ", ".join(bad["line_id"].head(20).to_list())
        ),
        metadata={
            "invalid_lines": bad.height,
            "preview": dg.MetadataValue.md(
                markdown_frame(
                    bad.select(
                        "line_id", "account_id", "service_start", "service_end", "amount_usd"
                    ),
                    cell=lakeio.amount_cell,
                )
            ),
        },
    )
    counts = dict(lines.group_by("status").len().iter_rows())
    context.log.info(f"invoice_lines_current: {lines.height} lines from {files} export files")
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": lines.height,
            "export_files": files,
            "lines_by_status": dg.MetadataValue.json({k: int(v) for k, v in counts.items()}),
            "lines_with_several_versions": int((lines["versions"] > 1).sum()),
            "preview": dg.MetadataValue.md(
                markdown_frame(lines.drop("_source_file", "_row_number"), cell=lakeio.amount_cell)
            ),
        },
        check_results=[check],
    )


def _window_dates(context: dg.AssetExecutionContext) -> tuple[dt.date, dt.date]:
    window = context.partition_time_window
    return window.start.date(), window.end.date()


def _require_current_lines(store) -> None:
    if not store.partition_files("invoice_lines_current"):
        raise RuntimeError(
            "invoice_lines_current has not been materialized: materialize it (it runs with the "
            "daily facts in profit_daily_facts_schedule) before the daily revenue facts"
        )


def _write_daily(
    context: dg.AssetExecutionContext,
    lake: LakeResource,
    table: str,
    schema: pl.Schema,
    value_col: str,
) -> dg.MaterializeResult:
    """Shared body of the two daily facts: one DuckDB pass over the run's whole day range."""
    store = lake.for_asset(context)
    _require_current_lines(store)
    start, end = _window_dates(context)
    with lake.duckdb() as con:
        duck.lake_view(con, store, "invoice_lines_current", INVOICE_LINES_CURRENT_SCHEMA)
        df = duck.conform(
            duck.run_sql(con, lakeio.SQL_DIR, table, {"start": start, "end": end}).pl(), schema
        )
    lakeio.assert_finite(table, df)
    keys = context.partition_keys
    store.write_partitions(table, "date", keys, df)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": df.height,
            "partitions": f"{keys[0]} … {keys[-1]} ({len(keys)} days)",
            f"total_{value_col}": float(df[value_col].sum()) if df.height else 0.0,
            "accounts": df["account_id"].n_unique(),
            "preview": dg.MetadataValue.md(markdown_frame(df, cell=lakeio.amount_cell)),
        }
    )


@dg.asset(
    group_name=GROUP,
    partitions_def=daily,
    backfill_policy=single_run_backfill,
    deps=["invoice_lines_current"],
    metadata=reads_metadata(Read("invoice_lines_current", "slice", name="recognized")),
    description="**Recognized revenue per account per day** (accrual, "
    "docs/semantic-contract.md): the sum over the account's recognized invoice lines whose "
    "half-open service period [service_start, service_end) contains the day, of amount ÷ days "
    "in the period. Refund lines "
    "(negative, over the original line's remaining days) reduce those days; void lines are "
    "ignored; each line counts in its latest state. One row per (date, account_id) that some "
    "line covers.",
)
def recognized_revenue_daily(
    context: dg.AssetExecutionContext, lake: LakeResource
) -> dg.MaterializeResult:
    return _write_daily(
        context,
        lake,
        "recognized_revenue_daily",
        RECOGNIZED_REVENUE_DAILY_SCHEMA,
        "recognized_revenue_usd",
    )


@dg.asset(
    group_name=GROUP,
    partitions_def=daily,
    backfill_policy=single_run_backfill,
    deps=["invoice_lines_current"],
    metadata=reads_metadata(Read("invoice_lines_current", "slice", name="cash")),
    description="**Cash collected per account per day**: the amount of paid lines on the UTC day "
    "of `paid_at`, minus refunds on the day the money went back (`refunded_usd` shows them). "
    "Open lines have not been paid; void lines are ignored.",
)
def cash_collected_daily(
    context: dg.AssetExecutionContext, lake: LakeResource
) -> dg.MaterializeResult:
    return _write_daily(
        context, lake, "cash_collected_daily", CASH_COLLECTED_DAILY_SCHEMA, "cash_collected_usd"
    )
