"""Operations' own declaration: the hand-off page, its schedule, the platform's policy.

The graph-wide operations (SLA partition checks, on-call sensors, the DuckDB catalog) are built
from the merged pipelines by ``factory.with_operations``; the catalog is declared with this
policy, and failures that belong to no asset (a job that targets none) are routed by it.
"""

import dagster as dg

from pacific_assets.operations.handoff import engagement_oncall_handoff
from pacific_assets.operations.resources import ops_resource_from_env
from pacific_assets.operations.schedules import JOBS, SCHEDULES
from pacific_assets.pipeline_policy import PipelinePolicy
from pacific_assets.registry import Pipeline
from pacific_assets.runbooks import load_runbook

_DE = "team:data-engineering"

PIPELINE = Pipeline(
    name="operations",
    defs=dg.Definitions(
        assets=[engagement_oncall_handoff],
        jobs=JOBS,
        schedules=SCHEDULES,
        resources={"ops": ops_resource_from_env()},
    ),
    policy=PipelinePolicy(
        runbook=load_runbook("operations"),
        owners=(_DE,),
        kinds=frozenset({"python"}),
        freshness=None,
        oncall_mode="queue",
        oncall_roles=(),
        queue=_DE,
        step_kinds={"Ops 1": "*"},
    ),
)
