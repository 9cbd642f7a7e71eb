"""Operations: cross-cutting policy, SLA partition checks, schedules, on-call routing, incidents.

What lives here and why (docs/operations.md has the full story):

- ``policies`` (``apply_policies``): owners, kinds, freshness (SLA) and runbook per pipeline,
  applied to every asset; the values in ``pipeline_policies``, their types in ``policy_types``,
  one asset's SLA in ``sla``, the runbooks' prose in docs/runbooks/ (read by ``runbooks``).
- ``checks``: the newest-expected-partition check, generated for every asset with an SLA, reading
  the completeness source each pipeline declares on its assets.
- ``schedules``: the business cadences, each covered by exactly one of the pipelines' schedules
  (checked from their metadata; operations creates none).
- ``rotation`` + ``oncall_rotation.yaml``: who is on call each week.
- ``routing``, ``alerts``, ``incidents``, ``sensors``: failures → page or queue → incident.
- ``handoff``: the weekly hand-off page of the engagement rotation.

The graph-wide pieces are built by ``factory.build_operations_defs`` from the merged definitions;
``defs`` below holds what does not need the graph.
"""

import dagster as dg

from pacific_assets.operations.handoff import engagement_oncall_handoff
from pacific_assets.operations.resources import ops_resource_from_env

_handoff_job = dg.define_asset_job(
    "engagement_oncall_handoff_job",
    selection=dg.AssetSelection.assets(engagement_oncall_handoff),
)

#: Monday 08:00 UTC, before the hand-off meeting: the page for the week that just ended.
engagement_oncall_handoff_schedule = dg.build_schedule_from_partitioned_job(
    _handoff_job,
    name="engagement_oncall_handoff_schedule",
    hour_of_day=8,
    default_status=dg.DefaultScheduleStatus.RUNNING,
)

defs = dg.Definitions(
    assets=[engagement_oncall_handoff],
    jobs=[_handoff_job],
    schedules=[engagement_oncall_handoff_schedule],
    resources={"ops": ops_resource_from_env()},
)
