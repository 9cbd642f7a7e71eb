"""`ab_unit_daily`: the A/B unit-level table the data-science team analyses experiments from.

One row per experiment × unit × day, from the unit's assignment day on while the experiment runs.
A unit is an account or a user, as the registry says. Rows carry the variant, when the unit was
assigned, and its engagement that day (and revenue for account units). The unit's pre-period
covariates (its metrics over the 14 days before its assignment day, for CUPED) are a fact of the
unit, not of its days: they live in ``ab_unit_covariates`` (experiments/covariates.py), as
warehouse-native experiment tools keep assignment-time covariates apart from daily metrics.

Why the dependencies look the way they do:
- ``user_engagement_daily`` and ``recognized_revenue_daily`` map day to day (rule ``window``): a
  late click for day D rebuilds day D here, and nothing else (docs/experiments.md, "Late data").
  A day whose engagement or revenue was never built is written with nulls and the reason
  (``pacific/builds_without``), and rebuilt when that day arrives.
- Assignments are cumulative (first exposure wins over everything assigned so far), so day d
  reads every assignment export up to d (``through``); the directory likewise.
"""

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl

from pacific_assets.experiments.columns import AB_UNIT_DAILY
from pacific_assets.experiments.inputs import (
    ASSIGNMENT_COLUMNS,
    DIRECTORY_COLUMNS,
    REVENUE_COLUMNS,
    USER_ENGAGEMENT_COLUMNS,
    covered_days,
    date_table,
    open_table,
)
from pacific_assets.experiments.pseudonymize import KEY_ENV, PseudonymizerResource
from pacific_assets.experiments.registry import REGISTRY_TABLE, load_registry
from pacific_assets.orchestration import (
    Read,
    builds_without_metadata,
    daily,
    reads_metadata,
    single_run_backfill,
)
from pacific_assets.previews import markdown_frame
from pacific_assets.resources import LakeResource
from pacific_assets.storage.duck import conform, run_sql
from pacific_assets.storage.lake import Lake

TABLE = "ab_unit_daily"
ENGAGEMENT_TABLE = "user_engagement_daily"
REVENUE_TABLE = "recognized_revenue_daily"
ASSIGNMENTS_TABLE = "stg_experiment_assignments"
DIRECTORY_TABLE = "stg_directory_users"
PRE_PERIOD_DAYS = 14
#: Days built per SQL pass: bounds memory on a year-long backfill (one run, a few passes;
#: single-run backfills also make `dagster asset materialize --partition-range` work).
CHUNK_DAYS = 31

SQL_DIR = Path(__file__).parent / "sql"

UTC_TS = pl.Datetime("us", "UTC")
#: The table's columns, in order (declared with their meanings in experiments/columns.py).
SCHEMA = dict(AB_UNIT_DAILY.polars())

#: What day d reads (lineage, docs/experiments.md): engagement and revenue of day d itself, the
#: assignments and the directory up to d; the registry whole. Days without engagement or revenue
#: are written with nulls and their reason.
READS = {
    **reads_metadata(
        Read(ENGAGEMENT_TABLE, "window"),
        Read(REVENUE_TABLE, "window"),
        Read(ASSIGNMENTS_TABLE, "through"),
        Read(DIRECTORY_TABLE, "through"),
        Read(REGISTRY_TABLE, "all"),
    ),
    **builds_without_metadata(ENGAGEMENT_TABLE, REVENUE_TABLE),
}

CHECK_UNITS_ASSIGNED_ONCE = "units_assigned_once"
CHECK_ASSIGNMENTS_MATCH_REGISTRY = "assignments_match_registry"
CHECK_REGISTRY_VALID = "registry_valid"
CHECK_ONE_ROW_PER_UNIT_DAY = "one_row_per_unit_day"
CHECK_PSEUDONYM_KEY = "pseudonymization_key_configured"

CHECK_SPECS = [
    dg.AssetCheckSpec(
        CHECK_UNITS_ASSIGNED_ONCE,
        asset=TABLE,
        description=(
            "Runbook common issue: a unit assigned more than once in an experiment. First exposure "
            "wins (the earliest assignment; later ones are ignored), and the units are counted "
            "here — conflicting variants mean the unit may have seen both arms; tell the "
            "experiment owner. Exact re-exports of the same assignment are counted as duplicate "
            "rows and do not fail the check."
        ),
    ),
    dg.AssetCheckSpec(
        CHECK_ASSIGNMENTS_MATCH_REGISTRY,
        asset=TABLE,
        description=(
            "Assignment rows that name an experiment, variant or unit type the registry does not "
            "know, or fall outside the experiment's dates, are left out of the table; the counts "
            "by reason are here."
        ),
    ),
    dg.AssetCheckSpec(
        CHECK_REGISTRY_VALID,
        asset=TABLE,
        description=(
            "Registry rows that cannot be used (weights not one positive number per variant, "
            "duplicate experiment id, end before start) are left out, with the reason."
        ),
    ),
    dg.AssetCheckSpec(
        CHECK_ONE_ROW_PER_UNIT_DAY,
        asset=TABLE,
        description="Exactly one row per experiment × unit × day in the partitions written.",
    ),
    dg.AssetCheckSpec(
        CHECK_PSEUDONYM_KEY,
        asset=TABLE,
        description=(
            f"User ids are pseudonymized with HMAC-SHA256 under the key in {KEY_ENV}. Fails "
            "(warning) when the public demo key is in use: fine for simulated data only."
        ),
    ),
]


def _day_keys(start: dt.date, end: dt.date) -> list[str]:
    return [(start + dt.timedelta(days=i)).isoformat() for i in range((end - start).days)]


@dataclass
class BuildSummary:
    """What a build wrote, for the run's metadata and checks (the rows themselves are in the lake)."""

    rows: int = 0
    duplicate_rows: int = 0
    #: experiment_id, variant, units, unit_days over the days built
    units: pl.DataFrame = field(default_factory=pl.DataFrame)
    preview: pl.DataFrame = field(default_factory=pl.DataFrame)
    registry_problems: list[dict[str, str]] = field(default_factory=list)
    invalid_assignments: dict[str, int] = field(default_factory=dict)
    reassignments: pl.DataFrame = field(default_factory=pl.DataFrame)
    engagement_days_missing: list[str] = field(default_factory=list)


def open_unit_inputs(
    con: duckdb.DuckDBPyConnection,
    lake: Lake,
    pseudonymizer: PseudonymizerResource,
    end: dt.date,
    registry: pl.DataFrame,
) -> None:
    """The inputs both unit tables start from, as temp tables of ``con``: the registry, the days
    engagement and revenue have a partition for, the first exposure of every unit assigned
    before ``end`` (``first_exposure.sql``), its pseudonym, and the revenue view."""
    con.register("registry", registry)
    con.register("engagement_days", date_table(covered_days(lake, ENGAGEMENT_TABLE)))
    con.register("revenue_days", date_table(covered_days(lake, REVENUE_TABLE)))
    con.execute("SET VARIABLE range_end = CAST(? AS DATE)", [end])
    open_table(con, lake, ASSIGNMENTS_TABLE, ASSIGNMENT_COLUMNS)
    open_table(con, lake, DIRECTORY_TABLE, DIRECTORY_COLUMNS)
    open_table(con, lake, REVENUE_TABLE, REVENUE_COLUMNS)
    run_sql(con, SQL_DIR, "first_exposure")
    user_ids = [
        r[0]
        for r in con.execute(
            "SELECT DISTINCT unit_id FROM first_exposure WHERE unit_type = 'user'"
        ).fetchall()
    ]
    con.register("pseudonyms", pseudonymizer.pseudonym_table(user_ids))


def unit_metrics(con: duckdb.DuckDBPyConnection, lake: Lake, first: dt.date, end: dt.date) -> None:
    """Engagement and revenue per unit in ``units_in_scope`` and day in ``[first, end)``
    (``unit_engagement.sql``), reading only those days of user_engagement_daily."""
    open_table(con, lake, ENGAGEMENT_TABLE, USER_ENGAGEMENT_COLUMNS, keys=_day_keys(first, end))
    con.execute("SET VARIABLE metrics_from = CAST(? AS DATE)", [first])
    con.execute("SET VARIABLE metrics_to = CAST(? AS DATE)", [end])
    run_sql(con, SQL_DIR, "unit_engagement")


def build_ab_unit_daily(
    lake_resource: LakeResource,
    pseudonymizer: PseudonymizerResource,
    start: dt.date,
    end: dt.date,
    log=None,
    store: Lake | None = None,
) -> BuildSummary:
    """Build and write ``ab_unit_daily`` for the days in ``[start, end)``, 31 days per SQL pass.

    Each pass writes its days to the lake before the next starts, so memory stays bounded by one
    chunk however long the range. Separate from the asset so tests and notebooks can call it.
    ``store``: the lake to write to (the asset passes its lineage-recording lake).
    """
    lake = store or lake_resource.lake
    registry = load_registry(lake)
    summary = BuildSummary(registry_problems=registry.problems)
    unit_days: list[pl.DataFrame] = []
    with lake_resource.duckdb() as con:
        open_unit_inputs(con, lake, pseudonymizer, end, registry.experiments)
        engagement_days = [r[0] for r in con.execute("SELECT date FROM engagement_days").fetchall()]
        chunk_start = start
        while chunk_start < end:
            chunk_end = min(chunk_start + dt.timedelta(days=CHUNK_DAYS), end)
            con.execute("SET VARIABLE chunk_start = CAST(? AS DATE)", [chunk_start])
            con.execute("SET VARIABLE chunk_end = CAST(? AS DATE)", [chunk_end])
            run_sql(con, SQL_DIR, "unit_days")
            chunk_keys = _day_keys(chunk_start, chunk_end)
            unit_metrics(con, lake, chunk_start, chunk_end)
            run_sql(con, SQL_DIR, "ab_unit_daily")
            chunk = conform(
                con.execute("SELECT * FROM ab_unit_daily_chunk").pl(), pl.Schema(SCHEMA)
            ).sort("date", "experiment_id", "unit_id")
            lake.write_partitions(TABLE, "date", chunk_keys, chunk)
            summary.rows += chunk.height
            summary.duplicate_rows += (
                chunk.height - chunk.select("date", "experiment_id", "unit_id").n_unique()
                if chunk.height
                else 0
            )
            unit_days.append(
                chunk.group_by("experiment_id", "variant", "unit_id").agg(pl.len().alias("days"))
            )
            if summary.preview.is_empty():
                summary.preview = chunk.head(10)
            if log:
                log.info(f"{TABLE}: {chunk_keys[0]}..{chunk_keys[-1]} -> {chunk.height} rows")
            chunk_start = chunk_end

        summary.invalid_assignments = dict(
            con.execute(
                "SELECT invalid_reason, count(*) FROM assignment_rows "
                "WHERE invalid_reason IS NOT NULL GROUP BY 1 ORDER BY 1"
            ).fetchall()
        )
        summary.reassignments = con.execute(
            "SELECT * FROM reassignments WHERE units_assigned_more_than_once > 0 "
            "OR duplicate_assignment_rows > 0 ORDER BY experiment_id"
        ).pl()

    summary.units = (
        pl.concat(unit_days)
        .group_by("experiment_id", "variant", "unit_id")
        .agg(pl.col("days").sum())
        .group_by("experiment_id", "variant")
        .agg(pl.len().alias("units"), pl.col("days").sum().alias("unit_days"))
        .sort("experiment_id", "variant")
    )
    covered = {d.isoformat() for d in engagement_days}
    summary.engagement_days_missing = [k for k in _day_keys(start, end) if k not in covered]
    return summary


def _check_results(summary: BuildSummary, pseudonymizer: PseudonymizerResource) -> list:
    reassign = summary.reassignments

    def total(col: str) -> int:
        return int(reassign[col].sum()) if reassign.height else 0

    twice = total("units_assigned_more_than_once")
    invalid = summary.invalid_assignments
    return [
        dg.AssetCheckResult(
            check_name=CHECK_UNITS_ASSIGNED_ONCE,
            passed=twice == 0,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={
                "units_assigned_more_than_once": twice,
                "units_with_conflicting_variants": total("units_with_conflicting_variants"),
                "duplicate_assignment_rows": total("duplicate_assignment_rows"),
                "by_experiment": dg.MetadataValue.md(markdown_frame(reassign, 50)),
                "rule": "first exposure wins (earliest assigned_at)",
            },
        ),
        dg.AssetCheckResult(
            check_name=CHECK_ASSIGNMENTS_MATCH_REGISTRY,
            passed=not invalid,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={
                "excluded_assignment_rows": int(sum(invalid.values())),
                "by_reason": dg.MetadataValue.json(invalid),
            },
        ),
        dg.AssetCheckResult(
            check_name=CHECK_REGISTRY_VALID,
            passed=not summary.registry_problems,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={
                "excluded_experiments": len(summary.registry_problems),
                "problems": dg.MetadataValue.json(summary.registry_problems),
            },
        ),
        dg.AssetCheckResult(
            check_name=CHECK_ONE_ROW_PER_UNIT_DAY,
            passed=summary.duplicate_rows == 0,
            metadata={"duplicate_rows": summary.duplicate_rows, "rows": summary.rows},
        ),
        dg.AssetCheckResult(
            check_name=CHECK_PSEUDONYM_KEY,
            passed=not pseudonymizer.uses_demo_key,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"key": _key_label(pseudonymizer)},
        ),
    ]


def _key_label(pseudonymizer: PseudonymizerResource) -> str:
    if pseudonymizer.uses_demo_key:
        return "public demo key (simulated data only)"
    return f"configured ({KEY_ENV})"


@dg.asset(
    name=TABLE,
    group_name="experiments",
    partitions_def=daily,
    backfill_policy=single_run_backfill,  # the body works in 31-day chunks itself
    kinds={"duckdb", "parquet"},
    deps=[
        dg.AssetDep(ENGAGEMENT_TABLE),  # same daily grid: identity, the late-data path
        dg.AssetDep(REVENUE_TABLE),  # daily by date: identity
        dg.AssetDep(ASSIGNMENTS_TABLE, partition_mapping=dg.AllPartitionMapping()),
        dg.AssetDep(DIRECTORY_TABLE, partition_mapping=dg.AllPartitionMapping()),
        dg.AssetDep(REGISTRY_TABLE),
    ],
    check_specs=CHECK_SPECS,
    metadata=READS,
)
def ab_unit_daily(
    context: dg.AssetExecutionContext,
    lake: LakeResource,
    pseudonymizer: PseudonymizerResource,
) -> dg.MaterializeResult:
    """One row per experiment × unit × day from the unit's (first) assignment on.

    Metrics per row (the day's value for the unit; an account unit sums its users):
    ``active_users`` (users with ≥ 1 event; 0/1 for a user unit), ``sessions``, ``hours``,
    ``events``, ``late_events``; ``recognized_revenue_usd`` for account units. The unit's
    pre-period covariates are in ``ab_unit_covariates``. User ids are HMAC-SHA256 pseudonyms.
    Full definitions: docs/experiments.md.
    """
    store = lake.for_asset(context)
    window = context.partition_time_window
    keys = context.partition_keys
    summary = build_ab_unit_daily(
        lake, pseudonymizer, window.start.date(), window.end.date(), log=context.log, store=store
    )
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": summary.rows,
            "partitions": f"{keys[0]} … {keys[-1]} ({len(keys)} days)",
            "units_by_variant": dg.MetadataValue.md(markdown_frame(summary.units, 50)),
            "units_assigned_more_than_once": int(
                summary.reassignments["units_assigned_more_than_once"].sum()
            )
            if summary.reassignments.height
            else 0,
            "engagement_days_missing": len(summary.engagement_days_missing),
            "pseudonymization_key": _key_label(pseudonymizer),
            "preview": dg.MetadataValue.md(markdown_frame(summary.preview.drop("assigned_at"), 10)),
        },
        check_results=_check_results(summary, pseudonymizer),
    )
