"""The one place the DuckDB catalog is refreshed from while Dagster runs.

Views glob live partitions, so only a table that appears for the first time needs a rebuild. A
sensor (one daemon process) does it, so parallel runs never contend for the catalog's lock.
"""

from __future__ import annotations

import dagster as dg

from pacific_assets.resources import LakeResource
from pacific_assets.storage.catalog import catalog_tables, refresh_catalog


@dg.sensor(
    name="duckdb_catalog_refresh",
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Rebuilds data/catalog.duckdb when a lake table appears that has no view yet.",
)
def duckdb_catalog_refresh(context: dg.SensorEvaluationContext, lake: LakeResource):
    tables = lake.lake.tables()
    if tables == catalog_tables(lake.lake):
        return dg.SkipReason(f"catalog up to date ({len(tables)} views)")
    views = refresh_catalog(lake.lake)
    context.log.info(f"catalog rebuilt with {len(views)} views")
    return dg.SkipReason(f"catalog rebuilt: {len(views)} views")
