"""What a monthly profit asset reads, and which of it is actually there.

The monthly assets are built from the daily facts (docs/ARCHITECTURE.md "The graph": coarser grains
come from daily facts). Profit's own facts must be complete for every day of the month — they are
produced in the same month-close run, so a gap is a bug and the run fails naming the days. Inputs
owned by other teams (ops and HR exports, account statuses) can legitimately be late: their absence
is recorded and turned into explicit nulls with reasons, never into zeros.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import duckdb

from pacific_assets.profit import lakeio
from pacific_assets.profit.expenses import PROFIT_EXPENSES_SCHEMA
from pacific_assets.profit.revenue import (
    CASH_COLLECTED_DAILY_SCHEMA,
    RECOGNIZED_REVENUE_DAILY_SCHEMA,
)
from pacific_assets.storage import duck
from pacific_assets.storage.lake import Lake


@dataclass
class MonthInputs:
    months: list[dt.date]
    #: Per month: human-readable reasons an input of that month is missing.
    missing_ops: dict[dt.date, str] = field(default_factory=dict)
    missing_salaries: dict[dt.date, str] = field(default_factory=dict)
    missing_status_last_day: dict[dt.date, str] = field(default_factory=dict)
    missing_status_days: dict[dt.date, list[str]] = field(default_factory=dict)
    missing_usage_days: dict[dt.date, list[str]] = field(default_factory=dict)

    def incomplete_reasons(self, month: dt.date) -> list[str]:
        reasons = [
            r
            for r in (
                self.missing_ops.get(month),
                self.missing_salaries.get(month),
                self.missing_status_last_day.get(month),
            )
            if r
        ]
        if self.missing_status_days.get(month) and month not in self.missing_status_last_day:
            reasons.append(_days_reason("account_status_daily", self.missing_status_days[month]))
        return reasons


def _days_reason(table: str, days: list[str]) -> str:
    shown = ", ".join(days[:3]) + (f" and {len(days) - 3} more" if len(days) > 3 else "")
    return f"{table} has no partition for {shown}"


def require_fresh_facts(store: Lake, days: list[str], tables: list[str]) -> None:
    """The month's daily facts must be built from the latest state of the books.

    From each partition's lineage (docs/operations.md §3): ``invoice_lines_current`` must have
    been built from the staged exports as they are now, and each daily fact partition from the
    books as they are now (its slice of them): otherwise a billing change (a void, a refund, a
    back-dated line) that landed since would be silently left out of the month.
    """
    from pacific_assets.orchestration import UNPARTITIONED, LakeState, stale_partitions

    if not store.partition_keys("invoice_lines_current"):
        raise RuntimeError(
            "invoice_lines_current does not exist: run profit_daily_facts_schedule's assets "
            "(or let its keeper sensor, profit_late_billing, build it)"
        )
    state = LakeState(store)
    if stale_partitions(store, "invoice_lines_current", [UNPARTITIONED], state):
        raise RuntimeError(
            "stg_invoice_lines changed after invoice_lines_current was built: billing data "
            f"landed since; rebuild invoice_lines_current and the daily facts for {days[0]} … "
            f"{days[-1]} first (profit_late_billing does it)"
        )
    for table in tables:
        stale = stale_partitions(store, table, days, state)
        if stale:
            raise RuntimeError(
                f"{table} for {', '.join(stale[:3])}{' …' if len(stale) > 3 else ''} was built "
                "from an earlier state of the books: rebuild those days first "
                "(profit_late_billing does it)"
            )


def _month_days(month: dt.date) -> list[str]:
    return lakeio.days_between(month, lakeio.add_months(month, 1))


def open_month_inputs(
    con: duckdb.DuckDBPyConnection,
    store: Lake,
    months: list[dt.date],
    *,
    with_cash: bool = True,
    with_usage: bool = False,
) -> MonthInputs:
    """Register the month's inputs as DuckDB views; fail if profit's own daily facts are missing.

    ``with_cash=False`` leaves cash out (an empty view), for assets that do not depend on it.
    """
    days = [d for m in months for d in _month_days(m)]
    month_keys = [m.isoformat() for m in months]
    facts = ["recognized_revenue_daily"] + (["cash_collected_daily"] if with_cash else [])
    for table in facts:
        missing = sorted(set(days) - set(store.partition_keys(table)))
        if missing:
            raise RuntimeError(
                f"{_days_reason(table, missing)}: materialize the profit daily facts for these "
                "days first (profit_daily_facts_schedule, or its keeper sensor profit_late_billing)"
            )
    require_fresh_facts(store, days, facts)
    missing_expenses = sorted(set(month_keys) - set(store.partition_keys("profit_expenses")))
    if missing_expenses:
        raise RuntimeError(
            f"profit_expenses has no partition for {', '.join(missing_expenses)}: materialize it "
            "for the same months first"
        )

    duck.lake_view(con, store, "recognized_revenue_daily", RECOGNIZED_REVENUE_DAILY_SCHEMA, days)
    duck.lake_view(
        con, store, "cash_collected_daily", CASH_COLLECTED_DAILY_SCHEMA, days if with_cash else []
    )
    duck.lake_view(con, store, "profit_expenses", PROFIT_EXPENSES_SCHEMA, month_keys)
    status_schema = lakeio.UPSTREAM_SCHEMAS["account_status_daily"]
    duck.lake_view(con, store, "account_status_daily", status_schema, days)
    usage_schema = lakeio.UPSTREAM_SCHEMAS["engagement_hours"]
    duck.lake_view(con, store, "engagement_hours", usage_schema, days if with_usage else [])
    duck.frame_view(con, "profit_months", lakeio.months_frame(months))

    inputs = MonthInputs(months=months)
    ops_present = set(store.partition_keys("stg_ops_expenses"))
    salaries_present = set(store.partition_keys("stg_salaries"))
    status_present = set(store.partition_keys("account_status_daily"))
    usage_present = set(store.partition_keys("engagement_hours")) if with_usage else set()
    for m in months:
        key = m.isoformat()
        if key not in ops_present:
            inputs.missing_ops[m] = f"stg_ops_expenses has no partition for {m:%Y-%m}"
        if key not in salaries_present:
            inputs.missing_salaries[m] = f"stg_salaries has no partition for {m:%Y-%m}"
        month_days = _month_days(m)
        if month_days[-1] not in status_present:
            inputs.missing_status_last_day[m] = (
                f"account_status_daily has no partition for {month_days[-1]} (month end)"
            )
        missing_days = [d for d in month_days if d not in status_present]
        if missing_days:
            inputs.missing_status_days[m] = missing_days
        if with_usage:
            missing_usage = [d for d in month_days if d not in usage_present]
            if missing_usage:
                inputs.missing_usage_days[m] = missing_usage
    return inputs
