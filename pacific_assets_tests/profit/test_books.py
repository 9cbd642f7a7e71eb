"""The profit pipeline on hand-made books (books.py): every figure against its hand computation."""

from __future__ import annotations

import datetime as dt
import math

import polars as pl
import pytest

from pacific_assets_tests.profit.books import (
    EXPECTED_MONTHLY_REVENUE,
    EXPECTED_UNIT_PROFIT,
    NOV,
    OCT,
    SEAT_DAYS_NOV,
    SEAT_DAYS_OCT,
    SEP,
    SHARED,
)

D = dt.date
EPS = 1e-9


def _by(df: pl.DataFrame, *keys: str) -> dict:
    return {tuple(r[k] for k in keys): r for r in df.iter_rows(named=True)}


def test_invoice_lines_current_keeps_the_latest_state_of_each_line(books) -> None:
    lake, _, checks = books
    lines = _by(lake.read("invoice_lines_current"), "line_id")
    assert set(lines) == {
        ("L-A1",),
        ("L-A2",),
        ("L-B1",),
        ("L-C1",),
        ("L-C1R",),
        ("L-D1",),
        ("L-E1",),
    }
    # Opened on Oct 16, paid on Oct 20: the paid row is the current state.
    assert lines[("L-A1",)]["status"] == "paid" and lines[("L-A1",)]["versions"] == 2
    # Same export date and file: the later row (void) wins over the stale "paid" row.
    d1 = lines[("L-D1",)]
    assert d1["status"] == "void" and d1["paid_at"] is None and d1["is_recognized"] is False
    b1 = lines[("L-B1",)]
    assert b1["service_days"] == 365 and b1["daily_rate_usd"] == pytest.approx(10.0, abs=EPS)
    assert lines[("L-C1R",)]["daily_rate_usd"] == pytest.approx(-10.0, abs=EPS)
    assert checks["service_periods_valid"].passed


def test_recognized_revenue_daily_spreads_lines_over_half_open_periods(books) -> None:
    lake, _, _ = books
    rev = lake.read("recognized_revenue_daily")
    days = _by(rev, "date", "account_id")
    assert rev.filter(pl.col("date") < OCT).is_empty(), "nothing is recognized in September"
    # Annual prepaid line: $10 every day, also on the last day of November.
    assert days[(D(2025, 10, 1), "B")]["recognized_revenue_usd"] == pytest.approx(10.0, abs=EPS)
    assert days[(D(2025, 11, 30), "B")]["recognized_revenue_usd"] == pytest.approx(10.0, abs=EPS)
    # Mid-month start: nothing for A before Oct 16; [Oct 16, Nov 16) is half-open.
    assert (D(2025, 10, 15), "A") not in days
    assert days[(D(2025, 10, 16), "A")]["recognized_revenue_usd"] == pytest.approx(20.0, abs=EPS)
    assert days[(D(2025, 11, 15), "A")]["invoice_lines"] == 1  # only L-A1 (L-A2 starts Nov 16)
    assert days[(D(2025, 11, 16), "A")]["invoice_lines"] == 1  # only L-A2 (L-A1 ended)
    # Refund: −$10/day over the remaining days cancels C's $10/day from Oct 16.
    assert days[(D(2025, 10, 15), "C")]["recognized_revenue_usd"] == pytest.approx(10.0, abs=EPS)
    c16 = days[(D(2025, 10, 16), "C")]
    assert c16["recognized_revenue_usd"] == pytest.approx(0.0, abs=EPS) and c16["refund_lines"] == 1
    assert (D(2025, 11, 1), "C") not in days
    # Void: D never earns anything.
    assert rev.filter(pl.col("account_id") == "D").is_empty()
    monthly = (
        rev.group_by(pl.col("date").dt.truncate("1mo").alias("m"), "account_id")
        .agg(pl.col("recognized_revenue_usd").sum())
        .pipe(_by, "m", "account_id")
    )
    got = {k: round(v["recognized_revenue_usd"], 9) for k, v in monthly.items()}
    assert got == EXPECTED_MONTHLY_REVENUE
    # Every day of the range has a partition, empty days included ("nothing happened").
    assert len(lake.partition_keys("recognized_revenue_daily")) == 91


def test_cash_collected_daily_counts_payments_on_their_utc_day(books) -> None:
    lake, _, _ = books
    cash = _by(lake.read("cash_collected_daily"), "date", "account_id")
    assert {k: v["cash_collected_usd"] for k, v in cash.items()} == {
        (D(2025, 10, 1), "C"): 310.0,
        (D(2025, 10, 3), "B"): 3650.0,  # the whole annual prepayment on the day it was paid
        (D(2025, 10, 17), "C"): -160.0,  # refund: the day the money went back
        (D(2025, 10, 20), "A"): 620.0,
        (D(2025, 11, 2), "E"): 300.0,  # 23:59 UTC is still Nov 2
        (D(2025, 11, 16), "A"): 600.0,
    }
    assert cash[(D(2025, 10, 17), "C")]["refunded_usd"] == -160.0


def test_profit_expenses_amortize_capex_and_count_each_expense_once(books) -> None:
    lake, _, _ = books
    exp = lake.read("profit_expenses")
    totals = _by(
        exp.group_by("month_start", "expense_type").agg(pl.col("amount_usd").sum()),
        "month_start",
        "expense_type",
    )
    got = {k: round(v["amount_usd"], 9) for k, v in totals.items()}
    assert got == {
        (SEP, "opex"): 1000.0,
        (SEP, "capex_amortization"): 100.0,
        (SEP, "salaries"): 8000.0,
        (OCT, "opex"): 1200.0,
        (OCT, "capex_amortization"): 120.0,
        (OCT, "salaries"): 8000.0,
        (NOV, "opex"): 1000.0,
        (NOV, "capex_amortization"): 120.0,
        (NOV, "salaries"): 8000.0,
    }
    server = exp.filter(pl.col("expense_id") == "X-5")
    assert server["month_start"].to_list() == [OCT, NOV], "amortized from the purchase month on"
    assert server["account_id"].to_list() == ["A", "A"]
    assert server["original_amount_usd"].to_list() == [720.0, 720.0]
    assert exp.filter(pl.col("expense_type") == "salaries")["headcount"].sum() == 9


@pytest.mark.parametrize("month", [SEP, OCT, NOV])
def test_unit_profit_matches_the_hand_computed_books(books, month: dt.date) -> None:
    lake, _, _ = books
    row = _by(lake.read("unit_profit"), "month_start")[(month,)]
    for column, expected in EXPECTED_UNIT_PROFIT[month].items():
        got = row[column]
        if expected is None:
            assert got is None, column
            assert row[f"{column}_null_reason"], f"{column} is null without a reason"
        elif isinstance(expected, float):
            assert got == pytest.approx(expected, abs=1e-9), column
        else:
            assert got == expected, column


def test_unit_profit_explains_every_null(books) -> None:
    lake, _, _ = books
    sep = _by(lake.read("unit_profit"), "month_start")[(SEP,)]
    assert (
        sep["profit_per_subscriber_usd_null_reason"]
        == "no paying subscribers at the end of 2025-09"
    )
    assert sep["profit_per_seat_usd_null_reason"] == "no licensed seats at the end of 2025-09"
    assert sep["gross_margin_null_reason"] == "no positive recognized revenue in 2025-09"
    oct_ = _by(lake.read("unit_profit"), "month_start")[(OCT,)]
    assert oct_["incomplete_reason"] == (
        "1 paying account(s) with days no invoice covers: E 31 days (est. $305.75)"
    )
    for df in (
        lake.read(t) for t in ("unit_profit", "account_unit_economics", "profit_reconciliation")
    ):
        for name, dtype in df.schema.items():
            if dtype == pl.Float64:
                assert not any(v is not None and not math.isfinite(v) for v in df[name]), name


def test_account_unit_economics_allocates_shared_costs_by_seat_days(books) -> None:
    lake, _, checks = books
    aue = lake.read("account_unit_economics")
    assert aue.filter(pl.col("month_start") == SEP).is_empty(), "nobody paid, earned or cost"
    rows = _by(aue, "month_start", "account_id")
    assert set(rows) == {(OCT, a) for a in "ABCE"} | {(NOV, a) for a in "ABE"}
    direct = {(OCT, "A"): 20.0, (OCT, "B"): 200.0, (NOV, "A"): 20.0}
    for month, seat_days in ((OCT, SEAT_DAYS_OCT), (NOV, SEAT_DAYS_NOV)):
        total = sum(seat_days.values())
        for account, sd in seat_days.items():
            r = rows[(month, account)]
            assert r["allocation_driver"] == "seat_days" and r["driver_value"] == sd
            allocated = SHARED * sd / total
            assert r["allocated_cost_usd"] == pytest.approx(allocated, abs=1e-9)
            assert r["direct_cost_usd"] == pytest.approx(
                direct.get((month, account), 0.0), abs=1e-9
            )
            if (month, account) == (OCT, "E"):
                # Paying all October, no invoice: revenue and margin are null, with the reason.
                assert r["recognized_revenue_usd"] is None
                assert r["recognized_revenue_usd_null_reason"] == (
                    "billing gap: paying 31 day(s) of the month with no invoice line covering them"
                )
                assert r["booked_revenue_usd"] == 0.0
                assert r["contribution_margin_usd"] is None
                assert r["contribution_margin_usd_null_reason"].startswith("billing gap")
                assert r["uninvoiced_paying_days"] == 31
                assert r["estimated_unbilled_revenue_usd"] == pytest.approx(31 * 300 * 12 / 365)
                continue
            rev = EXPECTED_MONTHLY_REVENUE[(month, account)]
            assert r["recognized_revenue_usd"] == pytest.approx(rev, abs=1e-9)
            expected_margin = rev - direct.get((month, account), 0.0) - allocated
            assert r["contribution_margin_usd"] == pytest.approx(expected_margin, abs=1e-9)
    # C churned mid-month: paid 15 days, not a subscriber at month end.
    assert (
        rows[(OCT, "C")]["paying_at_month_end"] is False and rows[(OCT, "C")]["paying_days"] == 15
    )
    assert checks["allocation_adds_up"].passed
    assert "2025-09 $9,100.00" in checks["allocation_adds_up"].description  # nothing to allocate to


def test_paying_account_without_invoice_is_reported(books) -> None:
    _, _, checks = books
    check = checks["paying_accounts_invoiced"]
    assert not check.passed and check.severity.value == "WARN"
    assert "2025-10: E 31 days (est. $305.75)" in check.description


def test_reconciliation_statuses_and_variances(books) -> None:
    lake, _, checks = books
    rec = _by(lake.read("profit_reconciliation"), "month_start")
    sep, oct_, nov = rec[(SEP,)], rec[(OCT,)], rec[(NOV,)]
    # No filing yet: not reconciled, and no figures invented.
    assert sep["status"] == "no_filing" and sep["filed_revenue_usd"] is None
    assert (
        sep["revenue_variance_pct"] is None
        and sep["revenue_variance_pct_null_reason"] == "no filing"
    )
    # Within tolerance: −$2 on $782 is −0.256 %.
    assert oct_["status"] == "reconciled"
    assert oct_["revenue_variance_usd"] == pytest.approx(-2.0, abs=1e-9)
    assert oct_["revenue_variance_pct"] == pytest.approx(-2.0 / 782.0 * 100, abs=1e-9)
    assert oct_["expenses_variance_usd"] == pytest.approx(0.0, abs=1e-9)
    # Beyond tolerance: computed $1,200 vs filed $1,250.
    assert nov["status"] == "mismatch"
    assert nov["computed_revenue_usd"] == pytest.approx(1200.0, abs=1e-9)
    assert nov["filed_revenue_usd"] == 1250.0
    assert nov["revenue_variance_usd"] == pytest.approx(-50.0, abs=1e-9)
    assert nov["revenue_variance_pct"] == pytest.approx(-4.0, abs=1e-9)
    assert nov["expenses_variance_usd"] == pytest.approx(0.0, abs=1e-9)
    assert (
        nov["largest_revenue_accounts"] == "A $600.00 (50.0%), B $300.00 (25.0%), E $300.00 (25.0%)"
    )
    assert nov["largest_expense_categories"].startswith(
        "salaries:engineering $5,000.00 (54.8%), salaries:sales $3,000.00 (32.9%), opex:hosting"
    )
    check = checks["reconciled_with_filings"]
    assert not check.passed and check.severity.value == "ERROR"
    text = check.description
    assert "2025-11 MISMATCH" in text
    assert "revenue computed $1,200.00 vs filed $1,250.00, variance -$50.00 (-4.00%)" in text
    assert "Largest accounts: A $600.00" in text and "salaries:engineering" in text
    assert nov["billing_gap_accounts"] == "none"
    assert rec[(OCT,)]["billing_gap_accounts"] == "E 31 days (est. $305.75)"
    assert "2025-09 no_filing" in text
    assert "2025-10 " not in text, "a reconciled month is not reported"
