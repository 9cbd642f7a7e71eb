"""``profit_reconciliation``: our books against the accountant's filing, month by month.

The runbook's common issue is "numbers don't align with the filings — an accountant verifies".
So a mismatch is never adjusted away: the month is marked ``mismatch``, the check fails naming
the month, both figures and the variance, and lists where the accountant should look first (the
accounts and expense categories that make up most of the computed figure). A month whose filing
has not landed is ``no_filing`` — not reconciled, and never a pass.
"""

import datetime as dt

import dagster as dg
import polars as pl

from pacific_assets.orchestration import builds_without_metadata, monthly, single_run_backfill
from pacific_assets.previews import markdown_frame
from pacific_assets.profit import lakeio
from pacific_assets.profit.columns import PROFIT_RECONCILIATION
from pacific_assets.profit.expenses import PROFIT_EXPENSES_SCHEMA
from pacific_assets.profit.revenue import RECOGNIZED_REVENUE_DAILY_SCHEMA
from pacific_assets.profit.settings import ProfitSettings
from pacific_assets.profit.unit_profit import billing_gaps, describe_gaps
from pacific_assets.resources import LakeResource
from pacific_assets.storage import duck

GROUP = "profit"
CHECK_NAME = "reconciled_with_filings"

PROFIT_RECONCILIATION_SCHEMA = PROFIT_RECONCILIATION.polars()

_FILINGS_SQL = """
SELECT
    coalesce(CAST(try_strptime(month, '%Y-%m') AS DATE), month_start) AS filing_month,
    revenue_usd,
    expenses_usd,
    _source_file
FROM stg_filings
-- A re-filed month (a newer file) replaces the earlier filing.
QUALIFY row_number() OVER (
    PARTITION BY filing_month ORDER BY month_start DESC, _source_file DESC, _row_number DESC
) = 1
"""

_TOP_ACCOUNTS_SQL = """
SELECT
    CAST(date_trunc('month', date) AS DATE) AS month_start,
    account_id,
    sum(recognized_revenue_usd) AS amount_usd
FROM recognized_revenue_daily
GROUP BY ALL
"""

_TOP_CATEGORIES_SQL = """
SELECT month_start, expense_type || ':' || category AS category, sum(amount_usd) AS amount_usd
FROM profit_expenses
GROUP BY ALL
"""


def _top(df: pl.DataFrame, month: dt.date, key: str, n: int) -> str:
    """'A-1 $3,650.00 (47.1%), ...': the biggest parts of the month's figure, by absolute size."""
    part = df.filter(pl.col("month_start") == month)
    total = part["amount_usd"].abs().sum()
    if part.is_empty() or not total:
        return "none"
    top = part.sort(pl.col("amount_usd").abs(), key, descending=[True, False]).head(n)
    return ", ".join(
        f"{r[key]} {lakeio.usd(r['amount_usd'])} ({abs(r['amount_usd']) / total:.1%})"
        for r in top.iter_rows(named=True)
    )


def _gaps_text(gaps: pl.DataFrame, month: dt.date) -> str:
    part = gaps.filter(pl.col("month_start") == month)
    return describe_gaps(part) if part.height else "none"


def _variance(
    computed: float | None, filed: float
) -> tuple[float | None, float | None, str | None]:
    """(variance usd, variance % of the filed figure, null reason of the %)."""
    if computed is None:
        return None, None, "computed figure unavailable"
    variance = computed - filed
    if filed == 0:
        return variance, None, "filed figure is zero"
    return variance, variance / abs(filed) * 100.0, None


def reconcile_month(
    month: dt.date,
    books: dict,
    filing: dict | None,
    tolerance: float,
    top_accounts: str,
    top_categories: str,
    billing_gap_accounts: str = "none",
) -> dict:
    """One reconciliation row (see docs/profit.md, "profit_reconciliation")."""
    computed_rev = books["recognized_revenue_usd"]
    computed_exp = books["total_expenses_usd"]
    row = {
        "month_start": month,
        "computed_revenue_usd": computed_rev,
        "computed_expenses_usd": computed_exp,
        "tolerance_pct": tolerance * 100.0,
        "largest_revenue_accounts": top_accounts,
        "largest_expense_categories": top_categories,
        "billing_gap_accounts": billing_gap_accounts,
    }
    if filing is None:
        return {
            **row,
            "status": "no_filing",
            "status_reason": f"no filing for {month:%Y-%m} has landed yet: not reconciled",
            "revenue_variance_pct_null_reason": "no filing",
            "expenses_variance_pct_null_reason": "no filing",
        }
    rev_var, rev_pct, rev_reason = _variance(computed_rev, filing["revenue_usd"])
    exp_var, exp_pct, exp_reason = _variance(computed_exp, filing["expenses_usd"])
    row |= {
        "filed_revenue_usd": filing["revenue_usd"],
        "revenue_variance_usd": rev_var,
        "revenue_variance_pct": rev_pct,
        "revenue_variance_pct_null_reason": rev_reason,
        "filed_expenses_usd": filing["expenses_usd"],
        "expenses_variance_usd": exp_var,
        "expenses_variance_pct": exp_pct,
        "expenses_variance_pct_null_reason": exp_reason,
        "filing_source_file": filing["_source_file"],
    }
    problems = []
    for what, computed, filed, var in (
        ("revenue", computed_rev, filing["revenue_usd"], rev_var),
        ("expenses", computed_exp, filing["expenses_usd"], exp_var),
    ):
        if computed is None:
            problems.append(
                f"computed {what} unavailable ({books.get(f'{_books_col(what)}_null_reason')})"
            )
        elif abs(var) > tolerance * abs(filed):
            problems.append(
                f"{what} computed {lakeio.usd(computed)} vs filed {lakeio.usd(filed)}, variance "
                f"{lakeio.usd(var)}" + (f" ({var / abs(filed):+.2%})" if filed else "")
            )
    if problems:
        return row | {"status": "mismatch", "status_reason": "; ".join(problems)}
    return row | {
        "status": "reconciled",
        "status_reason": f"revenue and expenses within {tolerance:.2%} of the filing",
    }


def _books_col(what: str) -> str:
    return {"revenue": "recognized_revenue_usd", "expenses": "total_expenses_usd"}[what]


@dg.asset(
    group_name=GROUP,
    partitions_def=monthly,
    backfill_policy=single_run_backfill,
    deps=[
        "unit_profit",
        "account_unit_economics",
        "profit_expenses",
        dg.AssetDep("recognized_revenue_daily", partition_mapping=dg.TimeWindowPartitionMapping()),
        "stg_filings",
    ],
    # a month closes without its filing (status no_filing) and is redone when the filing lands
    metadata=builds_without_metadata("stg_filings"),
    check_specs=[
        dg.AssetCheckSpec(
            CHECK_NAME,
            asset="profit_reconciliation",
            description="Recognized revenue and total expenses of each month in the run agree "
            "with the accountant's filing within the tolerance (default 0.5 %). A mismatch fails "
            "(ERROR) naming the month, both figures, the variance and the largest accounts and "
            "expense categories, for an accountant to verify — numbers are never adjusted. A "
            "month with no filing yet fails as WARN (`no_filing`): not reconciled, never a pass.",
        )
    ],
    description="**Reconciliation with the filings, per month.** `status`: `reconciled` when "
    "|computed − filed| ≤ tolerance × |filed| for both recognized revenue and expenses "
    "(opex + capex amortization + salaries), `mismatch` otherwise, `no_filing` when the month's "
    "filing has not landed. Variances are computed − filed, in USD and in % of the filed figure. "
    "`billing_gap_accounts` (paying days without an invoice), `largest_revenue_accounts` and "
    "`largest_expense_categories` list where the accountant should look first.",
)
def profit_reconciliation(
    context: dg.AssetExecutionContext, lake: LakeResource, profit_settings: ProfitSettings
) -> dg.MaterializeResult:
    settings = profit_settings.validated()
    store = lake.for_asset(context)
    window = context.partition_time_window
    months = lakeio.month_starts(window.start.date(), window.end.date())
    keys = context.partition_keys
    days = lakeio.days_between(window.start.date(), window.end.date())
    for table in ("unit_profit", "account_unit_economics"):
        missing = sorted(set(keys) - set(store.partition_keys(table)))
        if missing:
            raise RuntimeError(
                f"{table} has no partition for {', '.join(missing)}: materialize it first"
            )
    books = {r["month_start"]: r for r in store.read("unit_profit", keys).iter_rows(named=True)}
    gaps = billing_gaps(store.read("account_unit_economics", keys))
    with lake.duckdb() as con:
        duck.lake_view(con, store, "stg_filings", lakeio.UPSTREAM_SCHEMAS["stg_filings"])
        duck.lake_view(
            con, store, "recognized_revenue_daily", RECOGNIZED_REVENUE_DAILY_SCHEMA, days
        )
        duck.lake_view(con, store, "profit_expenses", PROFIT_EXPENSES_SCHEMA, keys)
        filings = {
            r["filing_month"]: r for r in con.execute(_FILINGS_SQL).pl().iter_rows(named=True)
        }
        accounts = con.execute(_TOP_ACCOUNTS_SQL).pl()
        categories = con.execute(_TOP_CATEGORIES_SQL).pl()
    n = settings.top_contributors
    rows = [
        reconcile_month(
            m,
            books[m],
            filings.get(m),
            settings.reconciliation_tolerance,
            _top(accounts, m, "account_id", n),
            _top(categories, m, "category", n),
            _gaps_text(gaps, m),
        )
        for m in months
    ]
    df = duck.conform(
        pl.DataFrame(rows, schema=PROFIT_RECONCILIATION_SCHEMA), PROFIT_RECONCILIATION_SCHEMA
    )
    lakeio.assert_finite("profit_reconciliation", df)
    store.write_partitions("profit_reconciliation", "month_start", keys, df)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": df.height,
            "partitions": f"{keys[0]} … {keys[-1]} ({len(keys)} months)",
            "tolerance_pct": settings.reconciliation_tolerance * 100,
            "statuses": dg.MetadataValue.json(
                {k: int(v) for k, v in df.group_by("status").len().iter_rows()}
            ),
            "preview": dg.MetadataValue.md(
                markdown_frame(_summary(df), 24, cell=lakeio.amount_cell)
            ),
        },
        check_results=[reconciliation_check(df)],
    )


def _summary(df: pl.DataFrame) -> pl.DataFrame:
    return df.select(
        "month_start",
        "status",
        "computed_revenue_usd",
        "filed_revenue_usd",
        "revenue_variance_pct",
        "computed_expenses_usd",
        "filed_expenses_usd",
        "expenses_variance_pct",
    )


def reconciliation_check(df: pl.DataFrame) -> dg.AssetCheckResult:
    """Fails (ERROR) on any mismatch, (WARN) when a month has no filing; passes only if all match."""
    mismatches = df.filter(pl.col("status") == "mismatch")
    missing = df.filter(pl.col("status") == "no_filing")
    parts = [
        f"{r['month_start']:%Y-%m} MISMATCH: {r['status_reason']}. Billing gaps (check first): "
        f"{r['billing_gap_accounts']}. Largest accounts: {r['largest_revenue_accounts']}. "
        f"Largest expense categories: {r['largest_expense_categories']}. Route to an "
        "accountant for verification."
        for r in mismatches.iter_rows(named=True)
    ]
    parts += [
        f"{r['month_start']:%Y-%m} no_filing: {r['status_reason']}"
        for r in missing.iter_rows(named=True)
    ]
    passed = mismatches.is_empty() and missing.is_empty()
    return dg.AssetCheckResult(
        check_name=CHECK_NAME,
        passed=passed,
        severity=dg.AssetCheckSeverity.ERROR
        if not mismatches.is_empty()
        else dg.AssetCheckSeverity.WARN,
        description="every month reconciled with its filing" if passed else " | ".join(parts),
        metadata={
            "mismatch_months": ", ".join(f"{m:%Y-%m}" for m in mismatches["month_start"]) or "none",
            "no_filing_months": ", ".join(f"{m:%Y-%m}" for m in missing["month_start"]) or "none",
            "months": dg.MetadataValue.md(
                markdown_frame(_summary(df), 24, cell=lakeio.amount_cell)
            ),
        },
    )
