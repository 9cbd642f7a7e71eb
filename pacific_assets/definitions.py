"""The code location: every pipeline folder found and merged, then the graph-wide operations.

Kept thin on purpose (import must stay cheap: no JVM, no data access). No pipeline is named
here: ``registry.discover`` finds each sub-package with a ``pipeline.py`` and its ``PIPELINE``
declares everything about it (assets, checks, schedules, sensors, owners, SLA, runbook,
completeness source, cadences), stamped on its own assets; the operations that need the whole
graph (SLA partition checks, on-call sensors, the DuckDB catalog) are built once from the
merged pipelines by ``operations.factory`` (docs/ARCHITECTURE.md, docs/adding-a-pipeline.md).
"""

import dagster as dg

from pacific_assets.operations.factory import with_operations
from pacific_assets.orchestration import lineage
from pacific_assets.registry import code_location, discover, own_sla_verdicts
from pacific_assets.resources import lake_resource_from_env

PIPELINES = discover()
# One module-level Definitions only (Dagster refuses two): the merge is passed straight in.
defs = with_operations(
    code_location(
        PIPELINES,
        dg.Definitions(
            resources={"lake": lake_resource_from_env()},
            # Steps of a run share one process: on a 2-core laptop a subprocess per step costs
            # a ~5 s re-import of the location (and a Spark JVM per step); parallelism comes
            # from concurrent runs instead (dagster.yaml allows two).
            executor=dg.in_process_executor,
        ),
    ),
    sla_verdicts=own_sla_verdicts(PIPELINES),
)

# Lineage judges an asset by the rules of the whole graph, also in a run that knows only some
# assets (the others as stubs): the code location hands its graph in (lineage never imports it).
lineage.use_project_graph(defs.resolve_asset_graph)
