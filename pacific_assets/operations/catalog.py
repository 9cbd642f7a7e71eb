"""The analysts' DuckDB catalog (``data/catalog.duckdb``) as an asset, downstream of every lake table.

The catalog holds one view per lake table over the table's live-partition glob
(``storage.catalog``), so new partitions show up without a rebuild: only a table that appears
for the first time needs one. The sensor ``duckdb_catalog_refresh`` only *asks* for that run;
the run does the writing, so the write has an owner, a run log and a place in the lineage graph
(docs/ARCHITECTURE.md, "Storage: the lake").

One writer at a time: the asset runs in its own pool (``CATALOG_POOL``), and dagster.yaml gives
every pool a limit of one, so two runs never rebuild it at once; the sensor's run key names the
state it answers, so the same rebuild is never requested twice.
"""

from collections.abc import Sequence

import dagster as dg

from pacific_assets.orchestration import digest
from pacific_assets.resources import LakeResource
from pacific_assets.storage.catalog import catalog_tables, refresh_catalog

DUCKDB_CATALOG = "duckdb_catalog"
#: A pool of its own (dagster.yaml: every pool runs one step at a time): one writer at once.
CATALOG_POOL = DUCKDB_CATALOG
CATALOG_SENSOR = "duckdb_catalog_refresh"
#: Assets of this kind are tables of the Parquet lake: the catalog has a view of each.
LAKE_TABLE_KIND = "parquet"


def lake_table_keys(asset_graph) -> list[dg.AssetKey]:
    """Every asset that is a lake table (kind ``parquet``), written by a step or reported."""
    return sorted(
        (n.key for n in asset_graph.asset_nodes if LAKE_TABLE_KIND in n.kinds),
        key=lambda k: k.to_user_string(),
    )


def _versions(tables: Sequence[str]) -> dict[str, str]:
    """One version per view: a view changes only when its table appears (it globs partitions)."""
    return {t: digest(["view", t]) for t in tables}


def build_catalog_asset(lake_tables: Sequence[dg.AssetKey]) -> dg.AssetsDefinition:
    """The catalog asset, with every lake table as a dependency (its lineage in the UI)."""

    @dg.asset(
        name=DUCKDB_CATALOG,
        group_name="operations",
        deps=list(lake_tables),
        pool=CATALOG_POOL,
        kinds={"duckdb"},
        description=(
            "`data/catalog.duckdb`: one DuckDB view per lake table over its live partitions, so "
            "analysts query the lake with plain SQL (`duckdb -readonly data/catalog.duckdb`). "
            "Rebuilt as a new file and renamed into place (an open reader never blocks it) when "
            "a lake table appears that has no view yet; the sensor `duckdb_catalog_refresh` "
            "requests that run. See docs/ARCHITECTURE.md."
        ),
    )
    def duckdb_catalog(
        context: dg.AssetExecutionContext, lake: LakeResource
    ) -> dg.MaterializeResult:
        views = refresh_catalog(lake.lake)
        context.log.info(f"catalog rebuilt with {len(views)} views")
        return dg.MaterializeResult(
            metadata={
                "path": dg.MetadataValue.path(str(lake.lake.catalog_path)),
                "views": len(views),
                "tables": dg.MetadataValue.json(views),
                # what the catalog was built from, as every lake partition records it
                # (pacific_assets.orchestration.lineage): its views are its inputs
                "pacific/inputs_version": digest(views),
                "pacific/input_versions": dg.MetadataValue.json(_versions(views)),
            }
        )

    return duckdb_catalog


@dg.sensor(
    name=CATALOG_SENSOR,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    asset_selection=[DUCKDB_CATALOG],
    description="Requests a run of duckdb_catalog when a lake table appears that has no view yet.",
)
def duckdb_catalog_refresh(context: dg.SensorEvaluationContext, lake: LakeResource):
    """Compares the lake's tables with the catalog's views; writes nothing itself."""
    tables = lake.lake.tables()
    views = catalog_tables(lake.lake)
    if tables == views:
        return dg.SkipReason(f"catalog up to date ({len(views)} views)")
    new = sorted(set(tables) - set(views))
    context.log.info(f"{len(new)} table(s) without a view: {', '.join(new[:10])}")
    return dg.RunRequest(
        # the state this request answers: the same rebuild is never launched twice
        run_key=f"{DUCKDB_CATALOG}:{digest(tables)}:{digest(views)}",
        asset_selection=[dg.AssetKey(DUCKDB_CATALOG)],
        tags={"pacific/trigger": CATALOG_SENSOR, "pacific/why": f"{len(new)} new table(s)"},
    )
