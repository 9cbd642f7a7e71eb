"""The columns of the profit pipeline's lake tables (docs/profit.md, "Tables").

All money is US dollars at full precision; every value that can be undefined is null with a
``<name>_null_reason``, never NaN (docs/semantic-contract.md).
"""

from __future__ import annotations

import polars as pl

from pacific_assets.columns import UTC_TS, Column, declare, null_reason
from pacific_assets.staging.columns import MEANINGS, ROW_NUMBER, SOURCE_FILE

BOOL, DATE, F64, I64, STR = pl.Boolean, pl.Date, pl.Float64, pl.Int64, pl.String

_LINE = MEANINGS["invoice_lines"]
_MONTH = Column("month_start", DATE, "first day of the month (the partition)", False)
_DAY = Column("date", DATE, "the UTC day (the partition)", False)

INVOICE_LINES_CURRENT = declare(
    "invoice_lines_current",
    Column("invoice_id", STR, _LINE["invoice_id"], False),
    Column("line_id", STR, _LINE["line_id"] + "; one row per line", False),
    Column("account_id", STR, _LINE["account_id"], False),
    Column("issued_at", UTC_TS, _LINE["issued_at"], False),
    Column("paid_at", UTC_TS, _LINE["paid_at"]),
    Column("service_start", DATE, _LINE["service_start"], False),
    Column("service_end", DATE, _LINE["service_end"], False),
    Column("product", STR, _LINE["product"], False),
    Column("quantity", I64, _LINE["quantity"]),
    Column("unit_price_usd", F64, _LINE["unit_price_usd"]),
    Column("amount_usd", F64, _LINE["amount_usd"], False),
    Column("status", STR, "paid, open, void or refunded: the line's current state", False),
    Column("service_days", I64, "days of the half-open service period", False),
    Column("daily_rate_usd", F64, "amount_usd ÷ service_days: revenue recognized per day", False),
    Column(
        "is_recognized",
        BOOL,
        "counts as revenue: false for void lines and lines whose period is empty or inverted",
        False,
    ),
    Column("first_export_date", DATE, "the first export that held the line", False),
    Column("last_export_date", DATE, "the export of the current row", False),
    Column("versions", I64, "rows seen for the line (one per status change)", False),
    Column("_source_file", STR, "the landed file of the current row", False),
    Column("_row_number", I64, ROW_NUMBER.description + " (the current row)", False),
)
assert SOURCE_FILE.name == "_source_file"  # the lineage columns staging writes, kept here

RECOGNIZED_REVENUE_DAILY = declare(
    "recognized_revenue_daily",
    _DAY,
    Column("account_id", STR, "the account (a row for every account-day some line covers)", False),
    Column(
        "recognized_revenue_usd",
        F64,
        "Σ daily_rate_usd of the account's recognized lines covering the day (accrual: open lines "
        "count, refunds reduce, void lines never count)",
        False,
    ),
    Column("invoice_lines", I64, "lines covering the day", False),
    Column("refund_lines", I64, "of which refund lines", False),
)

CASH_COLLECTED_DAILY = declare(
    "cash_collected_daily",
    _DAY,
    Column("account_id", STR, "the account", False),
    Column(
        "cash_collected_usd",
        F64,
        "Σ amount_usd of paid and refunded lines on the UTC day of paid_at (refunds negative)",
        False,
    ),
    Column("refunded_usd", F64, "the refunds among them, on the day the money went back", False),
    Column("payments", I64, "lines counted", False),
)

PROFIT_EXPENSES = declare(
    "profit_expenses",
    _MONTH,
    Column("expense_type", STR, "opex, capex_amortization or salaries", False),
    Column("category", STR, "the ops spend category; for salaries, the team", False),
    Column("account_id", STR, "set: a direct cost of that account; null: a shared cost"),
    Column("expense_id", STR, "the ops expense (null for salaries)"),
    Column("vendor", STR, "who was paid (null for salaries)"),
    Column(
        "amount_usd",
        F64,
        "the month's cost: opex amount, purchase ÷ capex_life_months, or the team's salary cost",
        False,
    ),
    Column(
        "incurred_month", DATE, "the month the expense was incurred (capex: the purchase)", False
    ),
    Column("original_amount_usd", F64, "the expense's full amount (capex: the purchase)", False),
    Column("amortization_months", I64, "capex only: months the purchase is spread over"),
    Column("headcount", I64, "salaries only: the team's headcount"),
)

_UNIT = "; null when paying_subscribers is null or 0"
UNIT_PROFIT = declare(
    "unit_profit",
    _MONTH,
    Column("cash_collected_usd", F64, "Σ cash_collected_daily over the month", False),
    Column(
        "recognized_revenue_usd",
        F64,
        "Σ recognized_revenue_daily over the month (never null: it is what the books hold)",
        False,
    ),
    Column("opex_usd", F64, "Σ opex expenses; null when the month's ops export has not landed"),
    null_reason("opex_usd"),
    Column(
        "capex_amortization_usd",
        F64,
        "Σ capex amortization; null when the month's ops export has not landed",
    ),
    null_reason("capex_amortization_usd"),
    Column("salaries_usd", F64, "Σ salaries; null when the month's HR export has not landed"),
    null_reason("salaries_usd"),
    Column("total_expenses_usd", F64, "opex + capex amortization + salaries"),
    null_reason("total_expenses_usd"),
    Column("profit_usd", F64, "recognized revenue − total expenses (accrual, as the filings)"),
    null_reason("profit_usd"),
    Column("direct_cost_usd", F64, "ops costs attributed to an account"),
    null_reason("direct_cost_usd"),
    Column("shared_cost_usd", F64, "everything else: shared ops costs + salaries"),
    null_reason("shared_cost_usd"),
    Column(
        "paying_subscribers",
        I64,
        "accounts paying on the month's last UTC day (trials excluded); null when growth has no "
        "partition for that day",
    ),
    null_reason("paying_subscribers"),
    Column("licensed_seats", I64, "Σ contracted seats of those accounts"),
    null_reason("licensed_seats"),
    Column("profit_per_subscriber_usd", F64, "unit profit: profit ÷ paying subscribers" + _UNIT),
    null_reason("profit_per_subscriber_usd"),
    Column("profit_per_seat_usd", F64, "profit ÷ licensed seats; null when there are none"),
    null_reason("profit_per_seat_usd"),
    Column("direct_cost_per_account_usd", F64, "direct cost ÷ paying subscribers" + _UNIT),
    null_reason("direct_cost_per_account_usd"),
    Column("fully_loaded_cost_per_account_usd", F64, "total expenses ÷ paying subscribers" + _UNIT),
    null_reason("fully_loaded_cost_per_account_usd"),
    Column(
        "gross_margin",
        F64,
        "(recognized revenue − direct cost) ÷ recognized revenue; null when revenue ≤ 0",
    ),
    null_reason("gross_margin"),
    Column(
        "accounts_with_uninvoiced_days",
        I64,
        "billing gaps: paying accounts with days no invoice line covers",
        False,
    ),
    Column("uninvoiced_paying_days", I64, "billing gaps: paying days no invoice covers", False),
    Column(
        "estimated_unbilled_revenue_usd",
        F64,
        "billing gaps valued at the contracted MRR's daily rate (an estimate for the accountant)",
        False,
    ),
    Column(
        "is_complete",
        BOOL,
        "false when an export is missing, growth has missing days, or a paying account was not "
        "billed",
        False,
    ),
    Column("incomplete_reason", STR, "every reason the month is not complete; null when it is"),
)

ACCOUNT_UNIT_ECONOMICS = declare(
    "account_unit_economics",
    _MONTH,
    Column(
        "account_id",
        STR,
        "an account that paid on some day of the month, had revenue, carried a direct cost or "
        "used the product",
        False,
    ),
    Column("paying_days", I64, "days of the month it was paying (account_status_daily)", False),
    Column("paying_at_month_end", BOOL, "paying on the month's last day", False),
    Column("seats_at_month_end", I64, "contracted seats on the month's last day"),
    Column(
        "recognized_revenue_usd",
        F64,
        "the account's accrual revenue in the month; null when it has uninvoiced paying days",
    ),
    null_reason("recognized_revenue_usd", "the billing gap"),
    Column(
        "booked_revenue_usd", F64, "what its existing invoice lines recognize (never null)", False
    ),
    Column("uninvoiced_paying_days", I64, "paying days no invoice line covers", False),
    Column(
        "estimated_unbilled_revenue_usd",
        F64,
        "those days valued at the contracted MRR's daily rate (mrr_usd × 12 ÷ 365): an estimate",
        False,
    ),
    Column(
        "direct_cost_usd", F64, "Σ of its direct profit_expenses (opex + capex amortization)", False
    ),
    Column("allocation_driver", STR, "seat_days (default) or usage_hours", False),
    Column(
        "driver_value",
        F64,
        "its driver: Σ seats over the days it was paying, or Σ engagement hours",
        False,
    ),
    Column("allocation_share", F64, "driver_value ÷ the month's total", False),
    Column(
        "allocated_cost_usd",
        F64,
        "shared cost × share; null when the shared cost or driver is unknown or the total is 0",
    ),
    null_reason("allocated_cost_usd"),
    Column(
        "contribution_margin_usd",
        F64,
        "recognized revenue − direct cost − allocated cost; null with the first null input's reason",
    ),
    null_reason("contribution_margin_usd"),
)

PROFIT_RECONCILIATION = declare(
    "profit_reconciliation",
    _MONTH,
    Column(
        "status",
        STR,
        "reconciled (both figures within tolerance), mismatch, or no_filing (never a pass)",
        False,
    ),
    Column("status_reason", STR, "the figures and variance(s) behind the status", False),
    Column("filed_revenue_usd", F64, "the filing's revenue (latest row per month, newest file)"),
    Column("computed_revenue_usd", F64, "unit_profit.recognized_revenue_usd"),
    Column("revenue_variance_usd", F64, "computed − filed revenue"),
    Column("revenue_variance_pct", F64, "revenue variance ÷ |filed| × 100"),
    null_reason("revenue_variance_pct", "filed is 0, no filing, or no computed figure"),
    Column("filed_expenses_usd", F64, "the filing's expenses"),
    Column("computed_expenses_usd", F64, "unit_profit.total_expenses_usd"),
    Column("expenses_variance_usd", F64, "computed − filed expenses"),
    Column("expenses_variance_pct", F64, "expenses variance ÷ |filed| × 100"),
    null_reason("expenses_variance_pct", "filed is 0, no filing, or no computed figure"),
    Column("tolerance_pct", F64, "the tolerance used, in %", False),
    Column(
        "largest_revenue_accounts",
        STR,
        "top accounts of the computed revenue, with their shares",
        False,
    ),
    Column(
        "largest_expense_categories",
        STR,
        "top categories of the computed expenses, with their shares",
        False,
    ),
    Column(
        "billing_gap_accounts",
        STR,
        "accounts with uninvoiced paying days (days, estimate): look here first",
        False,
    ),
    Column("filing_source_file", STR, "the landed filing the figures come from; null without one"),
)
