"""The columns of the growth pipeline's lake tables (meanings: docs/growth.md, "Metric dictionary").

Money is US dollars of contracted MRR (CRM, annual contracts ÷ 12); dates are UTC dates, weeks
start Monday (docs/semantic-contract.md).
"""

from __future__ import annotations

import polars as pl

from pacific_assets.columns import UTC_TS, Column, declare

BOOL, DATE, F64, I64, STR = pl.Boolean, pl.Date, pl.Float64, pl.Int64, pl.String

_STATE = (
    Column("status", STR, "lifecycle status after the step (docs/growth.md state machine)", False),
    Column("plan", STR, "contracted plan after the step; null before a plan was chosen"),
    Column("seats", I64, "contracted seats after the step", False),
)
_CONTRACT_END = Column(
    "contract_end",
    DATE,
    "end of the contract term (exclusive, annual anniversary); null before a contract",
)
_MRR = Column("mrr_usd", F64, "contracted MRR in force; 0 when not paying", False)
_IS_PAYING = Column(
    "is_paying", BOOL, "status is a paid one: subscribed, renewal_opened or renewed", False
)

ACCOUNT_STATUS_HISTORY = declare(
    "account_status_history",
    Column("account_id", STR, "the account", False),
    Column("step", I64, "the step's 1-based position in the account's replayed lifecycle", False),
    Column("valid_from", UTC_TS, "the step's effective_at: when it took effect", False),
    Column(
        "valid_to",
        UTC_TS,
        "the next step's effective_at (exclusive); null = still in force; equal to valid_from "
        "for zero-length steps (imputed steps, events at the same instant)",
    ),
    *_STATE,
    _MRR,
    _CONTRACT_END,
    _IS_PAYING,
    Column("imputed", BOOL, "the step was imputed (its CRM event is missing)", False),
    Column("imputed_evidence", STR, "why the step was imputed; null when it was not"),
    Column(
        "event_id", STR, "the CRM event of the step (imputed: imputed:<successor>:<step>)", False
    ),
    Column("event_type", STR, "the CRM event type of the step", False),
    Column("recorded_at", UTC_TS, "when the CRM recorded the event; null for imputed steps"),
    Column("ever_paid", BOOL, "the account has been paying at or before this step", False),
    Column(
        "window_opened_mrr_usd",
        F64,
        "MRR when the current term's renewal window opened; null outside a window",
    ),
    Column(
        "renewal_expansion_usd",
        F64,
        "on renewed steps: MRR after the renewal − window_opened_mrr_usd; null on other steps",
    ),
)

_DAY_FLOWS = (
    Column(
        "new_account",
        BOOL,
        "the account started paying for the first time (not paying → paying, never paid before)",
        False,
    ),
    Column(
        "reactivated_account",
        BOOL,
        "the account started paying again after having paid (not paying → paying)",
        False,
    ),
    Column(
        "churned_account",
        BOOL,
        "the account stopped paying (paying → not paying); a lapsed trial is not a churn",
        False,
    ),
    Column(
        "renewed_account", BOOL, "a renewed step took effect (imputed renewals included)", False
    ),
    Column(
        "seats_added",
        I64,
        "seat increases on an account paying before and after the step",
        False,
    ),
    Column(
        "seats_removed",
        I64,
        "seat decreases on an account paying before and after the step",
        False,
    ),
    Column("new_mrr_usd", F64, "MRR of the step that made the account a first-time payer", False),
    Column(
        "expansion_mrr_usd",
        F64,
        "MRR increase of a step with the account paying before and after (seats, plan, add-ons, "
        "renewal at a different price)",
        False,
    ),
    Column(
        "contraction_mrr_usd",
        F64,
        "MRR decrease of a step with the account paying before and after",
        False,
    ),
    Column("churned_mrr_usd", F64, "MRR before the step that stopped the account paying", False),
    Column(
        "reactivation_mrr_usd", F64, "MRR of the step that made a former payer pay again", False
    ),
)

ACCOUNT_STATUS_DAILY = declare(
    "account_status_daily",
    Column("date", DATE, "the UTC day (the partition)", False),
    Column("account_id", STR, "the account", False),
    Column("status", STR, "lifecycle status at the end of the UTC day", False),
    Column("plan", STR, "contracted plan at the end of the day; null before a plan was chosen"),
    Column("seats", I64, "contracted seats at the end of the day", False),
    Column("mrr_usd", F64, "contracted MRR at the end of the day; 0 when not paying", False),
    _CONTRACT_END,
    Column(
        "is_paying",
        BOOL,
        "paying at the end of the day: status subscribed, renewal_opened or renewed",
        False,
    ),
    Column("imputed", BOOL, "an imputed step took effect that day", False),
    Column("imputed_steps", I64, "how many imputed steps took effect that day", False),
    Column(
        "imputed_evidence", STR, "why, for each imputed step, joined by ' | '; null without one"
    ),
    *_DAY_FLOWS,
    Column(
        "is_renewing",
        BOOL,
        "about to renew: paying and 1 ≤ contract_end − date ≤ 90 (the renewal window) at the end "
        "of the day, by contract date",
        False,
    ),
    Column(
        "renewal_expansion_usd",
        F64,
        "sum of the day's renewals' expansion: MRR at renewal − MRR when the window opened",
        False,
    ),
)


def _growth_measures(period_col: str, period: str) -> tuple[Column, ...]:
    """The columns of account_growth and account_growth_monthly (the same measures)."""
    return (
        Column(period_col, DATE, f"first day of the {period} (the partition)", False),
        Column("new_accounts", I64, "accounts that started paying for the first time", False),
        Column("churned_accounts", I64, "accounts that stopped paying", False),
        Column("renewed_accounts", I64, "accounts with a renewed step", False),
        Column("reactivated_accounts", I64, "former payers that started paying again", False),
        Column(
            "net_change_accounts",
            I64,
            "new + reactivated − churned: paying accounts at the end − at the end of the "
            "previous period",
            False,
        ),
        Column("seats_added", I64, "seats added on accounts paying before and after", False),
        Column("seats_removed", I64, "seats removed on accounts paying before and after", False),
        Column("new_mrr_usd", F64, "MRR of first-time payers, rounded to cents", False),
        Column(
            "expansion_mrr_usd", F64, "MRR increases of paying accounts, rounded to cents", False
        ),
        Column(
            "contraction_mrr_usd", F64, "MRR decreases of paying accounts, rounded to cents", False
        ),
        Column("churned_mrr_usd", F64, "MRR lost to churn, rounded to cents", False),
        Column("reactivation_mrr_usd", F64, "MRR of reactivated accounts, rounded to cents", False),
        Column(
            "net_new_mrr_usd",
            F64,
            "new + expansion + reactivation − contraction − churned = MRR at the end − MRR at "
            "the end of the previous period",
            False,
        ),
        Column(
            "renewing_accounts",
            I64,
            "accounts about to renew (is_renewing) at the end of the period's last day",
            False,
        ),
        Column(
            "renewal_expansion_usd",
            F64,
            "expansion brought at renewal: sum over the period's renewals of MRR at renewal − "
            "MRR when the renewal window opened",
            False,
        ),
        Column(
            "imputed_accounts",
            I64,
            "distinct accounts with an imputed step effective in the period (status guessed)",
            False,
        ),
        Column(
            "paying_accounts_end", I64, "paying accounts at the end of the period's last day", False
        ),
        Column(
            "mrr_end_usd", F64, "their contracted MRR at the end of the period's last day", False
        ),
    )


ACCOUNT_GROWTH = declare("account_growth", *_growth_measures("week_start", "Monday week"))
ACCOUNT_GROWTH_MONTHLY = declare(
    "account_growth_monthly", *_growth_measures("month_start", "month")
)
