"""The SLA of one asset: its own override, else its pipeline's rule for its grain, else its
pipeline's (docs/operations.md §1, "SLA per asset"). The freshness policy on the asset and the
newest-expected-partition check both read ``sla_for``, so they agree."""

from __future__ import annotations

import dagster as dg

from pacific_assets.operations.pipeline_policies import ASSET_SLAS, POLICIES
from pacific_assets.operations.policy_types import AssetSla, PipelinePolicy, grain_of


def policy_for_group(group: str | None) -> PipelinePolicy | None:
    """The policy of a pipeline (an asset group), None for groups without one."""
    return POLICIES.get(group or "")


def sla_for(
    asset_name: str,
    group: str | None,
    partitions_def: dg.PartitionsDefinition | None = None,
) -> AssetSla | None:
    """The SLA of one asset: its own override, else its pipeline's rule for its partition grain,
    else its pipeline's (None: no SLA)."""
    if asset_name in ASSET_SLAS:
        return ASSET_SLAS[asset_name]
    policy = policy_for_group(group)
    if policy is None or policy.freshness is None:
        return None
    grain = grain_of(partitions_def)
    if grain is not None and grain in policy.grain_slas:
        return policy.grain_slas[grain]
    return policy.default_sla


def freshness_for(
    asset_name: str,
    group: str | None,
    partitions_def: dg.PartitionsDefinition | None = None,
) -> dg.FreshnessPolicy | None:
    """The SLA freshness policy for one asset (see ``sla_for``)."""
    sla = sla_for(asset_name, group, partitions_def)
    return sla.freshness if sla else None
