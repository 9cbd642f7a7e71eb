"""Running the experiment assets the way Dagster does (real instance, real lake)."""

from __future__ import annotations

import dagster as dg

from pacific_assets.experiments.ab_unit_daily import ab_unit_daily
from pacific_assets.experiments.covariates import ab_unit_covariates
from pacific_assets.experiments.pseudonymize import PseudonymizerResource
from pacific_assets.experiments.results import experiment_results
from pacific_assets.resources import LakeResource
from pacific_assets.storage.lake import Lake
from pacific_assets_tests.runs import range_tags


def resources(lake: Lake, key: str = "test-key-for-pytest") -> dict:
    return {
        "lake": LakeResource(data_root=str(lake.root), duckdb_memory_limit="1GB", duckdb_threads=2),
        "pseudonymizer": PseudonymizerResource(key=key),
    }


def materialize_range(
    assets: list,
    lake: Lake,
    first: str,
    last: str,
    key: str = "test-key-for-pytest",
    instance: dg.DagsterInstance | None = None,
) -> dg.ExecuteInProcessResult:
    """One run over the partition range [first, last] (both included), as a backfill would."""
    return dg.materialize(
        assets,
        instance=instance or dg.DagsterInstance.ephemeral(),
        resources=resources(lake, key),
        tags=range_tags(first, last),
    )


__all__ = [
    "ab_unit_covariates",
    "ab_unit_daily",
    "experiment_results",
    "materialize_range",
    "resources",
]
