"""What the rollups read: the upstream lake tables, their grain, and which partitions a period needs.

One statement of the inputs serves three readers: the Spark loader (columns and types), the
completeness record (which partitions must be present, fresh, complete and checked) and the
asset definitions (deps with their partition mappings). Only pre-aggregated tables appear here
(per account or per user and day, per period); raw clicks never do.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import dagster as dg

from pacific_assets.columns import declared_tables
from pacific_assets.orchestration import Read, partitions, reads_metadata

#: Measures shared by the weekly and the monthly growth tables (TRUTH_TABLES + the growth interface).
GROWTH_COUNT_COLUMNS: tuple[str, ...] = (
    "new_accounts",
    "churned_accounts",
    "renewed_accounts",
    "reactivated_accounts",
    "seats_added",
    "seats_removed",
    "renewing_accounts",
    "renewal_expansion_usd",
    "imputed_accounts",
)
GROWTH_MRR_COLUMNS: tuple[str, ...] = (
    "new_mrr_usd",
    "expansion_mrr_usd",
    "contraction_mrr_usd",
    "churned_mrr_usd",
    "reactivation_mrr_usd",
    "net_new_mrr_usd",
)


@dataclass(frozen=True)
class InputTable:
    """One upstream lake table the rollup reads (its asset key is the table name)."""

    table: str
    partition_col: str
    #: "daily", "weekly", "monthly" or "dimension" (a change feed read as of the period end).
    grain: str
    #: Columns the rollup reads; their types are the table's declared ones (its columns.py).
    columns: tuple[str, ...]
    #: Why the rollup needs it (shown in the completeness record and the docs).
    role: str

    @property
    def asset_key(self) -> dg.AssetKey:
        return dg.AssetKey(self.table)

    @property
    def spark_schema(self) -> str:
        """The Spark DDL the rollup reads the table with, from its declared columns."""
        return declared_tables()[self.table].spark_ddl(self.columns)

    @property
    def gated(self) -> bool:
        """Dimensions are read as of the period end and never block a period."""
        return self.grain != "dimension"


ACCOUNT_STATUS_DAILY = InputTable(
    "account_status_daily",
    "date",
    "daily",
    (
        "date",
        "account_id",
        "status",
        "mrr_usd",
        "is_paying",
        # the day's movements against the day before, as the growth pipeline computes them
        "new_account",
        "reactivated_account",
        "churned_account",
        "new_mrr_usd",
        "expansion_mrr_usd",
        "contraction_mrr_usd",
        "churned_mrr_usd",
        "reactivation_mrr_usd",
    ),
    "end-of-day status, contracted MRR and the day's MRR movements per account: MRR, "
    "movements, NRR, GRR, logo churn",
)
ENGAGEMENT_HOURS = InputTable(
    "engagement_hours",
    "date",
    "daily",
    (
        "date",
        "account_id",
        "active_users",
        "sessions",
        "total_hours",
        "events",
        "late_events",
    ),
    "hours, sessions, events per account and day: hours per active user per day",
)
USER_ENGAGEMENT_DAILY = InputTable(
    "user_engagement_daily",
    "date",
    "daily",
    (
        "date",
        "user_id",
        "account_id",
        "licensed",
        "events",
    ),
    "active users per day: DAU/MAU, active users (cannot be summed from account rows, "
    "docs/semantic-contract.md)",
)
ENGAGEMENT_COMPLETENESS = InputTable(
    "engagement_completeness",
    "date",
    "daily",
    (
        "date",
        "is_complete",
        "reason",
    ),
    "per-day outage flag: a day flagged incomplete makes the period incomplete",
)
ACCOUNT_GROWTH_MONTHLY = InputTable(
    "account_growth_monthly",
    "month_start",
    "monthly",
    (
        "month_start",
        *GROWTH_COUNT_COLUMNS,
        *GROWTH_MRR_COLUMNS,
    ),
    "account counts from CRM events (new, churned, renewed, renewing, imputed); cross-check of MRR movements",
)
ACCOUNT_GROWTH_WEEKLY = InputTable(
    "account_growth",
    "week_start",
    "weekly",
    (
        "week_start",
        *GROWTH_COUNT_COLUMNS,
        *GROWTH_MRR_COLUMNS,
    ),
    "account counts from CRM events (new, churned, renewed, renewing, imputed); cross-check of MRR movements",
)
UNIT_PROFIT = InputTable(
    "unit_profit",
    "month_start",
    "monthly",
    (
        "month_start",
        "cash_collected_usd",
        "recognized_revenue_usd",
        "total_expenses_usd",
        "profit_usd",
        "paying_subscribers",
        "licensed_seats",
    ),
    "company revenue, expenses, profit, subscribers and seats: profit and unit profit",
)
ACCOUNT_UNIT_ECONOMICS = InputTable(
    "account_unit_economics",
    "month_start",
    "monthly",
    (
        "month_start",
        "account_id",
        "recognized_revenue_usd",
        "direct_cost_usd",
        "contribution_margin_usd",
    ),
    "per-account revenue and contribution margin: profit by segment",
)
PROFIT_RECONCILIATION = InputTable(
    "profit_reconciliation",
    "month_start",
    "monthly",
    (
        "month_start",
        "status",
    ),
    "accountant filings vs computed figures: a month that does not reconcile is not published",
)
STG_ACCOUNTS = InputTable(
    "stg_accounts",
    "export_date",
    "dimension",
    (
        "export_date",
        "account_id",
        "segment",
        "_row_number",
    ),
    "account segment (smb, mid_market, enterprise), latest CRM row as of the period end",
)


@dataclass(frozen=True)
class Grain:
    """A rollup grain: the monthly investor rollup or the weekly executive pack."""

    name: str
    asset: str
    period_col: str
    partitions_def: dg.TimeWindowPartitionsDefinition
    growth: InputTable
    inputs: tuple[InputTable, ...]
    #: Output column for DAU ÷ period-active users (DAU/MAU monthly, DAU/WAU weekly).
    stickiness_col: str
    with_profit: bool

    def period_end(self, start: dt.date) -> dt.date:
        """Exclusive end of the period that starts on ``start``."""
        if self.name == "weekly":
            return start + dt.timedelta(days=7)
        return (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


MONTHLY = Grain(
    name="monthly",
    asset="investor_rollup",
    period_col="month_start",
    partitions_def=partitions.monthly,
    growth=ACCOUNT_GROWTH_MONTHLY,
    inputs=(
        ACCOUNT_STATUS_DAILY,
        ACCOUNT_GROWTH_MONTHLY,
        ENGAGEMENT_HOURS,
        USER_ENGAGEMENT_DAILY,
        ENGAGEMENT_COMPLETENESS,
        UNIT_PROFIT,
        ACCOUNT_UNIT_ECONOMICS,
        PROFIT_RECONCILIATION,
        STG_ACCOUNTS,
    ),
    stickiness_col="dau_mau",
    with_profit=True,
)
WEEKLY = Grain(
    name="weekly",
    asset="executive_weekly",
    period_col="week_start",
    partitions_def=partitions.weekly,
    growth=ACCOUNT_GROWTH_WEEKLY,
    inputs=(
        ACCOUNT_STATUS_DAILY,
        ACCOUNT_GROWTH_WEEKLY,
        ENGAGEMENT_HOURS,
        USER_ENGAGEMENT_DAILY,
        ENGAGEMENT_COMPLETENESS,
        STG_ACCOUNTS,
    ),
    stickiness_col="dau_wau",
    with_profit=False,
)
GRAINS = {g.name: g for g in (MONTHLY, WEEKLY)}


def days(start: dt.date, end: dt.date) -> list[str]:
    return [(start + dt.timedelta(days=i)).isoformat() for i in range((end - start).days)]


def required_keys(
    table: InputTable, grain: Grain, period_start: dt.date, as_of: dt.date
) -> tuple[list[str], bool]:
    """Partition keys of ``table`` the period needs, and whether they are due yet.

    Daily inputs need every day of the period up to yesterday (``as_of`` exclusive). Weekly and
    monthly inputs need the period's own partition once the period has ended. Dimensions need
    nothing.
    """
    period_end = grain.period_end(period_start)
    if table.grain == "dimension":
        return [], True
    if table.grain == "daily":
        return days(period_start, min(period_end, as_of)), True
    return [period_start.isoformat()], period_end <= as_of


def reads_for(grain: Grain) -> dict[str, dg.MetadataValue]:
    """What a period reads (lineage): its days or its own period of each input; the account
    dimension up to the period's end (accounts created later cannot appear in it)."""
    return reads_metadata(
        *(Read(t.table, "through" if t.grain == "dimension" else "window") for t in grain.inputs)
    )


def deps_for(grain: Grain) -> list[dg.AssetDep]:
    """Lineage with the partition mapping each grain needs (coarser grains from daily facts)."""
    deps = []
    for table in grain.inputs:
        if table.grain == "dimension":
            mapping: dg.PartitionMapping = dg.AllPartitionMapping()
        elif table.grain == grain.name:
            mapping = dg.IdentityPartitionMapping()
        else:
            mapping = dg.TimeWindowPartitionMapping()
        deps.append(dg.AssetDep(table.asset_key, partition_mapping=mapping))
    return deps


def period_starts_from_keys(keys: Sequence[str]) -> list[dt.date]:
    return sorted(dt.date.fromisoformat(k) for k in keys)
