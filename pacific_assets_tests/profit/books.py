"""A small hand-made set of books (Sep–Nov 2025) written straight into the lake's staging and
growth tables, with every figure the profit pipeline must produce worked out by hand below.

Accounts
- A  trial from Oct 1, pays from **Oct 16 (mid-month start)**, 5 seats; monthly lines
     [Oct 16, Nov 16) $620 = $20/day and [Nov 16, Dec 16) $600 = $20/day.
- B  pays from Oct 1, 10 seats; **annual prepaid** line [2025-10-01, 2026-10-01) $3,650 = 365 days
     × $10/day, paid Oct 3; direct opex $200 (dedicated support) in Oct.
- C  pays Oct 1–15, 4 seats, churns Oct 16; line [Oct 1, Nov 1) $310 = $10/day paid Oct 1;
     **refund** line −$160 over the remaining 16 days [Oct 16, Nov 1) = −$10/day, money back Oct 17.
- D  trial only; a $999 line issued Oct 1 and **voided** on Oct 5 (in the same file a stale "paid"
     row comes first: the later row wins).
- E  pays from Oct 1, 3 seats, **no invoice in October** (missing invoice); Nov line $300 = $10/day.
Nobody pays in September: **zero subscribers**.

Expenses: hosting $1,000 shared opex every month (Nov's row exported twice: counts once); laptops
**capex** $3,600 shared bought in Sep (36 months → $100/month); server capex $720 for account A in
Oct ($20/month, a direct cost); salaries engineering $5,000 + sales $3,000 every month.
Filings: none for Sep; Oct $782 revenue (−0.26 %, inside 0.5 %) and $9,320 expenses; Nov $1,250
revenue (computed $1,200: variance −$50, −4 %) and $9,120 expenses.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from pacific_assets.profit.lakeio import UPSTREAM_SCHEMAS, days_between
from pacific_assets.storage.lake import Lake

D = dt.date
SEP, OCT, NOV = D(2025, 9, 1), D(2025, 10, 1), D(2025, 11, 1)
MONTHS = [SEP.isoformat(), OCT.isoformat(), NOV.isoformat()]
DAYS = days_between(SEP, D(2025, 12, 1))


def ts(s: str) -> dt.datetime:
    return dt.datetime.fromisoformat(s).replace(tzinfo=dt.UTC)


def _frame(table: str, rows: list[dict]) -> pl.DataFrame:
    schema = UPSTREAM_SCHEMAS[table]
    return pl.DataFrame([{c: r.get(c) for c in schema} for r in rows], schema=schema)


def _line(
    export: str,
    line_id: str,
    account: str,
    start: dt.date,
    end: dt.date,
    amount: float,
    status: str,
    paid_at: str | None = None,
    row: int = 1,
    invoice: str | None = None,
) -> dict:
    return {
        "invoice_id": invoice or f"INV-{line_id}",
        "line_id": line_id,
        "account_id": account,
        "issued_at": ts(f"{start}T00:00:00"),
        "paid_at": ts(paid_at) if paid_at else None,
        "service_start": start,
        "service_end": end,
        "product": "seat_license",
        "quantity": 1,
        "unit_price_usd": abs(amount),
        "amount_usd": amount,
        "status": status,
        "export_date": D.fromisoformat(export),
        "_source_file": f"billing/invoices/date={export}/part-0.csv",
        "_row_number": row,
    }


# fmt: off
INVOICE_ROWS = [
    # export date, line, account, service [start, end), amount, status, paid_at, row in file
    _line("2025-10-01", "L-B1", "B", D(2025, 10, 1), D(2026, 10, 1), 3650.0, "open"),
    _line("2025-10-03", "L-B1", "B", D(2025, 10, 1), D(2026, 10, 1), 3650.0, "paid",
          "2025-10-03T10:00:00"),
    _line("2025-10-16", "L-A1", "A", D(2025, 10, 16), D(2025, 11, 16), 620.0, "open"),
    _line("2025-10-20", "L-A1", "A", D(2025, 10, 16), D(2025, 11, 16), 620.0, "paid",
          "2025-10-20T08:00:00"),
    _line("2025-11-16", "L-A2", "A", D(2025, 11, 16), D(2025, 12, 16), 600.0, "paid",
          "2025-11-16T09:00:00"),
    _line("2025-10-01", "L-C1", "C", D(2025, 10, 1), D(2025, 11, 1), 310.0, "paid",
          "2025-10-01T12:00:00", row=2),
    _line("2025-10-17", "L-C1R", "C", D(2025, 10, 16), D(2025, 11, 1), -160.0, "refunded",
          "2025-10-17T00:30:00", invoice="INV-L-C1"),
    _line("2025-10-01", "L-D1", "D", D(2025, 10, 1), D(2025, 11, 1), 999.0, "open", row=3),
    _line("2025-10-05", "L-D1", "D", D(2025, 10, 1), D(2025, 11, 1), 999.0, "paid",
          "2025-10-04T00:00:00", row=1),
    _line("2025-10-05", "L-D1", "D", D(2025, 10, 1), D(2025, 11, 1), 999.0, "void", row=2),
    _line("2025-11-01", "L-E1", "E", D(2025, 11, 1), D(2025, 12, 1), 300.0, "open"),
    _line("2025-11-02", "L-E1", "E", D(2025, 11, 1), D(2025, 12, 1), 300.0, "paid",
          "2025-11-02T23:59:00"),
]
# fmt: on


def _expense(
    month: dt.date, eid: str, category: str, capex: bool, amount: float, account=None, row=1
):
    return {
        "expense_id": eid,
        "month": f"{month:%Y-%m}",
        "category": category,
        "capex": capex,
        "vendor": "Vendor",
        "amount_usd": amount,
        "account_id": account,
        "month_start": month,
        "_source_file": f"ops/expenses/month={month:%Y-%m}/part-0.csv",
        "_row_number": row,
    }


EXPENSE_ROWS = [
    _expense(SEP, "X-1", "hosting", False, 1000.0),
    _expense(SEP, "X-2", "laptops", True, 3600.0, row=2),
    _expense(OCT, "X-3", "hosting", False, 1000.0),
    _expense(OCT, "X-4", "dedicated_support", False, 200.0, account="B", row=2),
    _expense(OCT, "X-5", "server", True, 720.0, account="A", row=3),
    _expense(NOV, "X-6", "hosting", False, 1000.0),
    _expense(NOV, "X-6", "hosting", False, 1000.0, row=2),  # exported twice: counts once
]

SALARY_ROWS = [
    {
        "month": f"{m:%Y-%m}",
        "team": team,
        "headcount": hc,
        "salary_cost_usd": cost,
        "month_start": m,
        "_source_file": f"hr/salaries/month={m:%Y-%m}/part-0.csv",
        "_row_number": i,
    }
    for m in (SEP, OCT, NOV)
    for i, (team, hc, cost) in enumerate((("engineering", 2, 5000.0), ("sales", 1, 3000.0)), 1)
]

FILING_ROWS = [
    {"month": "2025-10", "revenue_usd": 782.0, "expenses_usd": 9320.0, "month_start": OCT},
    {"month": "2025-11", "revenue_usd": 1250.0, "expenses_usd": 9120.0, "month_start": NOV},
]


def _status_rows() -> list[dict]:
    """Status at the end of each day, Sep 1 – Nov 30, for every account that exists."""
    rows = []
    for key in DAYS:
        day = D.fromisoformat(key)

        def add(account: str, status: str, seats: int, paying: bool, day: dt.date = day) -> None:
            mrr = {"A": 600.0, "B": 3650.0 / 12, "C": 310.0, "E": 300.0}.get(account, 0.0)
            rows.append(
                {
                    "date": day,
                    "account_id": account,
                    "status": status,
                    "plan": "team",
                    "seats": seats,
                    "mrr_usd": mrr if paying else 0.0,
                    "contract_end": None,
                    "is_paying": paying,
                    "imputed": False,
                }
            )

        add("D", "trial", 0, False)
        if day >= OCT:
            add("A", "subscribed" if day >= D(2025, 10, 16) else "trial", 5, day >= D(2025, 10, 16))
            add("B", "subscribed", 10, True)
            add("C", "subscribed" if day < D(2025, 10, 16) else "churned", 4, day < D(2025, 10, 16))
            add("E", "subscribed", 3, True)
    return rows


def write_books(
    lake: Lake, salary_months: list[str] = MONTHS, status_days: list[str] = DAYS
) -> None:
    """Write the fixture into the staging and growth tables, as their pipelines would.

    ``salary_months`` / ``status_days`` leave partitions out, to simulate a late HR export or a
    growth pipeline that has not run yet.
    """
    lines = _frame("stg_invoice_lines", INVOICE_ROWS)
    lake.write_partitions(
        "stg_invoice_lines",
        "export_date",
        sorted({r["export_date"].isoformat() for r in INVOICE_ROWS}),
        lines,
    )
    lake.write_partitions(
        "stg_ops_expenses", "month_start", MONTHS, _frame("stg_ops_expenses", EXPENSE_ROWS)
    )
    salaries = [r for r in SALARY_ROWS if r["month_start"].isoformat() in salary_months]
    lake.write_partitions(
        "stg_salaries", "month_start", salary_months, _frame("stg_salaries", salaries)
    )
    filings = _frame(
        "stg_filings",
        [
            {**r, "_source_file": f"finance/filings/month={r['month']}/f.csv", "_row_number": 1}
            for r in FILING_ROWS
        ],
    )
    lake.write_partitions("stg_filings", "month_start", MONTHS[1:], filings)
    status = [r for r in _status_rows() if r["date"].isoformat() in status_days]
    lake.write_partitions(
        "account_status_daily", "date", status_days, _frame("account_status_daily", status)
    )


def land_invoice_line(lake: Lake, base: dict, export: str, **changes: object) -> None:
    """A line exported on ``export`` after the books were written (``base`` with ``changes``),
    in an export partition of its own: what a late or corrected billing export looks like."""
    row = {
        **base,
        **changes,
        "export_date": D.fromisoformat(export),
        "_source_file": f"billing/invoices/date={export}/part-0.csv",
    }
    lake.write_partitions(
        "stg_invoice_lines", "export_date", [export], _frame("stg_invoice_lines", [row])
    )


def write_usage(lake: Lake) -> None:
    """Engagement hours for the usage driver: in October A 10 h, B 30 h, E 60 h (C none)."""
    rows = [
        {"date": D(2025, 10, 10), "account_id": a, "total_hours": h}
        for a, h in (("A", 10.0), ("B", 30.0), ("E", 60.0))
    ]
    lake.write_partitions("engagement_hours", "date", DAYS, _frame("engagement_hours", rows))


# --- what the pipeline must produce, by hand -------------------------------------------------
SEAT_DAYS_OCT = {"A": 16 * 5, "B": 31 * 10, "C": 15 * 4, "E": 31 * 3}  # 543 in total
SEAT_DAYS_NOV = {"A": 30 * 5, "B": 30 * 10, "E": 30 * 3}  # 540
SHARED = 1000.0 + 100.0 + 8000.0  # hosting + laptops amortization + salaries, every month
#: Recognized revenue per account and month (test_books checks it twice: the daily spread summed
#: up, and the revenue line of account_unit_economics).
EXPECTED_MONTHLY_REVENUE = {
    (OCT, "A"): 320.0,  # $20/day from Oct 16: 16 days
    (OCT, "B"): 310.0,  # $10/day, 31 days
    (OCT, "C"): 150.0,  # $310 line less the −$160 refund from Oct 16
    (NOV, "A"): 600.0,  # $20/day, 30 days (L-A1 to Nov 15, L-A2 from Nov 16)
    (NOV, "B"): 300.0,  # $10/day, 30 days
    (NOV, "E"): 300.0,  # $10/day, 30 days; nothing in October (no invoice)
}

# fmt: off
EXPECTED_UNIT_PROFIT = {
    SEP: dict(
        cash_collected_usd=0.0, recognized_revenue_usd=0.0, opex_usd=1000.0,
        capex_amortization_usd=100.0, salaries_usd=8000.0, total_expenses_usd=9100.0,
        profit_usd=-9100.0, direct_cost_usd=0.0, shared_cost_usd=SHARED,
        paying_subscribers=0, licensed_seats=0, profit_per_subscriber_usd=None,
        profit_per_seat_usd=None, direct_cost_per_account_usd=None,
        fully_loaded_cost_per_account_usd=None, gross_margin=None, accounts_with_uninvoiced_days=0,
        uninvoiced_paying_days=0, is_complete=True,
    ),
    OCT: dict(
        cash_collected_usd=3650.0 + 620.0 + 310.0 - 160.0,
        recognized_revenue_usd=31 * 10.0 + 16 * 20.0 + (310.0 - 160.0),  # B + A + C = 780
        opex_usd=1200.0, capex_amortization_usd=120.0, salaries_usd=8000.0,
        total_expenses_usd=9320.0, profit_usd=780.0 - 9320.0, direct_cost_usd=220.0,
        shared_cost_usd=SHARED, paying_subscribers=3, licensed_seats=18,
        profit_per_subscriber_usd=(780.0 - 9320.0) / 3, profit_per_seat_usd=(780.0 - 9320.0) / 18,
        direct_cost_per_account_usd=220.0 / 3, fully_loaded_cost_per_account_usd=9320.0 / 3,
        gross_margin=(780.0 - 220.0) / 780.0, accounts_with_uninvoiced_days=1,
        uninvoiced_paying_days=31, estimated_unbilled_revenue_usd=31 * 300.0 * 12 / 365,
        is_complete=False,
    ),
    NOV: dict(
        cash_collected_usd=600.0 + 300.0, recognized_revenue_usd=300.0 + 600.0 + 300.0,
        opex_usd=1000.0, capex_amortization_usd=120.0, salaries_usd=8000.0,
        total_expenses_usd=9120.0, profit_usd=1200.0 - 9120.0, direct_cost_usd=20.0,
        shared_cost_usd=SHARED, paying_subscribers=3, licensed_seats=18,
        profit_per_subscriber_usd=(1200.0 - 9120.0) / 3, profit_per_seat_usd=(1200.0 - 9120.0) / 18,
        direct_cost_per_account_usd=20.0 / 3, fully_loaded_cost_per_account_usd=9120.0 / 3,
        gross_margin=(1200.0 - 20.0) / 1200.0, accounts_with_uninvoiced_days=0,
        uninvoiced_paying_days=0, is_complete=True,
    ),
}
# fmt: on
