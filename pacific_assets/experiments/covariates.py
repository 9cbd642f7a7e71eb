"""`ab_unit_covariates`: each experiment unit's pre-period covariates, as of its assignment.

One row per experiment × unit, in the partition of the unit's assignment day (the day of its first
exposure): the variant, the assignment time and the unit's metrics over the 14 days before that
day — the covariates CUPED adjusts with (docs/experiments.md). They are a fact of the unit,
fixed when it is assigned, so they are kept once per unit rather than on each of its days (as
warehouse-native experiment tools keep assignment-time covariates apart from daily metrics):
a late click for day D then changes only the units assigned on D+1..D+14, and ``ab_unit_daily``
keeps to one day per partition.

Why the dependencies look the way they do:
- Day *a* reads engagement and revenue of the 14 days before it (rule ``preceding``), nothing of
  day *a* itself or later. Days without engagement or revenue count as not covered
  (``pre_period_days``), and a pre-period before any data is a row with nulls and the reason
  (``pacific/builds_without``), not a partition that cannot be built.
- Who was first exposed on day *a* reads the assignment exports up to *a* (``through``), as
  ``ab_unit_daily`` does; the registry whole.
"""

import datetime as dt
import logging
from dataclasses import dataclass, field

import dagster as dg
import polars as pl

from pacific_assets.experiments.ab_unit_daily import (
    ASSIGNMENTS_TABLE,
    CHUNK_DAYS,
    ENGAGEMENT_TABLE,
    PRE_PERIOD_DAYS,
    REVENUE_TABLE,
    SQL_DIR,
    open_unit_inputs,
    unit_metrics,
)
from pacific_assets.experiments.columns import AB_UNIT_COVARIATES
from pacific_assets.experiments.pseudonymize import PseudonymizerResource
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

TABLE = "ab_unit_covariates"
PARTITION_COLUMN = "assignment_date"
#: The table's columns, in order (declared with their meanings in experiments/columns.py).
SCHEMA = dict(AB_UNIT_COVARIATES.polars())

#: What assignment day a reads (lineage, docs/experiments.md): engagement and revenue of the 14
#: days before a, the assignment exports up to a, the registry whole.
READS = {
    **reads_metadata(
        Read(ENGAGEMENT_TABLE, "preceding", days_before=PRE_PERIOD_DAYS),
        Read(REVENUE_TABLE, "preceding", days_before=PRE_PERIOD_DAYS),
        Read(ASSIGNMENTS_TABLE, "through"),
        Read(REGISTRY_TABLE, "all"),
    ),
    **builds_without_metadata(ENGAGEMENT_TABLE, REVENUE_TABLE),
}
#: The pre-period in Dagster's terms (the UI's lineage): the 14 days before the partition.
PRE_PERIOD_MAPPING = dg.TimeWindowPartitionMapping(
    start_offset=-PRE_PERIOD_DAYS, end_offset=-1, allow_nonexistent_upstream_partitions=True
)


@dataclass
class CovariatesBuild:
    """What a build wrote, for the run's metadata (the rows themselves are in the lake)."""

    rows: int = 0
    preview: pl.DataFrame = field(default_factory=pl.DataFrame)


def build_ab_unit_covariates(
    lake_resource: LakeResource,
    pseudonymizer: PseudonymizerResource,
    start: dt.date,
    end: dt.date,
    log: logging.Logger | None = None,
    store: Lake | None = None,
) -> CovariatesBuild:
    """Build and write ``ab_unit_covariates`` for the assignment days in ``[start, end)``, 31 days
    per SQL pass (bounded memory on a backfill).

    ``store``: the lake to write to (the asset passes its lineage-recording lake).
    """
    lake = store or lake_resource.lake
    registry = load_registry(lake)
    built = CovariatesBuild()
    with lake_resource.duckdb() as con:
        open_unit_inputs(con, lake, pseudonymizer, end, registry.experiments)
        chunk_start = start
        while chunk_start < end:
            chunk_end = min(chunk_start + dt.timedelta(days=CHUNK_DAYS), end)
            con.execute("SET VARIABLE chunk_start = CAST(? AS DATE)", [chunk_start])
            con.execute("SET VARIABLE chunk_end = CAST(? AS DATE)", [chunk_end])
            run_sql(con, SQL_DIR, "assigned_units")
            # the pre-periods of the chunk's assignment days: the 14 days before its first day
            # up to the day before its last
            first = chunk_start - dt.timedelta(days=PRE_PERIOD_DAYS)
            unit_metrics(con, lake, first, chunk_end - dt.timedelta(days=1))
            run_sql(con, SQL_DIR, "ab_unit_covariates")
            chunk = conform(
                con.execute("SELECT * FROM ab_unit_covariates_chunk").pl(), pl.Schema(SCHEMA)
            ).sort(PARTITION_COLUMN, "experiment_id", "unit_id")
            keys = [
                (chunk_start + dt.timedelta(days=i)).isoformat()
                for i in range((chunk_end - chunk_start).days)
            ]
            lake.write_partitions(TABLE, PARTITION_COLUMN, keys, chunk)
            built.rows += chunk.height
            if built.preview.is_empty():
                built.preview = chunk.head(10)
            if log is not None:
                log.info(f"{TABLE}: {keys[0]}..{keys[-1]} -> {chunk.height} rows")
            chunk_start = chunk_end
    return built


@dg.asset(
    name=TABLE,
    group_name="experiments",
    partitions_def=daily,
    backfill_policy=single_run_backfill,  # the body works in 31-day chunks itself
    kinds={"duckdb", "parquet"},
    deps=[
        dg.AssetDep(ENGAGEMENT_TABLE, partition_mapping=PRE_PERIOD_MAPPING),
        dg.AssetDep(REVENUE_TABLE, partition_mapping=PRE_PERIOD_MAPPING),
        dg.AssetDep(ASSIGNMENTS_TABLE, partition_mapping=dg.AllPartitionMapping()),
        dg.AssetDep(REGISTRY_TABLE),
    ],
    metadata=READS,
)
def ab_unit_covariates(
    context: dg.AssetExecutionContext,
    lake: LakeResource,
    pseudonymizer: PseudonymizerResource,
) -> dg.MaterializeResult:
    """One row per experiment × unit, in the partition of its assignment day: variant, assignment
    time and the pre-period covariates ``pre_*`` (its engagement, and revenue for account units,
    summed over the 14 days before the assignment day). ``experiment_results`` adjusts with them
    (CUPED). Full definitions: docs/experiments.md.
    """
    store = lake.for_asset(context)
    window = context.partition_time_window
    keys = context.partition_keys
    built = build_ab_unit_covariates(
        lake, pseudonymizer, window.start.date(), window.end.date(), log=context.log, store=store
    )
    shown = built.preview.drop("assigned_at", strict=False)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": built.rows,
            "partitions": f"{keys[0]} … {keys[-1]} ({len(keys)} days)",
            "preview": dg.MetadataValue.md(markdown_frame(shown, 10)),
        }
    )
