"""Pure KPI functions: every ratio of the investor pack, safe for any input.

Why pure Python: the rollup aggregates on Spark down to one row per (period, segment) and then
finishes every ratio with these functions on the driver, so there is exactly one implementation of
each formula, tested on its own (including a property test over arbitrary floats).

The contract of every function here: it returns a ``pacific_assets.figures.Figure`` whose
``value`` is either a finite float or ``None``; when it is ``None``, ``null_reason`` says why
(never NaN, never inf). The reasons are short machine-friendly strings, documented in
docs/investor.md.
"""

from __future__ import annotations

import math

from pacific_assets.figures import Figure

Number = float | int | None

#: Reasons shared by every KPI.
MISSING_NUMERATOR = "missing_numerator"
MISSING_DENOMINATOR = "missing_denominator"
NON_FINITE_INPUT = "non_finite_input"
NEGATIVE_DENOMINATOR = "negative_denominator"
NEGATIVE_INPUT = "negative_input"
OVERFLOW = "overflow"
ZERO_DENOMINATOR = "zero_denominator"


def _bad(x: Number) -> bool:
    return x is not None and not math.isfinite(float(x))


def safe_ratio(
    numerator: Number,
    denominator: Number,
    *,
    zero_reason: str = ZERO_DENOMINATOR,
    allow_negative_numerator: bool = True,
) -> Figure:
    """numerator ÷ denominator, or None with a reason (missing, non-finite, zero, negative, overflow)."""
    if numerator is None:
        return Figure(None, MISSING_NUMERATOR)
    if denominator is None:
        return Figure(None, MISSING_DENOMINATOR)
    if _bad(numerator) or _bad(denominator):
        return Figure(None, NON_FINITE_INPUT)
    num, den = float(numerator), float(denominator)
    if den == 0.0:
        return Figure(None, zero_reason)
    if den < 0.0:
        return Figure(None, NEGATIVE_DENOMINATOR)
    if num < 0.0 and not allow_negative_numerator:
        return Figure(None, NEGATIVE_INPUT)
    try:
        value = num / den
    except (OverflowError, ZeroDivisionError):  # pragma: no cover - float division saturates
        return Figure(None, OVERFLOW)
    if not math.isfinite(value):
        return Figure(None, OVERFLOW)
    return Figure(value + 0.0)  # + 0.0 turns -0.0 into 0.0


def annual_run_rate(mrr_usd: Number) -> Figure:
    """ARR = 12 × MRR (contracted, docs/semantic-contract.md). Null when MRR is missing or not
    finite."""
    if mrr_usd is None:
        return Figure(None, MISSING_NUMERATOR)
    if _bad(mrr_usd):
        return Figure(None, NON_FINITE_INPUT)
    value = 12.0 * float(mrr_usd)
    return Figure(value) if math.isfinite(value) else Figure(None, OVERFLOW)


def net_revenue_retention(starting_mrr_usd: Number, retained_mrr_usd: Number) -> Figure:
    """NRR = MRR at period end of the accounts paying at period start ÷ their MRR at start.

    Equals (start + expansion − contraction − churn) ÷ start over accounts present at the start
    (docs/investor.md "Metric dictionary"); new and reactivated accounts are excluded. Can
    exceed 1.
    """
    return safe_ratio(
        retained_mrr_usd,
        starting_mrr_usd,
        zero_reason="no_mrr_at_period_start",
        allow_negative_numerator=False,
    )


def gross_revenue_retention(starting_mrr_usd: Number, retained_capped_mrr_usd: Number) -> Figure:
    """GRR = Σ min(end MRR, start MRR) ÷ Σ start MRR over accounts paying at period start.

    Each account is capped at its starting MRR, so expansion never offsets losses; the result is
    clamped to [0, 1] (a value above 1 can only come from inconsistent inputs).
    """
    kpi = safe_ratio(
        retained_capped_mrr_usd,
        starting_mrr_usd,
        zero_reason="no_mrr_at_period_start",
        allow_negative_numerator=False,
    )
    if kpi.value is None:
        return kpi
    return Figure(min(max(kpi.value, 0.0), 1.0))


def logo_churn_rate(starting_paying_accounts: Number, churned_paying_accounts: Number) -> Figure:
    """Share of the accounts paying at period start that are not paying at period end."""
    return safe_ratio(
        churned_paying_accounts,
        starting_paying_accounts,
        zero_reason="no_paying_accounts_at_period_start",
        allow_negative_numerator=False,
    )


def average_revenue_per_account(mrr_usd: Number, paying_accounts: Number) -> Figure:
    """ARPA = MRR at period end ÷ accounts paying at period end."""
    return safe_ratio(mrr_usd, paying_accounts, zero_reason="no_paying_accounts_at_period_end")


def dau_over_period_active(avg_daily_active_users: Number, period_active_users: Number) -> Figure:
    """DAU/MAU (monthly) or DAU/WAU (weekly): mean daily distinct active licensed users ÷
    distinct active licensed users over the whole period (docs/semantic-contract.md)."""
    return safe_ratio(
        avg_daily_active_users,
        period_active_users,
        zero_reason="no_active_licensed_users",
        allow_negative_numerator=False,
    )


def hours_per_active_user_per_day(total_hours: Number, active_user_days: Number) -> Figure:
    """Hours per active user per day = total hours ÷ Σ over days of that day's active users."""
    return safe_ratio(
        total_hours,
        active_user_days,
        zero_reason="no_active_users",
        allow_negative_numerator=False,
    )


def profit_per_subscriber(profit_usd: Number, paying_subscribers: Number) -> Figure:
    """Unit profit: profit ÷ paying subscribers (accounts paying at month end,
    docs/semantic-contract.md)."""
    return safe_ratio(profit_usd, paying_subscribers, zero_reason="no_paying_subscribers")


def profit_per_seat(profit_usd: Number, licensed_seats: Number) -> Figure:
    """Profit ÷ contracted (licensed) seats at month end."""
    return safe_ratio(profit_usd, licensed_seats, zero_reason="no_licensed_seats")


def contribution_margin_per_account(
    contribution_margin_usd: Number, paying_accounts: Number
) -> Figure:
    """A segment's unit profit: Σ per-account contribution margin ÷ accounts paying at period end."""
    return safe_ratio(
        contribution_margin_usd, paying_accounts, zero_reason="no_paying_accounts_at_period_end"
    )
