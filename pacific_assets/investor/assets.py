"""The two rollup assets: ``investor_rollup`` (monthly) and ``executive_weekly`` (weekly).

Both run on Spark (resource ``pyspark``, a LazyPySparkResource: one session per step process) in
the ``spark`` pool, so at most one JVM runs at a time on a laptop. A run handles its whole
partition range in one pass. Each run writes, besides its own table:

- ``rollup_input_status``: the completeness record of every period it computed;
- the HTML pack of every period under ``<data_root>/reports/``;
- monthly only: published snapshots and ``investor_restatements`` (see publish.py).

The two tables are assets of their own (``ROLLUP_INPUT_STATUS``, ``INVESTOR_RESTATEMENTS``),
declared downstream of the rollups that write them and reported by those steps as they write:
a rollup computes both with its figures in one pass, so they are not steps of their own, and a
run of the rollup alone stays possible (docs/investor.md, "Assets and tables").
"""

import datetime as dt
import time

import dagster as dg
import polars as pl
from dagster_pyspark import LazyPySparkResource
from pydantic import Field

from pacific_assets.investor import checks, publish, report
from pacific_assets.investor.completeness import (
    STATUS_PARTITION_COL,
    STATUS_TABLE,
    InstanceFacts,
    rollup_key,
)
from pacific_assets.investor.inputs import (
    ENGAGEMENT_COMPLETENESS,
    MONTHLY,
    WEEKLY,
    Grain,
    deps_for,
    period_starts_from_keys,
    reads_for,
)
from pacific_assets.investor.rollup import RollupResult, compute_rollup
from pacific_assets.orchestration import clock, single_run_backfill
from pacific_assets.previews import markdown_table
from pacific_assets.resources import LakeResource
from pacific_assets.storage.lake import Lake


class RollupConfig(dg.Config):
    as_of: str | None = Field(
        default=None,
        description="Act as of this UTC date-time (ISO, e.g. 2025-12-01T06:00:00Z): which periods "
        "have ended and which days are due. Default: now.",
    )
    approve_restatement: bool = Field(
        default=False,
        description="Publish a new version of published months whose figures changed (after the "
        "restatement check named them and someone reviewed the cause).",
    )
    restatement_note: str = Field(default="", description="Why the restatement is approved.")
    tolerance_absolute: float = Field(default=0.01, description="Restatement tolerance, absolute.")
    tolerance_relative: float = Field(default=0.001, description="Restatement tolerance, relative.")

    def as_of_utc(self) -> dt.datetime:
        return clock.parse_instant(self.as_of) if self.as_of else clock.now()


def _facts(context: dg.AssetExecutionContext, lake: Lake) -> InstanceFacts:
    """Freshness and check results come from the instance and the asset graph: the code
    location's (daemon and UI runs), else the job's (in-process runs carry no repository)."""
    try:
        graph = context.repository_def.asset_graph
    except Exception:
        graph = context.job_def.asset_layer.asset_graph
    return InstanceFacts(context.instance, graph, lake)


def _history(lake: Lake, grain: Grain, current: pl.DataFrame) -> pl.DataFrame:
    """Company rows of earlier periods (from the lake) plus this run's, for the trend charts."""
    pc = grain.period_col
    mine = current.filter(pl.col("segment") == "all")
    old = lake.read(grain.asset)
    if old.height == 0:
        return mine
    old = old.filter((pl.col("segment") == "all") & ~pl.col(pc).is_in(mine[pc].implode()))
    return pl.concat([old.select(mine.columns), mine], how="vertical_relaxed").sort(pc)


def _incomplete_days(result: RollupResult, period: dt.date) -> list[str]:
    for v in result.verdicts:
        if v.period_start == period and v.table is ENGAGEMENT_COMPLETENESS:
            return sorted(v.incomplete)
    return []


def _render(
    grain: Grain,
    result: RollupResult,
    kpis: pl.DataFrame,
    history: pl.DataFrame,
    period: dt.date,
    now: dt.datetime,
) -> tuple[str, str]:
    company = kpis.filter((pl.col(grain.period_col) == period) & (pl.col("segment") == "all")).row(
        0, named=True
    )
    line = report.status_line(company)
    text = report.render_html(
        grain,
        period,
        kpis,
        history,
        result.engagement_daily,
        result.input_status,
        _incomplete_days(result, period),
        line,
        now,
    )
    return text, line


def _write_common(
    context: dg.AssetExecutionContext,
    lake: Lake,
    grain: Grain,
    result: RollupResult,
    kpis: pl.DataFrame,
    keys: list[str],
) -> None:
    lake.write_partitions(grain.asset, grain.period_col, keys, kpis)
    status_keys = [rollup_key(grain.asset, p) for p in result.periods]
    lake.write_partitions(STATUS_TABLE, STATUS_PARTITION_COL, status_keys, result.input_status)
    context.log_event(
        dg.AssetMaterialization(
            asset_key=STATUS_TABLE,
            description=f"completeness record of {grain.asset} for {len(status_keys)} period(s)",
            metadata={
                "rollup": grain.asset,
                "lake_partitions": dg.MetadataValue.json(sorted(status_keys)),
                "rows_written": result.input_status.height,
            },
        )
    )


def _metadata(
    grain: Grain,
    kpis: pl.DataFrame,
    result: RollupResult,
    previews: dict[dt.date, str],
    paths: dict[dt.date, str],
    spark_seconds: float,
) -> dict[str, object]:
    periods = sorted(result.periods)
    latest = periods[-1]
    summary = [
        (
            p.isoformat(),
            kpis.filter((pl.col(grain.period_col) == p) & (pl.col("segment") == "all"))[
                "publication_status"
            ][0],
            "yes"
            if result.periods[p].is_complete
            else f"no — {result.periods[p].incomplete_inputs}",
        )
        for p in periods
    ]
    return {
        "dagster/row_count": kpis.height,
        "partitions": f"{periods[0]}..{periods[-1]} ({len(periods)})",
        "periods_complete": sum(v.is_complete for v in result.periods.values()),
        "periods_incomplete": [
            p.isoformat() for p, v in result.periods.items() if not v.is_complete
        ],
        "spark_seconds": round(spark_seconds, 2),
        "periods": dg.MetadataValue.md(
            markdown_table(["period", "status", "inputs complete"], summary, limit=60)
        ),
        "preview": dg.MetadataValue.md(previews[latest]),
        "report": dg.MetadataValue.path(paths[latest]),
    }


def _run(
    context: dg.AssetExecutionContext,
    grain: Grain,
    config: RollupConfig,
    lake_res: LakeResource,
    spark,
) -> tuple[RollupResult, dt.datetime, float]:
    periods = period_starts_from_keys(context.partition_keys)
    as_of = config.as_of_utc()
    started = time.monotonic()
    result = compute_rollup(
        spark, lake_res.lake, grain, periods, as_of=as_of, facts=_facts(context, lake_res.lake)
    )
    seconds = time.monotonic() - started
    context.log.info(
        f"{grain.asset}: {len(periods)} period(s) in {seconds:.1f} s; "
        f"complete: {sum(v.is_complete for v in result.periods.values())}"
    )
    return result, as_of, seconds


@dg.asset(
    name=MONTHLY.asset,
    group_name="investor",
    partitions_def=MONTHLY.partitions_def,
    backfill_policy=single_run_backfill,
    deps=deps_for(MONTHLY),
    metadata=reads_for(MONTHLY),
    check_specs=checks.check_specs(MONTHLY),
    pool="spark",
    kinds={"spark", "parquet"},
    tags={"pacific/published": "true"},
)
def investor_rollup(
    context: dg.AssetExecutionContext,
    config: RollupConfig,
    lake: LakeResource,
    pyspark: LazyPySparkResource,
) -> dg.MaterializeResult:
    """The monthly investor pack, per month and segment (smb, mid_market, enterprise, all):
    MRR, ARR, net new MRR by movement, NRR, GRR, logo churn, ARPA, active users, DAU/MAU, hours
    per active user per day, profit and unit profit. Every ratio is a number or null with a
    ``<ratio>_null_reason``. A month is published (immutable snapshot under
    ``published/investor_rollup/month=YYYY-MM/v=<n>``) when a run after month end finds every input
    complete; later changes to published figures raise the restatement check. Definitions:
    docs/investor.md."""
    data = lake.for_asset(context)
    result, as_of, seconds = _run(context, MONTHLY, config, lake, pyspark.spark_session)
    tolerance = publish.Tolerance(config.tolerance_absolute, config.tolerance_relative)
    now = clock.now()
    history = _history(data, MONTHLY, result.kpis)
    pending: list[publish.Restatement] = []
    approved: list[publish.Restatement] = []
    restatement_frames = []
    out_frames, previews, paths = [], {}, {}
    for month in sorted(result.periods):
        rows = result.kpis.filter(pl.col("month_start") == month)
        verdict = result.periods[month]
        ended = MONTHLY.period_end(month) <= as_of.date()
        snapshot = publish.latest_snapshot(data, month)
        fingerprint = publish.input_fingerprint(data, MONTHLY, month, as_of.date())
        to_publish, restated, status, version = False, [], None, None
        if snapshot is not None:
            cause = publish.restatement_cause(
                snapshot.manifest.get("inputs", {}),
                fingerprint,
                snapshot.manifest.get("published_at", "?"),
            )
            restated = publish.compare(snapshot, rows, cause, tolerance)
            if not restated:
                status, version = "published", snapshot.version
            elif config.approve_restatement and ended and verdict.is_complete:
                status, version, to_publish = "published", snapshot.version + 1, True
                approved.extend(restated)
            else:
                status, version = "restatement_pending", snapshot.version
                pending.extend(restated)
        elif ended and verdict.is_complete:
            status, version, to_publish = "published", 1, True
        if status is not None:
            rows = rows.with_columns(
                pl.lit(status).alias("publication_status"),
                pl.lit(version, pl.Int64).alias("published_version"),
            )
        html, line = _render(MONTHLY, result, rows, history, month, now)
        if to_publish:
            publish.publish(
                data,
                month,
                rows,
                result.input_status.filter(pl.col("period_start") == month),
                html,
                {
                    "published_at": now.isoformat(),
                    "as_of": as_of.isoformat(),
                    "run_id": context.run.run_id,
                    "inputs": fingerprint,
                    "tolerance": {"absolute": tolerance.absolute, "relative": tolerance.relative},
                    "restatement_note": config.restatement_note if version and version > 1 else "",
                    "restated": [r.describe() for r in restated] if version and version > 1 else [],
                },
            )
            context.log.info(f"published investor_rollup {month:%Y-%m} as v={version}")
        restatement_frames.append(
            publish.restatement_frame(
                month, restated, "approved" if to_publish else "pending", context.run.run_id, now
            )
        )
        paths[month] = str(report.write_report(report.report_path(data, MONTHLY, month), html))
        previews[month] = report.markdown_preview(
            MONTHLY, month, rows, line, report.report_path(data, MONTHLY, month)
        )
        out_frames.append(rows)

    kpis = pl.concat(out_frames) if out_frames else result.kpis
    keys = [m.isoformat() for m in sorted(result.periods)]
    _write_common(context, data, MONTHLY, result, kpis, keys)
    restatements = pl.concat(restatement_frames)
    data.write_partitions(publish.RESTATEMENTS_TABLE, "month_start", keys, restatements)
    for key in keys:
        context.log_event(
            dg.AssetMaterialization(
                asset_key=publish.RESTATEMENTS_TABLE,
                partition=key,
                metadata={
                    "dagster/row_count": restatements.filter(
                        pl.col("month_start") == dt.date.fromisoformat(key)
                    ).height
                },
            )
        )

    metadata = _metadata(MONTHLY, kpis, result, previews, paths, seconds)
    metadata["published"] = [
        f"{r['month_start']:%Y-%m} v{r['published_version']}"
        for r in kpis.filter(
            (pl.col("segment") == "all") & (pl.col("publication_status") == "published")
        ).iter_rows(named=True)
    ]
    metadata["restatements_pending"] = len(pending)
    return dg.MaterializeResult(
        metadata=metadata,
        check_results=[
            checks.inputs_not_stale_or_incomplete(result, as_of.date()),
            checks.no_nan_or_unexplained_null(kpis),
            checks.mrr_bridge_balances(result),
            checks.movements_match_growth(result),
            checks.no_unapproved_restatement(pending, approved),
        ],
    )


@dg.asset(
    name=WEEKLY.asset,
    group_name="investor",
    partitions_def=WEEKLY.partitions_def,
    backfill_policy=single_run_backfill,
    deps=deps_for(WEEKLY),
    metadata=reads_for(WEEKLY),
    check_specs=checks.check_specs(WEEKLY),
    pool="spark",
    kinds={"spark", "parquet"},
)
def executive_weekly(
    context: dg.AssetExecutionContext,
    config: RollupConfig,
    lake: LakeResource,
    pyspark: LazyPySparkResource,
) -> dg.MaterializeResult:
    """The weekly pack for executives and the CFO, per Monday week and segment: MRR, ARR, MRR
    movements over the week, NRR/GRR over the week, logo churn, ARPA, active users (WAU),
    DAU/WAU, hours per active user per day, and the growth pipeline's account counts (new,
    churned, renewed, renewing, imputed). Same completeness record and null-with-reason rules as
    the investor rollup; weekly packs are not published snapshots. Definitions: docs/investor.md."""
    data = lake.for_asset(context)
    result, as_of, seconds = _run(context, WEEKLY, config, lake, pyspark.spark_session)
    now = clock.now()
    history = _history(data, WEEKLY, result.kpis)
    previews, paths = {}, {}
    for week in sorted(result.periods):
        html, line = _render(WEEKLY, result, result.kpis, history, week, now)
        paths[week] = str(report.write_report(report.report_path(data, WEEKLY, week), html))
        previews[week] = report.markdown_preview(
            WEEKLY, week, result.kpis, line, report.report_path(data, WEEKLY, week)
        )
    keys = [w.isoformat() for w in sorted(result.periods)]
    _write_common(context, data, WEEKLY, result, result.kpis, keys)
    return dg.MaterializeResult(
        metadata=_metadata(WEEKLY, result.kpis, result, previews, paths, seconds),
        check_results=[
            checks.inputs_not_stale_or_incomplete(result, as_of.date()),
            checks.no_nan_or_unexplained_null(result.kpis),
            checks.mrr_bridge_balances(result),
            checks.movements_match_growth(result),
        ],
    )


#: The rollups' completeness records: written by both rollups' steps as they run.
ROLLUP_INPUT_STATUS = dg.AssetSpec(
    key=STATUS_TABLE,
    group_name="investor",
    deps=[investor_rollup, executive_weekly],
    kinds={"parquet"},
    description="The completeness record of the investor rollups: one row per rollup × period × "
    "input (present, fresh, complete, checked), partitioned by `rollup_key` = "
    "`<rollup>__<period start>`. Written by every run of `investor_rollup` and "
    "`executive_weekly` for the periods it computed (reported as they write it). Columns and "
    "rules: docs/investor.md.",
)

#: Published figures the latest run would change: written by the monthly rollup's step.
INVESTOR_RESTATEMENTS = dg.AssetSpec(
    key=publish.RESTATEMENTS_TABLE,
    group_name="investor",
    deps=[investor_rollup],
    partitions_def=MONTHLY.partitions_def,
    kinds={"parquet"},
    description="Published investor figures that the latest run of the month would change, "
    "beyond the tolerance (pending, or approved and published as a new version); rewritten by "
    "every `investor_rollup` run of the month (empty: nothing published changes). The check "
    "`no_unapproved_restatement` fails while any is pending. Columns: docs/investor.md.",
)
