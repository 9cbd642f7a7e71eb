"""The staging pipeline's declaration: assets, schedules, policy (docs/staging.md).

Staging has no SLA of its own (``freshness=None``): its tables are held to the SLAs of the
pipelines that read them. The quarantine table is built once every pipeline is merged: its
upstream assets are every step marked as a quarantine writer, here and in engagement.
"""

import dagster as dg

from pacific_assets.pipeline_policy import PipelinePolicy
from pacific_assets.registry import Pipeline
from pacific_assets.runbooks import load_runbook
from pacific_assets.staging.assets import RAW_SPECS, STAGING_ASSETS, quarantine_spec
from pacific_assets.staging.schedules import SCHEDULES, SENSORS
from pacific_assets.storage.quarantine import quarantine_writers, writes_quarantine

_DE = "team:data-engineering"


def _quarantine(merged: dg.Definitions) -> dg.Definitions:
    return dg.Definitions(assets=[quarantine_spec(quarantine_writers(merged))])


PIPELINE = Pipeline(
    name="staging",
    defs=dg.Definitions(
        assets=[*RAW_SPECS, *STAGING_ASSETS], schedules=SCHEDULES, sensors=SENSORS
    ).map_asset_specs(func=writes_quarantine(STAGING_ASSETS)),
    policy=PipelinePolicy(
        runbook=load_runbook("staging"),
        owners=(_DE,),
        kinds=frozenset({"duckdb", "parquet"}),
        freshness=None,
        oncall_mode="queue",
        oncall_roles=(),
        queue=_DE,
        step_kinds={"Staging 1": "check:*quarantin*", "Staging 2": "*"},
    ),
    from_graph=_quarantine,
)
