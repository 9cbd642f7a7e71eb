"""The SLA of one asset, as its pipeline declared it on the asset (docs/operations.md §1, "SLA
per asset"): the freshness policy on the asset and the newest-expected-partition check both read
it from the graph, so they agree and operations names no pipeline."""

from __future__ import annotations

from pacific_assets.pipeline_policy import AssetSla


def sla_of(node) -> AssetSla | None:
    """The SLA an asset node (or spec) of the graph carries; None: the asset has none."""
    return AssetSla.on_asset(node.freshness_policy, node.metadata)
