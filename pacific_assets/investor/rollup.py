"""The rollup computation: Spark joins the pre-aggregated inputs, pure functions finish the KPIs.

Shape of one run (any number of periods in one pass, docs/ARCHITECTURE.md "Execution": range runs):

1. assess the inputs of every period (completeness record, no Spark);
2. Spark reads the lake's live Parquet files of exactly the partitions needed, registers them as
   views and runs the SQL next to this file: per-account period balances and movements, then
   aggregates per (period, segment) with the small account → segment dimension broadcast;
3. the results (a few rows per period) are collected through Arrow and finished on the driver
   with the pure KPI functions in ``kpis.py`` (every ratio: value or null + reason).

``compute_rollup`` takes an existing SparkSession, so tests share one and Dagster passes the
session of its ``pyspark`` resource.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from pacific_assets.figures import Figure
from pacific_assets.investor import columns as output
from pacific_assets.investor import kpis
from pacific_assets.investor.completeness import (
    DagsterFacts,
    InputVerdict,
    PeriodVerdict,
    assess,
    period_verdicts,
    status_frame,
)
from pacific_assets.investor.inputs import (
    ACCOUNT_STATUS_DAILY,
    ACCOUNT_UNIT_ECONOMICS,
    ENGAGEMENT_HOURS,
    GROWTH_MRR_COLUMNS,
    STG_ACCOUNTS,
    UNIT_PROFIT,
    USER_ENGAGEMENT_DAILY,
    Grain,
    InputTable,
    required_keys,
)
from pacific_assets.investor.spark import apply_runtime_settings, read_input
from pacific_assets.storage.duck import sql_text
from pacific_assets.storage.lake import Lake

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

#: The Spark SQL of each step, next to this module.
SQL_DIR = Path(__file__).parent / "sql"

#: Output columns shared by both grains, in order (the period column and segment come first);
#: declared with their meanings in investor/columns.py.
MRR_COLUMNS = dict(output.MRR_TYPES)
PROFIT_COLUMNS = dict(output.PROFIT_TYPES)
GROWTH_COLUMNS = dict(output.GROWTH_TYPES)
STATUS_COLUMNS = dict(output.STATUS_TYPES)


def output_schema(grain: Grain) -> pl.Schema:
    """The columns ``grain``'s table is written with (its declaration)."""
    return output.ROLLUP_TABLES[grain.asset].polars()


@dataclass
class RollupResult:
    grain: Grain
    kpis: pl.DataFrame
    input_status: pl.DataFrame
    verdicts: list[InputVerdict]
    periods: dict[dt.date, PeriodVerdict]
    #: Company engagement per day (chart series): period_start, date, total_hours, active_users,
    #: daily_active_licensed_users.
    engagement_daily: pl.DataFrame
    #: The growth pipeline's own MRR movements per period (cross-check of the rollup's).
    growth_movements: pl.DataFrame


def _collect(df: DataFrame) -> pl.DataFrame:
    """A small Spark result into polars through Arrow (exact types, no pandas, no time zones)."""
    return pl.from_arrow(df.toArrow())  # type: ignore[return-value]


def _candidate_keys(
    table: InputTable, grain: Grain, periods: Sequence[dt.date], today: dt.date
) -> list[str]:
    keys: set[str] = set()
    for p in periods:
        keys.update(required_keys(table, grain, p, today)[0])
    return sorted(keys)


def compute_rollup(
    spark: SparkSession,
    lake: Lake,
    grain: Grain,
    period_starts: Sequence[dt.date],
    *,
    as_of: dt.datetime,
    facts: DagsterFacts | None = None,
) -> RollupResult:
    """KPIs per (period, segment) for ``period_starts`` of ``grain``, plus the completeness record.

    ``as_of`` decides which periods have ended and which days are due (days before ``as_of``'s
    date); ``facts`` adds freshness and check results from Dagster (None outside Dagster).
    """
    apply_runtime_settings(spark)
    periods = sorted(set(period_starts))
    today = as_of.date()
    verdicts = assess(lake, grain, periods, as_of, facts)
    by_period = period_verdicts(verdicts)
    # (start, exclusive end, days observed so far) per period
    period_rows = [
        (p, grain.period_end(p), max(0, (min(grain.period_end(p), today) - p).days))
        for p in periods
    ]
    _register_inputs(spark, lake, grain, period_rows, today)
    aggregates, daily, growth, unit_profit = _aggregate(spark, lake, grain, periods)
    kpi_frame = _finish(
        grain,
        period_rows,
        today,
        aggregates,
        unit_profit,
        growth,
        _available(lake, grain, periods, today),
        by_period,
    )
    return RollupResult(
        grain=grain,
        kpis=kpi_frame,
        input_status=status_frame(verdicts, as_of),
        verdicts=verdicts,
        periods=by_period,
        engagement_daily=daily.sort("period_start", "date") if daily.height else daily,
        growth_movements=growth.select(
            ["period_start", *[c for c in GROWTH_MRR_COLUMNS if c in growth.columns]]
        ),
    )


def _available(
    lake: Lake, grain: Grain, periods: Sequence[dt.date], today: dt.date
) -> dict[tuple[dt.date, str], bool]:
    """Whether each input has any partition for each period (none at all -> null KPIs)."""
    live = {t.table: set(lake.partition_keys(t.table)) for t in grain.inputs}
    return {
        (p, t.table): t.grain == "dimension"
        or bool(set(required_keys(t, grain, p, today)[0]) & live[t.table])
        for p in periods
        for t in grain.inputs
    }


def _register_inputs(
    spark: SparkSession,
    lake: Lake,
    grain: Grain,
    period_rows: list[tuple[dt.date, dt.date, int]],
    today: dt.date,
) -> None:
    """Temp views the SQL reads: the periods, and the lake files of exactly the needed keys."""
    spark.createDataFrame(
        [(p, end, n, p + dt.timedelta(days=n - 1)) for p, end, n in period_rows],
        "period_start DATE, period_end DATE, days_observed INT, last_day DATE",
    ).createOrReplaceTempView("periods")
    periods = [p for p, _, _ in period_rows]
    period_keys = [p.isoformat() for p in periods]
    views: list[tuple[InputTable, str, Sequence[str] | None]] = [
        (STG_ACCOUNTS, "stg_accounts", None),  # a change feed: every export up to now
        (ACCOUNT_STATUS_DAILY, "status_daily", None),
        (ENGAGEMENT_HOURS, "engagement_hours", None),
        (USER_ENGAGEMENT_DAILY, "user_daily", None),
        (
            ACCOUNT_UNIT_ECONOMICS,
            "account_unit_economics",
            period_keys if grain.with_profit else [],
        ),
    ]
    for table, name, keys in views:
        if keys is None and table.grain == "daily":
            keys = _candidate_keys(table, grain, periods, today)
        read_input(spark, lake, table, keys).createOrReplaceTempView(name)


def _aggregate(
    spark: SparkSession, lake: Lake, grain: Grain, periods: Sequence[dt.date]
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Run the SQL steps; collect the per-(period, segment) aggregates, the daily series, and
    the period rows of the growth table and (monthly) unit_profit."""
    from pyspark import StorageLevel

    period_keys = [p.isoformat() for p in periods]
    segments = spark.sql(sql_text(SQL_DIR, "segments")).cache()  # small, read by four queries
    per_user = None
    try:
        segments.createOrReplaceTempView("segments")
        spark.sql(sql_text(SQL_DIR, "active_licensed_users")).createOrReplaceTempView(
            "active_licensed_users"
        )
        per_user = spark.sql(sql_text(SQL_DIR, "active_users_per_user")).persist(
            StorageLevel.MEMORY_AND_DISK
        )
        per_user.createOrReplaceTempView("active_users_per_user")
        spark.sql(sql_text(SQL_DIR, "account_periods")).createOrReplaceTempView("account_periods")
        by_segment = [
            _collect(spark.sql(sql_text(SQL_DIR, name)))
            for name in (
                "mrr_by_segment",
                "engagement_by_segment",
                "active_users_by_segment",
                "profit_by_segment",
            )
        ]
        daily = _collect(spark.sql(sql_text(SQL_DIR, "engagement_daily")))
        growth = _collect(
            read_input(spark, lake, grain.growth, period_keys).withColumnRenamed(
                grain.period_col, "period_start"
            )
        )
        unit_profit = (
            _collect(
                read_input(spark, lake, UNIT_PROFIT, period_keys).withColumnRenamed(
                    "month_start", "period_start"
                )
            )
            if grain.with_profit
            else pl.DataFrame()
        )
    finally:
        segments.unpersist()
        if per_user is not None:
            per_user.unpersist()
    return _join_aggregates(by_segment), daily, growth, unit_profit


def _join_aggregates(frames: list[pl.DataFrame]) -> pl.DataFrame:
    """The per-(period, segment) results side by side (a handful of rows each)."""
    keys = ["period_start", "segment"]
    out = frames[0]
    for df in frames[1:]:
        out = out.join(df, on=keys, how="full", coalesce=True)
    return out


def _index(df: pl.DataFrame | None) -> dict[tuple[dt.date, str], dict[str, Any]]:
    if df is None or df.height == 0:
        return {}
    return {(r["period_start"], r["segment"]): r for r in df.iter_rows(named=True)}


def _finish(
    grain: Grain,
    period_rows: list[tuple[dt.date, dt.date, int]],
    today: dt.date,
    aggregates: pl.DataFrame,
    unit_profit_rows: pl.DataFrame,
    growth: pl.DataFrame,
    available: dict[tuple[dt.date, str], bool],
    by_period: dict[dt.date, PeriodVerdict],
) -> pl.DataFrame:
    """Compute every KPI with the pure functions from the per-(period, segment) aggregates."""
    idx = _index(aggregates)
    growth_by_period = {r["period_start"]: r for r in growth.iter_rows(named=True)}
    unit_profit = {r["period_start"]: r for r in unit_profit_rows.iter_rows(named=True)}
    rows = []
    for period, period_end, days_observed in period_rows:
        segs = {seg for (p, seg) in idx if p == period} | {"all"}
        ended = period_end <= today
        verdict = by_period[period]
        for seg in sorted(segs, key=lambda s: (s != "all", s)):
            row: dict[str, Any] = {grain.period_col: period, "segment": seg}
            agg = idx.get((period, seg))
            row.update(_mrr_kpis(agg, available[(period, ACCOUNT_STATUS_DAILY.table)]))
            row.update(
                _engagement_kpis(
                    grain,
                    agg,
                    days_observed,
                    available[(period, ENGAGEMENT_HOURS.table)],
                    available[(period, USER_ENGAGEMENT_DAILY.table)],
                )
            )
            if grain.with_profit:
                row.update(
                    _profit_kpis(
                        seg,
                        unit_profit.get(period) if available[(period, UNIT_PROFIT.table)] else None,
                        agg,
                        available[(period, ACCOUNT_UNIT_ECONOMICS.table)],
                        row.get("paying_accounts"),
                    )
                )
            g = growth_by_period.get(period) if seg == "all" else None
            for col in GROWTH_COLUMNS:
                row[col] = g.get(col) if g else None
            row["days_observed"] = days_observed
            row["is_complete"] = verdict.is_complete
            row["incomplete_inputs"] = verdict.incomplete_inputs
            row["incomplete_reason"] = verdict.incomplete_reason
            if not ended:
                row["publication_status"] = "open_period"
            else:
                row["publication_status"] = "complete" if verdict.is_complete else "incomplete"
            row["published_version"] = None
            rows.append(row)
    schema = output_schema(grain)
    if not rows:
        return schema.to_frame()
    return pl.DataFrame(rows, schema=schema, orient="row")


def _put(row: dict[str, Any], name: str, kpi: Figure) -> None:
    """A ratio and its reason column."""
    row[name] = kpi.value
    row[f"{name}_null_reason"] = kpi.null_reason


def _mrr_kpis(agg: dict[str, Any] | None, available: bool) -> dict[str, Any]:
    """MRR level, bridge and retention; nothing in the period for the segment counts as zero."""
    out: dict[str, Any] = {}
    sums = (
        "mrr_usd",
        "starting_mrr_usd",
        "new_mrr_usd",
        "expansion_mrr_usd",
        "contraction_mrr_usd",
        "churned_mrr_usd",
        "reactivation_mrr_usd",
        "net_new_mrr_usd",
    )
    counts = ("starting_paying_accounts", "paying_accounts", "churned_paying_accounts")
    agg = agg or {}
    for c in sums:
        out[c] = float(agg.get(c) or 0.0) if available else None
    for c in counts:
        out[c] = int(agg.get(c) or 0) if available else None
    if not available:
        miss = Figure.null(f"input_missing:{ACCOUNT_STATUS_DAILY.table}")
        out["arr_usd"] = None
        for name in ("nrr", "grr", "logo_churn_rate", "arpa_usd"):
            _put(out, name, miss)
        return out
    cohort_start = float(agg.get("cohort_starting_mrr_usd") or 0.0)
    out["arr_usd"] = kpis.annual_run_rate(out["mrr_usd"]).value
    _put(out, "nrr", kpis.net_revenue_retention(cohort_start, agg.get("retained_mrr_usd") or 0.0))
    _put(
        out,
        "grr",
        kpis.gross_revenue_retention(cohort_start, agg.get("retained_capped_mrr_usd") or 0.0),
    )
    _put(
        out,
        "logo_churn_rate",
        kpis.logo_churn_rate(out["starting_paying_accounts"], out["churned_paying_accounts"]),
    )
    _put(out, "arpa_usd", kpis.average_revenue_per_account(out["mrr_usd"], out["paying_accounts"]))
    return out


def _engagement_kpis(
    grain: Grain,
    agg: dict[str, Any] | None,
    days_observed: int,
    hours_available: bool,
    users_available: bool,
) -> dict[str, Any]:
    """Active users and stickiness (user-level input), hours per active user per day."""
    out: dict[str, Any] = {}
    sticky = grain.stickiness_col
    users = hours = agg or {}
    if users_available:
        out["active_users"] = int(users.get("active_users") or 0)
        user_days = int(users.get("licensed_active_user_days") or 0)
        avg_dau = kpis.safe_ratio(user_days, days_observed, zero_reason="no_days_observed")
        _put(out, "avg_daily_active_users", avg_dau)
        if avg_dau.value is None:
            _put(out, sticky, avg_dau)
        else:
            _put(out, sticky, kpis.dau_over_period_active(avg_dau.value, out["active_users"]))
    else:
        miss = Figure.null(f"input_missing:{USER_ENGAGEMENT_DAILY.table}")
        out["active_users"] = None
        _put(out, "avg_daily_active_users", miss)
        _put(out, sticky, miss)
    if hours_available:
        out["total_hours"] = float(hours.get("total_hours") or 0.0)
        for c in ("active_user_days", "sessions", "events", "late_events"):
            out[c] = int(hours.get(c) or 0)
        _put(
            out,
            "hours_per_active_user_per_day",
            kpis.hours_per_active_user_per_day(out["total_hours"], out["active_user_days"]),
        )
    else:
        for c in ("total_hours", "active_user_days", "sessions", "events", "late_events"):
            out[c] = None
        _put(
            out,
            "hours_per_active_user_per_day",
            Figure.null(f"input_missing:{ENGAGEMENT_HOURS.table}"),
        )
    return out


def _profit_kpis(
    segment: str,
    company: dict[str, Any] | None,
    by_segment: dict[str, Any] | None,
    ue_available: bool,
    paying_accounts: int | None,
) -> dict[str, Any]:
    """Company profit from unit_profit ('all' row); per segment, contribution margin only."""
    out: dict[str, Any] = {c: None for c in PROFIT_COLUMNS}
    if segment == "all":
        if company is None:
            miss = Figure.null(f"input_missing:{UNIT_PROFIT.table}")
            _put(out, "profit_per_subscriber_usd", miss)
            _put(out, "profit_per_seat_usd", miss)
        else:
            for c in (
                "recognized_revenue_usd",
                "cash_collected_usd",
                "total_expenses_usd",
                "profit_usd",
                "paying_subscribers",
                "licensed_seats",
            ):
                out[c] = company.get(c)
            _put(
                out,
                "profit_per_subscriber_usd",
                kpis.profit_per_subscriber(out["profit_usd"], out["paying_subscribers"]),
            )
            _put(
                out,
                "profit_per_seat_usd",
                kpis.profit_per_seat(out["profit_usd"], out["licensed_seats"]),
            )
    else:
        not_allocated = Figure.null("company_level_only")
        _put(out, "profit_per_subscriber_usd", not_allocated)
        _put(out, "profit_per_seat_usd", not_allocated)
    if not ue_available:
        _put(
            out,
            "contribution_margin_per_account_usd",
            Figure.null(f"input_missing:{ACCOUNT_UNIT_ECONOMICS.table}"),
        )
        return out
    by_segment = by_segment or {}
    if segment != "all":
        out["recognized_revenue_usd"] = float(
            by_segment.get("segment_recognized_revenue_usd") or 0.0
        )
    out["direct_cost_usd"] = float(by_segment.get("direct_cost_usd") or 0.0)
    out["contribution_margin_usd"] = float(by_segment.get("contribution_margin_usd") or 0.0)
    _put(
        out,
        "contribution_margin_per_account_usd",
        kpis.contribution_margin_per_account(out["contribution_margin_usd"], paying_accounts),
    )
    return out
