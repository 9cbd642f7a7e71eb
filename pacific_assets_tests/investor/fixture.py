"""A tiny hand-checkable company for October 2025, written straight into the lake.

Six accounts, five users; every upstream table the rollups read, in the interface's columns.
The expected KPIs in ``EXPECTED_OCTOBER`` / ``EXPECTED_WEEK`` are worked out by hand below.

Accounts (segment; contracted MRR at the end of each day, paying statuses only):
- A1 smb        subscribed 100; from Oct 10: 150                 -> expansion 50
- A2 smb        subscribed 200; from Oct 20: churned              -> churn 200
- A3 enterprise renewed 1000; from Oct 5: 800                     -> contraction 200
- A4 enterprise trial; from Oct 15: subscribed 300                -> new 300
- A5 mid_market trial all month (never pays: the zero-denominator segment)
- A6 enterprise churned (since before October); from Oct 25: 500  -> reactivation 500

Opening MRR (end of Sep 30) = 100 + 200 + 1000 = 1300; closing (Oct 31) = 150 + 800 + 300 + 500 = 1750.
Bridge: 1300 + 300 new + 500 reactivation + 50 expansion − 200 contraction − 200 churn = 1750.

Users (October): U1 (A1, licensed) active every day, 1.0 h; U2 (A1, licensed) Oct 1–10, 0.5 h;
U3 (A3, licensed) Oct 1 only, 2.0 h; U4 (A3, unlicensed) Oct 1 only, 1.0 h; U5 (A5, licensed)
a zero-event row on Oct 2 (not active).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import polars as pl

from pacific_assets.storage.lake import Lake

UTC = dt.UTC
OCT = dt.date(2025, 10, 1)
NOV = dt.date(2025, 11, 1)
OCT_DAYS = [OCT + dt.timedelta(days=i) for i in range(31)]
WEEK = dt.date(2025, 10, 6)  # a Monday

SEGMENTS = {
    "A1": "smb",
    "A2": "smb",
    "A3": "enterprise",
    "A4": "enterprise",
    "A5": "mid_market",
    "A6": "enterprise",
}


#: account -> (status, contracted MRR) before its one change, the day of the change (None: no
#: change in October), (status, contracted MRR) from that day on: the list in the docstring.
# fmt: off
STATES = {
    "A1": (("subscribed", 100.0), dt.date(2025, 10, 10), ("subscribed", 150.0)),
    "A2": (("subscribed", 200.0), dt.date(2025, 10, 20), ("churned", 0.0)),
    "A3": (("renewed", 1000.0),   dt.date(2025, 10, 5),  ("renewed", 800.0)),
    "A4": (("trial", 0.0),        dt.date(2025, 10, 15), ("subscribed", 300.0)),
    "A5": (("trial", 0.0),        None,                  None),
    "A6": (("churned", 0.0),      dt.date(2025, 10, 25), ("subscribed", 500.0)),
}
# fmt: on


def account_state(account: str, day: dt.date) -> tuple[str, float]:
    """(status, contracted MRR) at the end of ``day``."""
    before, change, after = STATES[account]
    return after if change is not None and day >= change else before


PAYING = {"subscribed", "renewal_opened", "renewed"}
EVER_PAID_BEFORE_OCTOBER = {"A1", "A2", "A3", "A6"}


def day_movements(account: str, day: dt.date) -> dict:
    """The day's movements against the day before, as growth's account_status_daily has them."""
    before_status, before = account_state(account, day - dt.timedelta(days=1))
    status, mrr = account_state(account, day)
    was, now = before_status in PAYING, status in PAYING
    had_paid = account in EVER_PAID_BEFORE_OCTOBER or any(
        account_state(account, d)[0] in PAYING for d in OCT_DAYS if d < day
    )
    return {
        "new_account": now and not was and not had_paid,
        "reactivated_account": now and not was and had_paid,
        "churned_account": was and not now,
        "renewed_account": False,
        "new_mrr_usd": mrr if now and not was and not had_paid else 0.0,
        "expansion_mrr_usd": mrr - before if was and now and mrr > before else 0.0,
        "contraction_mrr_usd": before - mrr if was and now and mrr < before else 0.0,
        "churned_mrr_usd": before if was and not now else 0.0,
        "reactivation_mrr_usd": mrr if now and not was and had_paid else 0.0,
    }


# user -> (account, licensed, active days, hours per active day, events per active day)
USERS = {
    "U1": ("A1", True, OCT_DAYS, 1.0, 10),
    "U2": ("A1", True, OCT_DAYS[:10], 0.5, 5),
    "U3": ("A3", True, OCT_DAYS[:1], 2.0, 8),
    "U4": ("A3", False, OCT_DAYS[:1], 1.0, 3),
    "U5": ("A5", True, [], 0.0, 0),
}


def _keys(days: Iterable[dt.date]) -> list[str]:
    return [d.isoformat() for d in days]


def write_fixture(
    lake: Lake, skip: dict[str, set[str]] | None = None, outage_days: Iterable[dt.date] = ()
) -> None:
    """Write every input table; ``skip`` leaves partitions out, ``outage_days`` flags days incomplete."""
    skip = skip or {}
    outage = set(outage_days)

    def write(table: str, col: str, keys: list[str], df: pl.DataFrame) -> None:
        keep = [k for k in keys if k not in skip.get(table, set())]
        df = df.filter(pl.col(col).cast(pl.String).is_in(keep))
        lake.write_partitions(table, col, keep, df)

    created = dt.datetime(2025, 8, 1, tzinfo=UTC)
    lake.write_partitions(
        "stg_accounts",
        "export_date",
        ["2025-09-01"],
        pl.DataFrame(
            {
                "account_id": list(SEGMENTS),
                "name": [f"Account {a}" for a in SEGMENTS],
                "segment": list(SEGMENTS.values()),
                "region": ["emea"] * 6,
                "industry": ["software"] * 6,
                "created_at": [created] * 6,
                "export_date": [dt.date(2025, 9, 1)] * 6,
                "_source_file": ["crm/accounts/date=2025-09-01/accounts.csv"] * 6,
                "_row_number": list(range(1, 7)),
            },
            schema_overrides={"created_at": pl.Datetime("us", "UTC"), "_row_number": pl.Int64},
        ),
    )

    status_rows = []
    for day in OCT_DAYS:
        for account in SEGMENTS:
            status, mrr = account_state(account, day)
            status_rows.append(
                {
                    "date": day,
                    "account_id": account,
                    "status": status,
                    "plan": "team",
                    "seats": 10,
                    "mrr_usd": mrr,
                    "contract_end": dt.date(2026, 6, 1),
                    "is_paying": status in PAYING,
                    "imputed": False,
                    **day_movements(account, day),
                }
            )
    write("account_status_daily", "date", _keys(OCT_DAYS), pl.DataFrame(status_rows))

    user_rows, hours_rows = [], []
    for day in OCT_DAYS:
        per_account: dict[str, dict] = {}
        for user, (account, licensed, active_days, hours, events) in USERS.items():
            active = day in active_days
            if active or (user == "U5" and day == OCT_DAYS[1]):
                user_rows.append(
                    {
                        "date": day,
                        "user_id": user,
                        "account_id": account,
                        "team": "sales",
                        "licensed": licensed,
                        "sessions": 1 if active else 0,
                        "hours": hours if active else 0.0,
                        "events": events if active else 0,
                        "late_events": 1 if (user == "U1" and day == dt.date(2025, 10, 3)) else 0,
                    }
                )
            acc = per_account.setdefault(
                account,
                {
                    "licensed_users": 0,
                    "active_users": 0,
                    "sessions": 0,
                    "total_hours": 0.0,
                    "events": 0,
                    "late_events": 0,
                },
            )
            acc["licensed_users"] += int(licensed)
            if active:
                acc["active_users"] += 1
                acc["sessions"] += 1
                acc["total_hours"] += hours
                acc["events"] += events
                acc["late_events"] += 1 if (user == "U1" and day == dt.date(2025, 10, 3)) else 0
        for account, acc in per_account.items():
            hpu = acc["total_hours"] / acc["active_users"] if acc["active_users"] else None
            hours_rows.append(
                {
                    "date": day,
                    "account_id": account,
                    **acc,
                    "hours_per_active_user": hpu,
                    "hours_per_active_user_null_reason": None
                    if hpu is not None
                    else "no_active_users",
                    "is_complete": day not in outage,
                    "incomplete_reason": "outage suspected" if day in outage else None,
                }
            )
    write("user_engagement_daily", "date", _keys(OCT_DAYS), pl.DataFrame(user_rows))
    write(
        "engagement_hours",
        "date",
        _keys(OCT_DAYS),
        pl.DataFrame(hours_rows, schema_overrides={"hours_per_active_user": pl.Float64}),
    )
    write(
        "engagement_completeness",
        "date",
        _keys(OCT_DAYS),
        pl.DataFrame(
            {
                "date": OCT_DAYS,
                "is_complete": [d not in outage for d in OCT_DAYS],
                "reason": [
                    "clicks far below the weekday/hour baseline" if d in outage else None
                    for d in OCT_DAYS
                ],
                "expected_events": [12] * 31,
                "observed_events": [0 if d in outage else 12 for d in OCT_DAYS],
            },
            schema_overrides={"reason": pl.String},
        ),
    )

    month = [OCT.isoformat()]
    write(
        "unit_profit",
        "month_start",
        month,
        pl.DataFrame(
            {
                "month_start": [OCT],
                "cash_collected_usd": [1500.0],
                "recognized_revenue_usd": [1700.0],
                "opex_usd": [500.0],
                "capex_amortization_usd": [100.0],
                "salaries_usd": [1400.0],
                "total_expenses_usd": [2000.0],
                "profit_usd": [-300.0],
                "paying_subscribers": [4],
                "licensed_seats": [40],
                "profit_per_subscriber_usd": [-75.0],
                "profit_per_subscriber_usd_null_reason": [None],
            },
            schema_overrides={"profit_per_subscriber_usd_null_reason": pl.String},
        ),
    )
    economics = {  # account: (recognized revenue, direct cost, contribution margin)
        "A1": (130.0, 30.0, 100.0),
        "A2": (130.0, 20.0, 110.0),
        "A3": (900.0, 100.0, 800.0),
        "A4": (150.0, 50.0, 100.0),
        "A5": (0.0, 0.0, 0.0),
        "A6": (390.0, 90.0, 300.0),
    }
    write(
        "account_unit_economics",
        "month_start",
        month,
        pl.DataFrame(
            {
                "month_start": [OCT] * 6,
                "account_id": list(economics),
                "recognized_revenue_usd": [v[0] for v in economics.values()],
                "direct_cost_usd": [v[1] for v in economics.values()],
                "allocated_cost_usd": [10.0] * 6,
                "contribution_margin_usd": [v[2] for v in economics.values()],
            }
        ),
    )
    write(
        "profit_reconciliation",
        "month_start",
        month,
        pl.DataFrame(
            {
                "month_start": [OCT],
                "status": ["reconciled"],
                "status_reason": ["revenue and expenses within 0.50% of the filing"],
                "filed_revenue_usd": [1700.0],
                "computed_revenue_usd": [1700.0],
                "revenue_variance_usd": [0.0],
            }
        ),
    )
    growth = {
        "new_accounts": 1,
        "churned_accounts": 1,
        "renewed_accounts": 0,
        "reactivated_accounts": 1,
        "seats_added": 5,
        "seats_removed": 0,
        "new_mrr_usd": 300.0,
        "expansion_mrr_usd": 50.0,
        "contraction_mrr_usd": 200.0,
        "churned_mrr_usd": 200.0,
        "reactivation_mrr_usd": 500.0,
        "net_change_accounts": 1,
        "net_new_mrr_usd": 450.0,
        "renewing_accounts": 1,
        "renewal_expansion_usd": 0.0,
        "imputed_accounts": 0,
    }
    write(
        "account_growth_monthly",
        "month_start",
        month,
        pl.DataFrame({"month_start": [OCT], **{k: [v] for k, v in growth.items()}}),
    )
    week_growth = dict.fromkeys(growth, 0) | {"expansion_mrr_usd": 50.0, "net_new_mrr_usd": 50.0}
    week_growth = {k: (float(v) if k.endswith("_usd") else v) for k, v in week_growth.items()}
    write(
        "account_growth",
        "week_start",
        [WEEK.isoformat()],
        pl.DataFrame({"week_start": [WEEK], **{k: [v] for k, v in week_growth.items()}}),
    )


# Hand-computed October KPIs (see the module docstring). Ratios as fractions of small integers.
EXPECTED_OCTOBER = {
    "all": {
        "mrr_usd": 1750.0,
        "arr_usd": 21000.0,
        "starting_mrr_usd": 1300.0,
        "new_mrr_usd": 300.0,
        "expansion_mrr_usd": 50.0,
        "contraction_mrr_usd": 200.0,
        "churned_mrr_usd": 200.0,
        "reactivation_mrr_usd": 500.0,
        "net_new_mrr_usd": 450.0,
        "starting_paying_accounts": 3,
        "paying_accounts": 4,
        "churned_paying_accounts": 1,
        "nrr": 950 / 1300,  # A1 150 + A2 0 + A3 800 over 1300
        "grr": 900 / 1300,  # min(100,150) + min(200,0) + min(1000,800)
        "logo_churn_rate": 1 / 3,
        "arpa_usd": 1750 / 4,
        "active_users": 3,  # U1, U2, U3 (U4 unlicensed, U5 no events)
        "avg_daily_active_users": 42 / 31,  # 31 + 10 + 1 user-days
        "dau_mau": 42 / 93,
        "total_hours": 39.0,  # 31 × 1.0 + 10 × 0.5 + (2.0 + 1.0)
        "active_user_days": 43,  # 31 + 10 + 2
        "hours_per_active_user_per_day": 39 / 43,
        "sessions": 43,
        "events": 371,  # 310 + 50 + 8 + 3
        "late_events": 1,
        "recognized_revenue_usd": 1700.0,
        "profit_usd": -300.0,
        "paying_subscribers": 4,
        "profit_per_subscriber_usd": -75.0,
        "profit_per_seat_usd": -7.5,
        "contribution_margin_usd": 1410.0,
        "contribution_margin_per_account_usd": 1410 / 4,
        "new_accounts": 1,
        "renewing_accounts": 1,
    },
    "smb": {
        "mrr_usd": 150.0,
        "starting_mrr_usd": 300.0,
        "expansion_mrr_usd": 50.0,
        "churned_mrr_usd": 200.0,
        "net_new_mrr_usd": -150.0,
        "nrr": 0.5,
        "grr": 100 / 300,
        "logo_churn_rate": 0.5,
        "arpa_usd": 150.0,
        "active_users": 2,
        "dau_mau": 41 / 62,
        "hours_per_active_user_per_day": 36 / 41,
        "recognized_revenue_usd": 260.0,
        "contribution_margin_usd": 210.0,
        "contribution_margin_per_account_usd": 210.0,
        "profit_per_subscriber_usd": None,
        "profit_per_subscriber_usd_null_reason": "company_level_only",
        "new_accounts": None,
    },
    "enterprise": {
        "mrr_usd": 1600.0,
        "starting_mrr_usd": 1000.0,
        "new_mrr_usd": 300.0,
        "reactivation_mrr_usd": 500.0,
        "contraction_mrr_usd": 200.0,
        "nrr": 0.8,
        "grr": 0.8,
        "logo_churn_rate": 0.0,
        "arpa_usd": 1600 / 3,
        "dau_mau": 1 / 31,
        "hours_per_active_user_per_day": 1.5,
        "contribution_margin_per_account_usd": 400.0,
    },
    "mid_market": {  # no paying accounts, no active users: every ratio null with its reason
        "mrr_usd": 0.0,
        "starting_mrr_usd": 0.0,
        "nrr": None,
        "nrr_null_reason": "no_mrr_at_period_start",
        "grr": None,
        "grr_null_reason": "no_mrr_at_period_start",
        "logo_churn_rate": None,
        "logo_churn_rate_null_reason": "no_paying_accounts_at_period_start",
        "arpa_usd": None,
        "arpa_usd_null_reason": "no_paying_accounts_at_period_end",
        "active_users": 0,
        "avg_daily_active_users": 0.0,
        "dau_mau": None,
        "dau_mau_null_reason": "no_active_licensed_users",
        "hours_per_active_user_per_day": None,
        "hours_per_active_user_per_day_null_reason": "no_active_users",
        "contribution_margin_per_account_usd": None,
        "contribution_margin_per_account_usd_null_reason": "no_paying_accounts_at_period_end",
    },
}

# Week of Monday Oct 6 (days Oct 6–12, opening balance at the end of Oct 5).
EXPECTED_WEEK = {
    "all": {
        "starting_mrr_usd": 1100.0,  # A1 100 + A2 200 + A3 800 (contracted on Oct 5)
        "mrr_usd": 1150.0,  # A1 150 from Oct 10
        "expansion_mrr_usd": 50.0,
        "new_mrr_usd": 0.0,
        "net_new_mrr_usd": 50.0,
        "nrr": 1150 / 1100,
        "grr": 1.0,
        "active_users": 2,  # U1, U2
        "avg_daily_active_users": 12 / 7,  # U1 7 days + U2 Oct 6–10
        "dau_wau": 12 / 14,
        "total_hours": 9.5,
        "hours_per_active_user_per_day": 9.5 / 12,
    }
}
