"""The reconciliation rule of docs/profit.md, month by month, on figures computed by hand.

``reconciled`` when |computed − filed| ≤ tolerance × |filed| for both recognized revenue and
total expenses, ``mismatch`` otherwise, ``no_filing`` when the filing has not landed; variances
are computed − filed, in USD and in % of the filed figure. (The whole asset on hand-made books:
test_books.py; on the simulated company: test_simulated.py.)
"""

from __future__ import annotations

import datetime as dt

import dagster as dg
import polars as pl
import pytest

from pacific_assets.profit.reconciliation import (
    PROFIT_RECONCILIATION_SCHEMA,
    _gaps_text,
    _top,
    reconcile_month,
    reconciliation_check,
)

SEP, OCT = dt.date(2025, 9, 1), dt.date(2025, 10, 1)
BOOKS = {"recognized_revenue_usd": 1000.0, "total_expenses_usd": 800.0}
TOL = 0.005  # 0.5 %: revenue may be off by $5.00 of a $1,000.00 filing


def _filing(revenue: float, expenses: float) -> dict:
    return {"revenue_usd": revenue, "expenses_usd": expenses, "_source_file": "f/2025-09.csv"}


def _month(
    books: dict = BOOKS, filing: dict | None = None, tolerance: float = TOL, month: dt.date = SEP
) -> dict:
    return reconcile_month(month, books, filing, tolerance, "A-1 $1.00 (100.0%)", "opex:x", "none")


def test_no_filing_is_not_reconciled_and_invents_no_figures() -> None:
    row = _month()
    assert row == {
        "month_start": SEP,
        "computed_revenue_usd": 1000.0,
        "computed_expenses_usd": 800.0,
        "tolerance_pct": 0.5,
        "largest_revenue_accounts": "A-1 $1.00 (100.0%)",
        "largest_expense_categories": "opex:x",
        "billing_gap_accounts": "none",
        "status": "no_filing",
        "status_reason": "no filing for 2025-09 has landed yet: not reconciled",
        "revenue_variance_pct_null_reason": "no filing",
        "expenses_variance_pct_null_reason": "no filing",
    }


@pytest.mark.parametrize("filed_revenue", [1000.0, 1004.0, 996.0])
def test_within_the_tolerance_both_figures_reconcile(filed_revenue: float) -> None:
    # |1000 - 1004| = 4 <= 0.5 % x 1004 = 5.02; |1000 - 996| = 4 <= 4.98
    row = _month(filing=_filing(filed_revenue, 800.0))
    assert row["status"] == "reconciled"
    assert row["status_reason"] == "revenue and expenses within 0.50% of the filing"


def test_the_tolerance_is_a_share_of_the_filed_figure_and_its_edge_reconciles() -> None:
    # computed 1005 vs filed 1000: variance 5.00 = 0.5 % x 1000 exactly: within (<=)
    edge = _month(books={**BOOKS, "recognized_revenue_usd": 1005.0}, filing=_filing(1000.0, 800.0))
    assert edge["status"] == "reconciled"
    assert edge["revenue_variance_usd"] == pytest.approx(5.0)
    assert edge["revenue_variance_pct"] == pytest.approx(0.5)
    # computed 1000 vs filed 995: variance -5.00, but 0.5 % x 995 = 4.975: a mismatch
    off = _month(filing=_filing(995.0, 800.0))
    assert off["status"] == "mismatch"
    assert off["status_reason"] == (
        "revenue computed $1,000.00 vs filed $995.00, variance $5.00 (+0.50%)"
    )
    assert off["revenue_variance_pct"] == pytest.approx(5.0 / 995.0 * 100.0)


def test_a_mismatch_names_each_figure_outside_the_tolerance_with_both_amounts() -> None:
    row = _month(filing=_filing(1100.0, 700.0))
    assert row["status"] == "mismatch"
    # revenue: 1000 - 1100 = -100 (-9.09 % of 1100); expenses: 800 - 700 = +100 (+14.29 %)
    assert row["status_reason"] == (
        "revenue computed $1,000.00 vs filed $1,100.00, variance -$100.00 (-9.09%); "
        "expenses computed $800.00 vs filed $700.00, variance $100.00 (+14.29%)"
    )
    assert (row["revenue_variance_usd"], row["expenses_variance_usd"]) == (-100.0, 100.0)
    assert row["revenue_variance_pct"] == pytest.approx(-100 / 1100 * 100)
    assert row["expenses_variance_pct"] == pytest.approx(100 / 700 * 100)
    assert (row["revenue_variance_pct_null_reason"], row["expenses_variance_pct_null_reason"]) == (
        None,
        None,
    )
    assert (row["filed_revenue_usd"], row["filed_expenses_usd"]) == (1100.0, 700.0)
    assert row["filing_source_file"] == "f/2025-09.csv"
    # only the figure that is off is named
    only_expenses = _month(filing=_filing(1000.0, 700.0))
    assert only_expenses["status_reason"] == (
        "expenses computed $800.00 vs filed $700.00, variance $100.00 (+14.29%)"
    )


def test_a_zero_filing_has_no_percentage_and_any_amount_is_a_mismatch() -> None:
    row = _month(filing=_filing(0.0, 800.0))
    assert row["revenue_variance_usd"] == 1000.0
    assert row["revenue_variance_pct"] is None
    assert row["revenue_variance_pct_null_reason"] == "filed figure is zero"
    assert row["status"] == "mismatch"
    assert row["status_reason"] == "revenue computed $1,000.00 vs filed $0.00, variance $1,000.00"
    zero = _month(books={**BOOKS, "recognized_revenue_usd": 0.0}, filing=_filing(0.0, 800.0))
    assert zero["status"] == "reconciled"


def test_an_unavailable_figure_is_a_mismatch_that_says_why() -> None:
    books = {
        "recognized_revenue_usd": None,
        "recognized_revenue_usd_null_reason": "invoices of 2025-09 not landed",
        "total_expenses_usd": 800.0,
    }
    row = _month(books=books, filing=_filing(1000.0, 800.0))
    assert row["status"] == "mismatch"
    assert row["status_reason"] == ("computed revenue unavailable (invoices of 2025-09 not landed)")
    assert (row["revenue_variance_usd"], row["revenue_variance_pct"]) == (None, None)
    assert row["revenue_variance_pct_null_reason"] == "computed figure unavailable"
    books = {**BOOKS, "total_expenses_usd": None, "total_expenses_usd_null_reason": "no payroll"}
    row = _month(books=books, filing=_filing(1000.0, 800.0))
    assert row["status_reason"] == "computed expenses unavailable (no payroll)"


def test_the_largest_parts_are_by_absolute_size_with_their_share() -> None:
    df = pl.DataFrame(
        {
            "month_start": [SEP, SEP, SEP, SEP, OCT],
            "account_id": ["A-3", "A-9", "A-2", "A-4", "A-1"],
            "amount_usd": [100.0, -300.0, 100.0, 0.0, 999.0],
        }
    )
    # |total| = 500: A-9 300 (60 %), then tie at 100 (20 %): by key
    assert _top(df, SEP, "account_id", 2) == "A-9 -$300.00 (60.0%), A-2 $100.00 (20.0%)"
    assert _top(df, SEP, "account_id", 3) == (
        "A-9 -$300.00 (60.0%), A-2 $100.00 (20.0%), A-3 $100.00 (20.0%)"
    )
    assert _top(df, dt.date(2025, 11, 1), "account_id", 2) == "none"
    zeros = df.with_columns(pl.lit(0.0).alias("amount_usd"))
    assert _top(zeros, SEP, "account_id", 2) == "none"


def test_billing_gaps_of_the_month_only() -> None:
    gaps = pl.DataFrame(
        {
            "month_start": [SEP, OCT],
            "account_id": ["A-7", "A-8"],
            "uninvoiced_paying_days": [21, 3],
            "estimated_unbilled_revenue_usd": [35.0, 5.0],
        }
    )
    assert _gaps_text(gaps, SEP) == "A-7 21 days (est. $35.00)"
    assert _gaps_text(gaps, dt.date(2025, 11, 1)) == "none"


def _frame(*rows: dict) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=PROFIT_RECONCILIATION_SCHEMA)


def test_the_check_fails_as_error_on_a_mismatch_and_as_warn_without_a_filing() -> None:
    ok = _month(filing=_filing(1000.0, 800.0))
    bad = _month(filing=_filing(1100.0, 800.0), month=OCT)
    none = _month(month=dt.date(2025, 11, 1))

    passed = reconciliation_check(_frame(ok))
    assert passed.passed and passed.description == "every month reconciled with its filing"
    assert passed.metadata["mismatch_months"].value == "none"
    assert passed.metadata["no_filing_months"].value == "none"

    failed = reconciliation_check(_frame(ok, bad, none))
    assert not failed.passed and failed.severity == dg.AssetCheckSeverity.ERROR
    assert failed.description == (
        "2025-10 MISMATCH: revenue computed $1,000.00 vs filed $1,100.00, variance -$100.00 "
        "(-9.09%). Billing gaps (check first): none. Largest accounts: A-1 $1.00 (100.0%). "
        "Largest expense categories: opex:x. Route to an accountant for verification. | "
        "2025-11 no_filing: no filing for 2025-11 has landed yet: not reconciled"
    )
    assert failed.metadata["mismatch_months"].value == "2025-10"
    assert failed.metadata["no_filing_months"].value == "2025-11"

    waiting = reconciliation_check(_frame(ok, none))
    assert not waiting.passed and waiting.severity == dg.AssetCheckSeverity.WARN
    assert failed.check_name == passed.check_name == "reconciled_with_filings"
    # every month listed, and the months table an accountant reads, one row per month
    two = reconciliation_check(_frame(bad, {**bad, "month_start": dt.date(2025, 12, 1)}))
    assert two.metadata["mismatch_months"].value == "2025-10, 2025-12"
    table = failed.metadata["months"].value.splitlines()
    assert [c.strip() for c in table[0].strip("|").split("|")] == [
        "month_start",
        "status",
        "computed_revenue_usd",
        "filed_revenue_usd",
        "revenue_variance_pct",
        "computed_expenses_usd",
        "filed_expenses_usd",
        "expenses_variance_pct",
    ]
    assert [line.split("|")[2].strip() for line in table[2:]] == [
        "reconciled",
        "mismatch",
        "no_filing",
    ]


def test_the_billing_gaps_default_to_none() -> None:
    row = reconcile_month(SEP, BOOKS, None, TOL, "a", "c")
    assert row["billing_gap_accounts"] == "none"
