"""The code location: one Definitions object, merged from each pipeline's own definitions.

Kept thin on purpose (import must stay cheap: no JVM, no data access). Cross-cutting policy —
owners, freshness, runbooks — is applied in one place, ``operations.policies``, and each lake
table's declared columns by ``columns.with_column_schema``; the operations that need the whole
graph (SLA partition checks, on-call sensors) are built once from the merged pipelines by
``operations.factory``.
"""

import dagster as dg

from pacific_assets import (
    engagement,
    experiments,
    growth,
    investor,
    lineage,
    operations,
    profit,
    staging,
)
from pacific_assets.columns import with_column_schema
from pacific_assets.engagement.assets import QUARANTINE_WRITERS as CLICK_QUARANTINE_WRITERS
from pacific_assets.operations.factory import with_operations
from pacific_assets.operations.policies import apply_policies
from pacific_assets.resources import lake_resource_from_env
from pacific_assets.staging.assets import STAGING_ASSETS, quarantine_spec

# One module-level Definitions only (Dagster refuses two): the merge is passed straight in.
defs = with_operations(
    dg.Definitions.merge(
        staging.defs,
        profit.defs,
        growth.defs,
        engagement.defs,
        investor.defs,
        experiments.defs,
        operations.defs,
        dg.Definitions(
            # the one table two pipelines write: its writers are known only here
            assets=[quarantine_spec([*STAGING_ASSETS, *CLICK_QUARANTINE_WRITERS])],
            resources={"lake": lake_resource_from_env()},
            # Steps of a run share one process: on a 2-core laptop a subprocess per step costs
            # a ~5 s re-import of the location (and a Spark JVM per step); parallelism comes
            # from concurrent runs instead (dagster.yaml allows two).
            executor=dg.in_process_executor,
        ),
    )
    .map_asset_specs(func=apply_policies)
    .map_asset_specs(func=with_column_schema)
)

# Lineage judges an asset by the rules of the whole graph, also in a run that knows only some
# assets (the others as stubs): the code location hands its graph in (lineage never imports it).
lineage.use_project_graph(defs.resolve_asset_graph)
