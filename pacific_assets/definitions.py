"""The code location: one Definitions object, merged from each pipeline's own definitions.

Kept thin on purpose (import must stay cheap: no JVM, no data access). Cross-cutting policy —
owners, freshness, runbooks — is applied in one place, ``operations.policies``.
"""

import dagster as dg

from pacific_assets import engagement, experiments, growth, investor, operations, profit, staging
from pacific_assets.operations.policies import apply_policies
from pacific_assets.resources import lake_resource_from_env
from pacific_assets.storage.sensors import duckdb_catalog_refresh

defs = dg.Definitions.merge(
    staging.defs,
    profit.defs,
    growth.defs,
    engagement.defs,
    investor.defs,
    experiments.defs,
    operations.defs,
    dg.Definitions(sensors=[duckdb_catalog_refresh], resources={"lake": lake_resource_from_env()}),
).map_asset_specs(func=apply_policies)
