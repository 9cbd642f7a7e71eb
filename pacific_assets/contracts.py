"""Landing-zone contract: where each source lands, in what format, with which columns.

This module is the one written statement of the contract. The simulator writes to it, the staging
layer reads and validates against it, and docs/staging.md ("Table schemas") and docs/simulator.md
("Landing-zone decisions") explain it in prose. Keep it stable; when it must change, change it here, in the simulator and in the docs together.

Conventions for every source:
- Paths are relative to ``<data_root>/landing``; one folder per landing date/month, Hive style.
  Daily folders are ``date=YYYY-MM-DD`` (the UTC day the source exported the rows), monthly
  folders ``month=YYYY-MM``. A folder can hold several files (batches); files are never modified
  after they land, later corrections arrive as new rows in a later folder.
- CSV files have a header row, comma separator, UTF-8, empty field = null.
- Timestamps are ISO-8601 UTC with a ``Z`` suffix (``2025-09-01T13:45:12Z``, fractional seconds
  allowed); dates are ``YYYY-MM-DD``; money is decimal US dollars; booleans are ``true``/``false``.
- "Change feeds": billing, directory and CRM exports hold the rows *issued or changed* that day.
  An invoice line appears when issued (``status=open``, empty ``paid_at``) and again on the day it
  is paid or voided, with the new status; a user appears when created and again when deactivated.
  The latest row per key (by export date, then file order) is the current state.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

UTC_TS = pl.Datetime("us", "UTC")


@dataclass(frozen=True)
class LandingSource:
    """One landed source and the staging table it becomes."""

    name: str
    #: Folder under landing/ that holds the partition folders (or the file itself for registry).
    path: str
    #: "csv" or "jsonl".
    fmt: str
    #: "daily" (``date=YYYY-MM-DD``), "monthly" (``month=YYYY-MM``) or "none" (single file).
    grain: str
    columns: dict[str, pl.DataType]
    #: Columns that must be present and non-null in every valid row.
    required: tuple[str, ...]
    #: Allowed values per column (enforced by the staging schema; other values are quarantined).
    allowed: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def staging_table(self) -> str:
        return f"stg_{self.name}"

    @property
    def partition_col(self) -> str:
        """Column added by staging that holds the landing folder's key as a date."""
        return {"daily": "export_date", "monthly": "month_start", "none": "snapshot"}[self.grain]


INVOICE_STATUSES = ("paid", "open", "void", "refunded")
CRM_EVENT_TYPES = (
    "account_created",
    "trial_started",
    "subscribed",
    "seats_changed",
    "plan_changed",
    "addon_added",
    "addon_removed",
    "renewal_opened",
    "renewed",
    "churned",
    "reactivated",
)

INVOICE_LINES = LandingSource(
    name="invoice_lines",
    path="billing/invoices",
    fmt="csv",
    grain="daily",
    columns={
        "invoice_id": pl.String,
        "line_id": pl.String,
        "account_id": pl.String,
        "issued_at": UTC_TS,
        "paid_at": UTC_TS,  # empty until paid; for refunds, when the money went back
        "service_start": pl.Date,  # half-open [service_start, service_end)
        "service_end": pl.Date,
        "product": pl.String,  # seat_license | feature:<name> | support:<tier>
        "quantity": pl.Int64,
        "unit_price_usd": pl.Float64,
        "amount_usd": pl.Float64,  # negative for refund lines
        "status": pl.String,
    },
    required=(
        "invoice_id",
        "line_id",
        "account_id",
        "issued_at",
        "service_start",
        "service_end",
        "product",
        "amount_usd",
        "status",
    ),
    allowed={"status": INVOICE_STATUSES},
)
"""Refund lines: own ``line_id``, the original ``invoice_id``, ``status=refunded``, negative
``amount_usd``, and a service period covering the original line's remaining days
``[first refunded day, original service_end)`` — so they are recognized like any line."""

OPS_EXPENSES = LandingSource(
    name="ops_expenses",
    path="ops/expenses",
    fmt="csv",
    grain="monthly",
    columns={
        "expense_id": pl.String,
        "month": pl.String,  # YYYY-MM
        "category": pl.String,
        "capex": pl.Boolean,  # true = an asset, amortized straight line (default 36 months)
        "vendor": pl.String,
        "amount_usd": pl.Float64,
        "account_id": pl.String,  # empty when the cost is shared
    },
    required=("expense_id", "month", "category", "capex", "amount_usd"),
)

SALARIES = LandingSource(
    name="salaries",
    path="hr/salaries",
    fmt="csv",
    grain="monthly",
    columns={
        "month": pl.String,
        "team": pl.String,
        "headcount": pl.Int64,
        "salary_cost_usd": pl.Float64,
    },
    required=("month", "team", "headcount", "salary_cost_usd"),
)

ACCOUNTS = LandingSource(
    name="accounts",
    path="crm/accounts",
    fmt="csv",
    grain="daily",
    columns={
        "account_id": pl.String,
        "name": pl.String,
        "segment": pl.String,  # smb | mid_market | enterprise
        "region": pl.String,
        "industry": pl.String,
        "created_at": UTC_TS,
    },
    required=("account_id", "segment", "created_at"),
)

ACCOUNT_EVENTS = LandingSource(
    name="account_events",
    path="crm/account_events",
    fmt="jsonl",
    grain="daily",  # folder = the day the CRM recorded the event (late events land late)
    columns={
        "event_id": pl.String,
        "account_id": pl.String,
        "event_type": pl.String,
        "effective_at": UTC_TS,
        "recorded_at": UTC_TS,
        "plan": pl.String,
        "seats": pl.Int64,  # seats after the event
        "contract_end": pl.Date,  # end (exclusive) of the current annual term
        "mrr_usd": pl.Float64,  # contracted MRR after the event (annual ÷ 12)
    },
    required=("event_id", "account_id", "event_type", "effective_at", "recorded_at"),
    allowed={"event_type": CRM_EVENT_TYPES},
)

DIRECTORY_USERS = LandingSource(
    name="directory_users",
    path="directory/users",
    fmt="csv",
    grain="daily",
    columns={
        "user_id": pl.String,
        "account_id": pl.String,
        "team": pl.String,  # the customer's team (sales, support, engineering, ...)
        "licensed": pl.Boolean,
        "created_at": UTC_TS,
        "deactivated_at": UTC_TS,
    },
    required=("user_id", "account_id", "licensed", "created_at"),
)

CLICKS = LandingSource(
    name="clicks",
    path="clickstream",
    fmt="jsonl",
    grain="daily",  # folder is ingest_date=YYYY-MM-DD (arrival), not event date; see below
    columns={
        "event_id": pl.String,
        "user_id": pl.String,
        "account_id": pl.String,
        "event_ts": UTC_TS,
        "sent_at": UTC_TS,
        "page": pl.String,
        "action": pl.String,
        "landed_at": UTC_TS,  # added by ingestion (the simulator sets it to the arrival time)
        "partition": pl.Int64,  # Kafka partition, null when not from Kafka
        "offset": pl.Int64,  # Kafka offset, null when not from Kafka
    },
    required=("event_id", "user_id", "account_id", "event_ts", "landed_at"),
)
"""Clicks land as ``clickstream/ingest_date=YYYY-MM-DD/batch-<NNNNNNNN>.jsonl``, one file per
ingest batch (batch numbers increase with arrival order; the number is the de-dup order of
docs/semantic-contract.md). Each batch has a manifest line in ``clickstream/_manifest.jsonl``:
``{"batch": "<file name>", "ingest_date": ..., "event_dates": [...], "rows": n, "landed_at": ...}``.
The manifest line is written after the file is durable; a batch without one is not yet landed."""

EXPERIMENT_REGISTRY = LandingSource(
    name="experiment_registry",
    path="experiments/registry.csv",
    fmt="csv",
    grain="none",
    columns={
        "experiment_id": pl.String,
        "unit_type": pl.String,  # account | user
        "variants": pl.String,  # "control|treatment"
        "weights": pl.String,  # "0.5|0.5", same order as variants
        "start_date": pl.Date,
        "end_date": pl.Date,  # exclusive
        "primary_metric": pl.String,  # e.g. hours_per_active_day, sessions
    },
    required=("experiment_id", "unit_type", "variants", "weights", "start_date", "primary_metric"),
    allowed={"unit_type": ("account", "user")},
)

EXPERIMENT_ASSIGNMENTS = LandingSource(
    name="experiment_assignments",
    path="experiments/assignments",
    fmt="csv",
    grain="daily",
    columns={
        "experiment_id": pl.String,
        "unit_type": pl.String,
        "unit_id": pl.String,
        "variant": pl.String,
        "assigned_at": UTC_TS,
    },
    required=("experiment_id", "unit_type", "unit_id", "variant", "assigned_at"),
    allowed={"unit_type": ("account", "user")},
)

FILINGS = LandingSource(
    name="filings",
    path="finance/filings",
    fmt="csv",
    grain="monthly",
    columns={
        "month": pl.String,  # YYYY-MM
        "revenue_usd": pl.Float64,  # accountant-verified recognized revenue (accrual)
        "expenses_usd": pl.Float64,  # opex + capex amortization + salaries
    },
    required=("month", "revenue_usd", "expenses_usd"),
)

SOURCES: dict[str, LandingSource] = {
    s.name: s
    for s in (
        INVOICE_LINES,
        OPS_EXPENSES,
        SALARIES,
        ACCOUNTS,
        ACCOUNT_EVENTS,
        DIRECTORY_USERS,
        CLICKS,
        EXPERIMENT_REGISTRY,
        EXPERIMENT_ASSIGNMENTS,
        FILINGS,
    )
}

# --- Ground truth (written by the simulator under <data_root>/truth; never read by assets) -----
#: One Parquet file per table, ``truth/<name>.parquet``, computed by the simulator per
#: docs/semantic-contract.md *before* any fault is injected. ``truth/fault_manifest.json`` lists
#: every injected fault with exact counts and the affected keys. Tests compare pipeline output with
#: these on fault-free scope.
TRUTH_TABLES: dict[str, dict[str, pl.DataType]] = {
    "unit_profit_monthly": {
        "month_start": pl.Date,
        "cash_collected_usd": pl.Float64,
        "recognized_revenue_usd": pl.Float64,
        "opex_usd": pl.Float64,
        "capex_amortization_usd": pl.Float64,
        "salaries_usd": pl.Float64,
        "profit_usd": pl.Float64,  # recognized revenue - opex - capex amortization - salaries
        "paying_subscribers": pl.Int64,
        "licensed_seats": pl.Int64,
    },
    "recognized_revenue_daily": {
        "date": pl.Date,
        "account_id": pl.String,
        "recognized_revenue_usd": pl.Float64,
    },
    "account_status_daily": {  # status at the end of each UTC day, for every account that exists
        "date": pl.Date,
        "account_id": pl.String,
        "status": pl.String,  # trial | subscribed | renewal_opened | renewed | churned | created
        "plan": pl.String,
        "seats": pl.Int64,
        "mrr_usd": pl.Float64,
        "contract_end": pl.Date,
    },
    "account_growth_weekly": {
        "week_start": pl.Date,  # Monday
        "new_accounts": pl.Int64,
        "churned_accounts": pl.Int64,
        "renewed_accounts": pl.Int64,
        "reactivated_accounts": pl.Int64,
        "seats_added": pl.Int64,
        "seats_removed": pl.Int64,
        "new_mrr_usd": pl.Float64,
        "expansion_mrr_usd": pl.Float64,
        "contraction_mrr_usd": pl.Float64,
        "churned_mrr_usd": pl.Float64,
        "reactivation_mrr_usd": pl.Float64,
    },
    "account_growth_monthly": {"month_start": pl.Date},  # same measures as weekly
    "engagement_daily": {
        "date": pl.Date,
        "account_id": pl.String,
        "licensed_users": pl.Int64,
        "active_users": pl.Int64,
        "sessions": pl.Int64,
        "total_hours": pl.Float64,
        "events": pl.Int64,
    },
    "experiments": {
        "experiment_id": pl.String,
        "kind": pl.String,  # true_effect | null | broken_allocation
        "metric": pl.String,
        "true_relative_effect": pl.Float64,
    },
}
