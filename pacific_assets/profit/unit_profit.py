"""``unit_profit``: the month's books and what they mean per subscriber, per seat, per account.

Every figure is built from the daily facts and the month's expense lines. The arithmetic is done
per month in plain Python on purpose: a dozen rows, and each null has a reason a reader can follow
line by line (docs/profit.md "Tables": never NaN or inf, explicit null plus ``<name>_null_reason``).
"""

import datetime as dt

import dagster as dg
import polars as pl

from pacific_assets.figures import Figure
from pacific_assets.orchestration import builds_without_metadata, monthly, single_run_backfill
from pacific_assets.previews import markdown_frame
from pacific_assets.profit import lakeio
from pacific_assets.profit.columns import UNIT_PROFIT
from pacific_assets.profit.month_inputs import MonthInputs, open_month_inputs
from pacific_assets.resources import LakeResource
from pacific_assets.storage import duck

GROUP = "profit"

UNIT_PROFIT_SCHEMA = UNIT_PROFIT.polars()


def _sum(*parts: Figure) -> Figure:
    reasons = [p.null_reason for p in parts if p.value is None]
    if reasons:
        return Figure.null("; ".join(dict.fromkeys(r for r in reasons if r)))
    return Figure(sum(p.value for p in parts))  # type: ignore[misc]


def _minus(a: Figure, b: Figure) -> Figure:
    if a.value is None or b.value is None:
        return Figure.null("; ".join(r for r in (a.null_reason, b.null_reason) if r))
    return Figure(a.value - b.value)


def _ratio(num: Figure, den: Figure, zero_reason: str) -> Figure:
    """num / den; null with a reason when either is unknown or the denominator is zero."""
    if num.value is None:
        return Figure.null(num.null_reason or "numerator unknown")
    if den.value is None:
        return Figure.null(den.null_reason or "denominator unknown")
    if den.value == 0:
        return Figure.null(zero_reason)
    return Figure(num.value / den.value)


def billing_gaps(accounts: pl.DataFrame) -> pl.DataFrame:
    """Account-months with paying days that no invoice line covers (a missing invoice)."""
    return accounts.filter(pl.col("uninvoiced_paying_days") > 0).sort(
        "month_start", "uninvoiced_paying_days", "account_id", descending=[False, True, False]
    )


def describe_gaps(gaps: pl.DataFrame, limit: int = 20) -> str:
    """'A-7 21 days (est. $35.00), ...' for check texts and reasons."""
    text = ", ".join(
        f"{r['account_id']} {r['uninvoiced_paying_days']} days "
        f"(est. {lakeio.usd(r['estimated_unbilled_revenue_usd'])})"
        for r in gaps.head(limit).iter_rows(named=True)
    )
    return text + (f" and {gaps.height - limit} more" if gaps.height > limit else "")


def month_row(month: dt.date, totals: dict, accounts: pl.DataFrame, inputs: MonthInputs) -> dict:
    """All unit_profit columns of one month (see docs/profit.md for every definition)."""
    ops_missing = inputs.missing_ops.get(month)
    opex = Figure.null(ops_missing) if ops_missing else Figure(totals["opex_usd"])
    capex = Figure.null(ops_missing) if ops_missing else Figure(totals["capex_amortization_usd"])
    salaries_missing = inputs.missing_salaries.get(month)
    salaries = Figure.null(salaries_missing) if salaries_missing else Figure(totals["salaries_usd"])
    direct = Figure.null(ops_missing) if ops_missing else Figure(totals["direct_cost_usd"])
    # Shared = ops costs without an account + all salaries; unknown if either export is missing.
    shared_missing = "; ".join(r for r in (ops_missing, salaries_missing) if r)
    shared = Figure.null(shared_missing) if shared_missing else Figure(totals["shared_cost_usd"])
    revenue = Figure(totals["recognized_revenue_usd"])
    total_expenses = _sum(opex, capex, salaries)
    profit = _minus(revenue, total_expenses)

    status_missing = inputs.missing_status_last_day.get(month)
    at_end = accounts.filter(pl.col("paying_at_month_end"))
    if status_missing:
        subscribers = seats = Figure.null(status_missing)
    else:
        subscribers = Figure(at_end.height)
        seats = Figure(int(at_end["seats_at_month_end"].fill_null(0).sum()))
    no_subs = f"no paying subscribers at the end of {month:%Y-%m}"
    per_subscriber = _ratio(profit, subscribers, no_subs)
    per_seat = _ratio(profit, seats, f"no licensed seats at the end of {month:%Y-%m}")
    direct_per_account = _ratio(direct, subscribers, no_subs)
    loaded_per_account = _ratio(total_expenses, subscribers, no_subs)
    if revenue.value is not None and revenue.value <= 0:
        gross_margin = Figure.null(f"no positive recognized revenue in {month:%Y-%m}")
    else:
        gross_margin = _ratio(_minus(revenue, direct), revenue, "")

    unbilled = billing_gaps(accounts)
    reasons = inputs.incomplete_reasons(month)
    if unbilled.height:
        reasons.append(
            f"{unbilled.height} paying account(s) with days no invoice covers: "
            + describe_gaps(unbilled, limit=10)
        )

    row: dict = {
        "month_start": month,
        "cash_collected_usd": totals["cash_collected_usd"],
        "recognized_revenue_usd": revenue.value,
        "accounts_with_uninvoiced_days": unbilled.height,
        "uninvoiced_paying_days": int(accounts["uninvoiced_paying_days"].sum()),
        "estimated_unbilled_revenue_usd": float(accounts["estimated_unbilled_revenue_usd"].sum()),
        "is_complete": not reasons,
        "incomplete_reason": "; ".join(reasons) if reasons else None,
    }
    for name, v in {
        "opex_usd": opex,
        "capex_amortization_usd": capex,
        "salaries_usd": salaries,
        "total_expenses_usd": total_expenses,
        "profit_usd": profit,
        "direct_cost_usd": direct,
        "shared_cost_usd": shared,
        "paying_subscribers": subscribers,
        "licensed_seats": seats,
        "profit_per_subscriber_usd": per_subscriber,
        "profit_per_seat_usd": per_seat,
        "direct_cost_per_account_usd": direct_per_account,
        "fully_loaded_cost_per_account_usd": loaded_per_account,
        "gross_margin": gross_margin,
    }.items():
        row[name] = v.value
        row[f"{name}_null_reason"] = v.null_reason
    return row


@dg.asset(
    group_name=GROUP,
    partitions_def=monthly,
    backfill_policy=single_run_backfill,
    deps=[
        dg.AssetDep("recognized_revenue_daily", partition_mapping=dg.TimeWindowPartitionMapping()),
        dg.AssetDep("cash_collected_daily", partition_mapping=dg.TimeWindowPartitionMapping()),
        "profit_expenses",
        dg.AssetDep("account_status_daily", partition_mapping=dg.TimeWindowPartitionMapping()),
    ],
    # no status for the month end: subscriber counts are null with the reason
    metadata=builds_without_metadata("account_status_daily"),
    check_specs=[
        dg.AssetCheckSpec(
            "paying_accounts_invoiced",
            asset="unit_profit",
            description="Every day an account was paying is covered by an invoice line. Paying "
            "days with no invoice (a subscription that was not billed) make recognized revenue "
            "too low: listed by month and account with the days and an MRR-based estimate, for "
            "billing to issue the invoice (WARN).",
        )
    ],
    description="**Unit profit per month** (docs/profit.md). `cash_collected_usd`: paid lines by "
    "payment date, net of refunds. `recognized_revenue_usd`: accrual revenue, sum of "
    "`recognized_revenue_daily` over the month. `opex_usd`, `capex_amortization_usd` (straight "
    "line, default 36 months), `salaries_usd` (all teams); `total_expenses_usd` = their sum; "
    "`profit_usd` = recognized revenue − total expenses. `paying_subscribers`: accounts paying at "
    "the end of the month's last UTC day; `licensed_seats`: their contracted seats. "
    "`profit_per_subscriber_usd` = profit ÷ paying subscribers; `profit_per_seat_usd` = profit ÷ "
    "licensed seats; `direct_cost_per_account_usd` = costs attributed to an account ÷ paying "
    "subscribers; `fully_loaded_cost_per_account_usd` = total expenses ÷ paying subscribers; "
    "`gross_margin` = (recognized revenue − direct costs) ÷ recognized revenue. A missing input "
    "or zero denominator gives null plus `<name>_null_reason`; `is_complete` / "
    "`incomplete_reason` say whether every input of the month was there and billed.",
)
def unit_profit(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:
    store = lake.for_asset(context)
    window = context.partition_time_window
    months = lakeio.month_starts(window.start.date(), window.end.date())
    with lake.duckdb() as con:
        inputs = open_month_inputs(con, store, months)
        totals = duck.run_sql(con, lakeio.SQL_DIR, "month_totals").pl()
        accounts = duck.run_sql(con, lakeio.SQL_DIR, "account_month").pl()
    rows = [
        month_row(
            m,
            totals.filter(pl.col("month_start") == m).row(0, named=True),
            accounts.filter(pl.col("month_start") == m),
            inputs,
        )
        for m in months
    ]
    df = duck.conform(pl.DataFrame(rows, schema=UNIT_PROFIT_SCHEMA), UNIT_PROFIT_SCHEMA)
    lakeio.assert_finite("unit_profit", df)
    keys = context.partition_keys
    store.write_partitions("unit_profit", "month_start", keys, df)

    unbilled = billing_gaps(accounts)
    by_month = [
        f"{m:%Y-%m}: {describe_gaps(part)}"
        for (m,), part in unbilled.partition_by("month_start", as_dict=True).items()
    ]
    check = dg.AssetCheckResult(
        check_name="paying_accounts_invoiced",
        passed=unbilled.is_empty(),
        severity=dg.AssetCheckSeverity.WARN,
        description=(
            "every paying day of every account is covered by an invoice line"
            if unbilled.is_empty()
            else "paying days with no invoice line (revenue understated; billing should issue "
            "the invoice): " + "; ".join(by_month)
        ),
        metadata={
            "account_months_with_gaps": unbilled.height,
            "accounts": dg.MetadataValue.md(
                markdown_frame(
                    unbilled.select(
                        "month_start",
                        "account_id",
                        "paying_days",
                        "uninvoiced_paying_days",
                        "estimated_unbilled_revenue_usd",
                    ),
                    50,
                    cell=lakeio.amount_cell,
                )
            ),
        },
    )
    summary = df.select(
        "month_start",
        "recognized_revenue_usd",
        "total_expenses_usd",
        "profit_usd",
        "paying_subscribers",
        "profit_per_subscriber_usd",
        "is_complete",
    )
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": df.height,
            "partitions": f"{keys[0]} … {keys[-1]} ({len(keys)} months)",
            "incomplete_months": int((~df["is_complete"]).sum()),
            "preview": dg.MetadataValue.md(markdown_frame(summary, 24, cell=lakeio.amount_cell)),
        },
        check_results=[check],
    )
