"""The columns of the ``stg_`` tables: the landing contract's columns, typed, then where each row
came from (docs/staging.md, "Table schemas").

Types and required columns come from ``pacific_assets.contracts`` (the one statement of the
landing contract); this module adds each column's meaning. Pandera (``staging/schemas.py``) stays
the validation layer; a test holds it to these declarations.
"""

from __future__ import annotations

import polars as pl

from pacific_assets.columns import Column, TableColumns, declare
from pacific_assets.contracts import SOURCES

#: What each landed column means (docs/semantic-contract.md; the contract is
#: ``pacific_assets/contracts.py``). Clicks are staged by engagement (``engagement/columns.py``).
MEANINGS: dict[str, dict[str, str]] = {
    "invoice_lines": {
        "invoice_id": "the invoice (a refund line carries the original invoice's id)",
        "line_id": "the invoice line; a refund is a line of its own",
        "account_id": "the billed account",
        "issued_at": "when the line was issued",
        "paid_at": "when it was paid (refunds: when the money went back); null until paid",
        "service_start": "first day of the service period [service_start, service_end)",
        "service_end": "end of the service period (exclusive)",
        "product": "seat_license, feature:<name> or support:<tier>",
        "quantity": "units billed (seats for a seat license)",
        "unit_price_usd": "price per unit",
        "amount_usd": "amount of the line; negative on refund lines",
        "status": "paid, open, void or refunded, as of this export",
    },
    "ops_expenses": {
        "expense_id": "the expense",
        "month": "the accounting month, YYYY-MM",
        "category": "the spend category",
        "capex": "true = an asset, amortized straight line (default 36 months); false = opex",
        "vendor": "who was paid",
        "amount_usd": "the amount spent",
        "account_id": "the account the cost is directly for; null when the cost is shared",
    },
    "salaries": {
        "month": "the month, YYYY-MM",
        "team": "the team (salaries are aggregated by team)",
        "headcount": "people on the team's payroll that month",
        "salary_cost_usd": "the team's salary cost that month",
    },
    "accounts": {
        "account_id": "the customer account",
        "name": "the account's name",
        "segment": "smb, mid_market or enterprise",
        "region": "the account's region",
        "industry": "the account's industry",
        "created_at": "when the account was created in the CRM",
    },
    "account_events": {
        "event_id": "the CRM event (recorded exactly once)",
        "account_id": "the account",
        "event_type": "the lifecycle event (account_created, trial_started, subscribed, …)",
        "effective_at": "when the change took effect",
        "recorded_at": "when the CRM recorded it (late events are recorded after they take effect)",
        "plan": "the plan after the event",
        "seats": "contracted seats after the event",
        "contract_end": "end (exclusive) of the current annual term",
        "mrr_usd": "contracted MRR after the event (annual contract ÷ 12)",
    },
    "directory_users": {
        "user_id": "the customer's user",
        "account_id": "the user's account",
        "team": "the customer's team (sales, support, engineering, …)",
        "licensed": "the user holds a licence",
        "created_at": "when the user was created",
        "deactivated_at": "when the user was deactivated; null while active",
    },
    "experiment_registry": {
        "experiment_id": "the experiment",
        "unit_type": "what is randomized: account or user",
        "variants": "the variants, '|'-separated (e.g. control|treatment)",
        "weights": "the planned share of each variant, '|'-separated, same order as variants",
        "start_date": "first day of the experiment",
        "end_date": "end of the experiment (exclusive); null = open-ended",
        "primary_metric": "the metric the experiment is judged on",
    },
    "experiment_assignments": {
        "experiment_id": "the experiment",
        "unit_type": "account or user",
        "unit_id": "the randomized account or user",
        "variant": "the variant the unit was assigned to",
        "assigned_at": "when the unit was assigned",
    },
    "filings": {
        "month": "the filed month, YYYY-MM",
        "revenue_usd": "accountant-verified recognized revenue (accrual)",
        "expenses_usd": "filed expenses: opex + capex amortization + salaries",
    },
}

_PARTITION = {
    "export_date": "the landing folder's date (date=…): the day the source exported the rows; "
    "the partition",
    "month_start": "first day of the landing folder's month (month=…), the partition; not "
    "necessarily the month column (a correction may land a month later)",
}
SOURCE_FILE = Column("_source_file", pl.String, "the landed file, relative to landing/", False)
ROW_NUMBER = Column("_row_number", pl.Int64, "the 1-based data record in that file", False)


def _staging_table(name: str) -> TableColumns:
    source = SOURCES[name]
    meanings = MEANINGS[name]
    columns = [
        Column(col, dtype, meanings[col], nullable=col not in source.required)
        for col, dtype in source.columns.items()
    ]
    if source.grain != "none":
        part = source.partition_col
        columns.append(Column(part, pl.Date, _PARTITION[part], False))
    return declare(source.staging_table, *columns, SOURCE_FILE, ROW_NUMBER)


STAGING_TABLES: dict[str, TableColumns] = {name: _staging_table(name) for name in MEANINGS}
