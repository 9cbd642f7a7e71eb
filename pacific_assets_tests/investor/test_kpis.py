"""The pure KPI functions: hand-computed values, zero/missing denominators, and a property test."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pacific_assets.figures import Figure
from pacific_assets.investor import kpis

ALL_KPIS = [
    kpis.safe_ratio,
    kpis.net_revenue_retention,
    kpis.gross_revenue_retention,
    kpis.logo_churn_rate,
    kpis.average_revenue_per_account,
    kpis.dau_over_period_active,
    kpis.hours_per_active_user_per_day,
    kpis.profit_per_subscriber,
    kpis.profit_per_seat,
    kpis.contribution_margin_per_account,
]


def test_hand_computed_values() -> None:
    assert kpis.net_revenue_retention(1300.0, 950.0).value == pytest.approx(950 / 1300)
    assert kpis.gross_revenue_retention(1300.0, 900.0).value == pytest.approx(900 / 1300)
    assert kpis.logo_churn_rate(3, 1).value == pytest.approx(1 / 3)
    assert kpis.average_revenue_per_account(1750.0, 4).value == 437.5
    assert kpis.dau_over_period_active(42 / 31, 3).value == pytest.approx(42 / 93)
    assert kpis.hours_per_active_user_per_day(39.0, 43).value == pytest.approx(39 / 43)
    assert kpis.profit_per_subscriber(-300.0, 4).value == -75.0
    assert kpis.annual_run_rate(1750.0).value == 21000.0


@pytest.mark.parametrize(
    ("kpi", "args", "reason"),
    [
        (kpis.net_revenue_retention, (0.0, 0.0), "no_mrr_at_period_start"),
        (kpis.gross_revenue_retention, (0, 0), "no_mrr_at_period_start"),
        (kpis.logo_churn_rate, (0, 0), "no_paying_accounts_at_period_start"),
        (kpis.average_revenue_per_account, (0.0, 0), "no_paying_accounts_at_period_end"),
        (kpis.dau_over_period_active, (0.0, 0), "no_active_licensed_users"),
        (kpis.hours_per_active_user_per_day, (0.0, 0), "no_active_users"),
        (kpis.profit_per_subscriber, (-10.0, 0), "no_paying_subscribers"),
        (kpis.net_revenue_retention, (None, 5.0), "missing_denominator"),
        (kpis.net_revenue_retention, (5.0, None), "missing_numerator"),
        (kpis.safe_ratio, (float("nan"), 2.0), "non_finite_input"),
        (kpis.safe_ratio, (1.0, float("inf")), "non_finite_input"),
        (kpis.safe_ratio, (1.0, -2.0), "negative_denominator"),
        (kpis.safe_ratio, (1e308, 1e-308), "overflow"),
        (kpis.net_revenue_retention, (100.0, -1.0), "negative_input"),
        (kpis.annual_run_rate, (None,), "missing_numerator"),
        (kpis.annual_run_rate, (1e308,), "overflow"),
    ],
)
def test_null_with_reason(kpi, args, reason) -> None:
    result = kpi(*args)
    assert result.value is None
    assert result.null_reason == reason


def test_grr_is_capped_at_starting_mrr() -> None:
    # An account can never retain more than it started with under GRR, even with bad inputs.
    assert kpis.gross_revenue_retention(100.0, 150.0).value == 1.0
    assert kpis.net_revenue_retention(100.0, 150.0).value == 1.5


def test_figure_refuses_nan_or_both_fields() -> None:
    with pytest.raises(ValueError):
        Figure(float("nan"))
    with pytest.raises(ValueError):
        Figure(1.0, "why")
    with pytest.raises(ValueError):
        Figure(None)


numbers = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**30), max_value=10**30),
)


@settings(derandomize=True, max_examples=400, deadline=None)
@given(kpi=st.sampled_from(ALL_KPIS), a=numbers, b=numbers)
def test_any_input_gives_a_finite_value_or_a_reason(kpi, a, b) -> None:
    result = kpi(a, b)
    assert (result.value is None) != (result.null_reason is None)
    if result.value is not None:
        assert math.isfinite(result.value)
        assert isinstance(result.value, float)


@settings(derandomize=True, max_examples=200, deadline=None)
@given(a=numbers)
def test_arr_finite_or_reason(a) -> None:
    result = kpis.annual_run_rate(a)
    assert (result.value is None) != (result.null_reason is None)
    assert result.value is None or math.isfinite(result.value)


@settings(derandomize=True, max_examples=300, deadline=None)
@given(
    start=st.floats(min_value=0, max_value=1e12),
    end=st.floats(min_value=0, max_value=1e12),
    churned=st.integers(min_value=0, max_value=1000),
    extra=st.integers(min_value=0, max_value=1000),
)
def test_bounded_ratios_stay_in_bounds(start, end, churned, extra) -> None:
    grr = kpis.gross_revenue_retention(start, min(start, end))
    assert grr.value is None or 0.0 <= grr.value <= 1.0
    churn = kpis.logo_churn_rate(churned + extra, churned)
    assert churn.value is None or 0.0 <= churn.value <= 1.0
    nrr = kpis.net_revenue_retention(start, end)
    assert nrr.value is None or nrr.value >= 0.0
