"""The one place where cross-cutting policy is applied to every asset (docs/operations.md §1).

``definitions.py`` maps ``apply_policies`` over every asset spec of the merged pipelines: owners,
kinds, the SLA's freshness policy and the runbook in the description come from the asset's group
(its pipeline), so no asset copies them. The parts: the types (``policy_types.py``), the values
(``pipeline_policies.py``), the runbooks' prose (``docs/runbooks/``, read by ``runbooks.py``) and
the SLA of one asset (``sla.py``).
"""

from __future__ import annotations

import dagster as dg

from pacific_assets.operations.sla import freshness_for, policy_for_group


def apply_policies(spec: dg.AssetSpec) -> dg.AssetSpec:
    """Attach owners, kinds, freshness and runbook to an asset by its group (its pipeline)."""
    policy = policy_for_group(spec.group_name)
    if policy is None:
        return spec
    runbook = policy.runbook_markdown
    description = spec.description or ""
    if runbook not in description:
        description = f"{description.strip()}\n\n{runbook}".strip()
    freshness = freshness_for(spec.key.to_user_string(), spec.group_name, spec.partitions_def)
    return spec.replace_attributes(
        owners=list(policy.owners),
        kinds=set(spec.kinds) if spec.kinds else set(policy.kinds),
        freshness_policy=freshness if freshness is not None else spec.freshness_policy,
        description=description,
    )
