"""Operations: cross-cutting policy, SLA partition checks, schedules, on-call routing, incidents.

What lives here and why (docs/operations.md has the full story):

- Every pipeline declares its owners, SLA, on-call rules and runbook in its own ``pipeline.py``
  (``registry.Pipeline``), which stamps them on its assets; operations reads them back from the
  asset graph only (``sla.sla_of``, ``pipeline_policy.OnCall.on_asset``) and names no pipeline.
- ``checks``: the newest-expected-partition check, generated for every asset with an SLA, reading
  the completeness source each pipeline declares on its assets.
- ``cadences``: the business cadences each pipeline declares, each covered by exactly one of its
  schedules (checked from their metadata; operations creates no pipeline schedule).
- ``rotation`` + ``oncall_rotation.yaml``: who is on call each week.
- ``routing``, ``alerts``, ``incidents``, ``sensors``: failures → page or queue → incident.
- ``handoff``: the weekly hand-off page of the engagement rotation.

The graph-wide pieces are built by ``factory.build_operations_defs`` from the merged definitions;
``pipeline.py`` declares what does not need the graph (the hand-off page and its schedule).
"""
