"""The columns of the investor pipeline's lake tables (docs/investor.md, "Metric dictionary").

``investor_rollup`` (monthly) and ``executive_weekly`` (weekly) share their measures; the weekly
pack has DAU/WAU instead of DAU/MAU and no profit figures. "Period start" is the end of the day
before the period, "period end" the end of its last day (for the open period: of the last day
due). Every ratio is a finite number or null with ``<ratio>_null_reason``.
"""

from __future__ import annotations

import polars as pl

from pacific_assets.columns import UTC_TS, Column, declare, null_reason

BOOL, DATE, F64, I64, STR = pl.Boolean, pl.Date, pl.Float64, pl.Int64, pl.String

MRR = (
    Column(
        "mrr_usd",
        F64,
        "Σ contracted MRR of paying accounts at period end (CRM, annual ÷ 12)",
        False,
    ),
    Column("arr_usd", F64, "12 × mrr_usd", False),
    Column("starting_mrr_usd", F64, "Σ contracted MRR of accounts paying at period start", False),
    Column(
        "new_mrr_usd", F64, "Σ of the period's new MRR (not paying → paying, never paid)", False
    ),
    Column("expansion_mrr_usd", F64, "Σ of the period's MRR increases of paying accounts", False),
    Column("contraction_mrr_usd", F64, "Σ of the period's MRR decreases of paying accounts", False),
    Column(
        "churned_mrr_usd", F64, "Σ of the period's MRR lost to churn (paying → not paying)", False
    ),
    Column(
        "reactivation_mrr_usd",
        F64,
        "Σ of the period's MRR of former payers paying again",
        False,
    ),
    Column(
        "net_new_mrr_usd",
        F64,
        "mrr_usd − starting_mrr_usd (= new + reactivation + expansion − contraction − churn)",
        False,
    ),
    Column("starting_paying_accounts", I64, "accounts paying at period start", False),
    Column("paying_accounts", I64, "accounts paying at period end", False),
    Column("churned_paying_accounts", I64, "accounts paying at start and not at end", False),
    Column(
        "nrr",
        F64,
        "net revenue retention: Σ end MRR of the accounts paying at start ÷ Σ their start MRR",
    ),
    null_reason("nrr"),
    Column(
        "grr",
        F64,
        "gross revenue retention: Σ min(end, start MRR) over the same accounts ÷ Σ start MRR; "
        "in [0, 1]",
    ),
    null_reason("grr"),
    Column("logo_churn_rate", F64, "churned_paying_accounts ÷ starting_paying_accounts"),
    null_reason("logo_churn_rate"),
    Column("arpa_usd", F64, "average revenue per account: mrr_usd ÷ paying_accounts"),
    null_reason("arpa_usd"),
)


def engagement(period: str, stickiness_col: str) -> tuple[Column, ...]:
    """The engagement measures; ``stickiness_col`` is dau_mau (monthly) or dau_wau (weekly)."""
    active = {"month": "MAU", "week": "WAU"}[period]
    return (
        Column(
            "active_users",
            I64,
            f"distinct licensed users with ≥ 1 event in the {period} ({active}), from "
            "user_engagement_daily (never summed from account rows)",
            False,
        ),
        Column(
            "avg_daily_active_users",
            F64,
            "Σ over the period's days of distinct active licensed users ÷ days observed",
        ),
        null_reason("avg_daily_active_users"),
        Column(stickiness_col, F64, f"avg_daily_active_users ÷ active_users (DAU/{active})"),
        null_reason(stickiness_col),
        Column("total_hours", F64, "Σ engagement_hours.total_hours over the period's days", False),
        Column(
            "active_user_days",
            I64,
            "Σ over days of engagement_hours.active_users (licensed or not)",
            False,
        ),
        Column(
            "hours_per_active_user_per_day",
            F64,
            "total_hours ÷ active_user_days: hours a user spends on a day they use the product",
        ),
        null_reason("hours_per_active_user_per_day"),
        Column("sessions", I64, "Σ engagement_hours.sessions over the period's days", False),
        Column("events", I64, "Σ engagement_hours.events over the period's days", False),
        Column("late_events", I64, "Σ engagement_hours.late_events over the period's days", False),
    )


_COMPANY = "from unit_profit (company only; null on segment rows)"
PROFIT = (
    Column(
        "recognized_revenue_usd",
        F64,
        "all: unit_profit.recognized_revenue_usd; segments: Σ account_unit_economics",
    ),
    Column("cash_collected_usd", F64, f"cash collected, {_COMPANY}"),
    Column("total_expenses_usd", F64, f"total expenses, {_COMPANY}"),
    Column("profit_usd", F64, f"recognized revenue − total expenses, {_COMPANY}"),
    Column("paying_subscribers", I64, f"paying subscribers at month end, {_COMPANY}"),
    Column("licensed_seats", I64, f"contracted seats of the subscribers, {_COMPANY}"),
    Column("profit_per_subscriber_usd", F64, "unit profit: profit_usd ÷ paying_subscribers"),
    null_reason("profit_per_subscriber_usd"),
    Column("profit_per_seat_usd", F64, "profit_usd ÷ licensed_seats (company only)"),
    null_reason("profit_per_seat_usd"),
    Column("direct_cost_usd", F64, "Σ account_unit_economics.direct_cost_usd of the segment"),
    Column(
        "contribution_margin_usd",
        F64,
        "Σ account_unit_economics.contribution_margin_usd of the segment",
    ),
    Column(
        "contribution_margin_per_account_usd",
        F64,
        "a segment's unit profit: contribution_margin_usd ÷ paying_accounts",
    ),
    null_reason("contribution_margin_per_account_usd"),
)

_GROWTH = "the growth pipeline's own count for the period (company row only; null on segments)"
GROWTH = (
    Column("new_accounts", I64, f"accounts that started paying: {_GROWTH}"),
    Column("churned_accounts", I64, f"accounts that stopped paying: {_GROWTH}"),
    Column("renewed_accounts", I64, f"accounts that renewed: {_GROWTH}"),
    Column("reactivated_accounts", I64, f"former payers paying again: {_GROWTH}"),
    Column("seats_added", I64, f"seats added: {_GROWTH}"),
    Column("seats_removed", I64, f"seats removed: {_GROWTH}"),
    Column("renewing_accounts", I64, f"accounts about to renew at period end: {_GROWTH}"),
    Column("renewal_expansion_usd", F64, f"expansion brought at renewal: {_GROWTH}"),
    Column("imputed_accounts", I64, f"accounts with an imputed CRM step: {_GROWTH}"),
)

STATUS = (
    Column("days_observed", I64, "days of the period up to yesterday", False),
    Column(
        "is_complete",
        BOOL,
        "every gated input of the period is OK (see rollup_input_status)",
        False,
    ),
    Column("incomplete_inputs", STR, "which inputs are not OK; null when complete"),
    Column("incomplete_reason", STR, "why they are not OK; null when complete"),
    Column(
        "publication_status",
        STR,
        "open_period, incomplete (never published), complete (weekly), published (monthly: "
        "equals snapshot v=published_version) or restatement_pending",
        False,
    ),
    Column(
        "published_version",
        I64,
        "the snapshot version the row corresponds to or differs from; null when unpublished",
    ),
)


def _pack(
    period_col: str, period: str, stickiness_col: str, with_profit: bool
) -> tuple[Column, ...]:
    return (
        Column(period_col, DATE, f"first day of the {period} (the partition)", False),
        Column(
            "segment",
            STR,
            "smb, mid_market, enterprise (CRM), unknown (no CRM row) or all (the company)",
            False,
        ),
        *MRR,
        *engagement(period, stickiness_col),
        *(PROFIT if with_profit else ()),
        *GROWTH,
        *STATUS,
    )


INVESTOR_ROLLUP = declare("investor_rollup", *_pack("month_start", "month", "dau_mau", True))
EXECUTIVE_WEEKLY = declare("executive_weekly", *_pack("week_start", "week", "dau_wau", False))

ROLLUP_INPUT_STATUS = declare(
    "rollup_input_status",
    Column("rollup_key", STR, "<rollup asset>__<period start>: the lake partition", False),
    Column("rollup", STR, "the rollup asset: investor_rollup or executive_weekly", False),
    Column("period_start", DATE, "first day of the period", False),
    Column("input", STR, "the upstream lake table", False),
    Column("input_grain", STR, "daily, weekly, monthly or dimension (never blocks)", False),
    Column("required_partitions", I64, "partitions of the input the period needs", False),
    Column("present_partitions", I64, "of which live in the lake", False),
    Column("missing_partitions", STR, "the required partitions not in the lake"),
    Column("stale_partitions", STR, "partitions whose inputs changed since they were built"),
    Column("incomplete_partitions", STR, "partitions flagged incomplete or not reconciled"),
    Column("failed_checks", STR, "ERROR checks whose latest evaluation failed (blocking)"),
    Column("warnings", STR, "non-blocking: failed WARN checks, imputed CRM steps"),
    Column(
        "freshness_assessed",
        BOOL,
        "false when the input is not a partitioned asset of the graph (freshness not judged)",
        False,
    ),
    Column(
        "status",
        STR,
        "ok, not_due, or the most serious problem: missing > incomplete > mismatch > stale > "
        "check_failed",
        False,
    ),
    Column("is_ok", BOOL, "the input is OK for the period (ok or not_due)", False),
    Column("reason", STR, "every problem found; null when OK"),
    Column("assessed_at", UTC_TS, "when the record was made", False),
)

INVESTOR_RESTATEMENTS = declare(
    "investor_restatements",
    Column("month_start", DATE, "the published month (the partition)", False),
    Column("segment", STR, "the segment row that changed", False),
    Column("kpi", STR, "the figure that changed", False),
    Column("published_version", I64, "the snapshot it differs from", False),
    Column("published_value", F64, "the figure as published"),
    Column("current_value", F64, "the figure the latest run computes"),
    Column("delta", F64, "current_value − published_value"),
    Column("cause", STR, "input partitions re-written since publication", False),
    Column(
        "status", STR, "pending (awaiting approval) or approved (published as a new version)", False
    ),
    Column("detected_at", UTC_TS, "when the run detected it", False),
    Column("run_id", STR, "the Dagster run that detected it", False),
)

ROLLUP_TABLES = {t.table: t for t in (INVESTOR_ROLLUP, EXECUTIVE_WEEKLY)}


def _types(columns: tuple[Column, ...]) -> dict[str, pl.DataType]:
    return {c.name: c.dtype for c in columns}


MRR_TYPES, PROFIT_TYPES = _types(MRR), _types(PROFIT)
GROWTH_TYPES, STATUS_TYPES = _types(GROWTH), _types(STATUS)
