"""Run the real chain (staging -> engagement -> experiments) on simulated landing data.

Only the assets the experiment pipeline needs: the registry, assignments and directory staging
tables, click ingestion and engagement, then ``ab_unit_daily``, ``ab_unit_covariates`` and
``experiment_results``.
Revenue (profit) is left out: no simulated experiment is judged on revenue, and the table says
so per row (``recognized_revenue_usd_null_reason``) when revenue is missing.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg

from pacific_assets.experiments.pseudonymize import PseudonymizerResource
from pacific_assets.resources import LakeResource
from pacific_assets_tests.runs import materialize_in_waves, range_tags

CHAIN = (
    "stg_experiment_registry",
    "stg_experiment_assignments",
    "stg_directory_users",
    "raw_clicks",
    "stg_clicks",
    "user_engagement_daily",
    "ab_unit_daily",
    "ab_unit_covariates",
    "experiment_results",
)
PSEUDONYM_KEY = "test-key-for-pytest"


def project_defs() -> dg.Definitions:
    from pacific_assets.definitions import defs

    return defs


def chain_resources(data_root: Path) -> dict:
    defs = project_defs()
    return {
        **defs.resources,
        "lake": LakeResource(data_root=str(data_root), duckdb_memory_limit="1GB", duckdb_threads=2),
        "pseudonymizer": PseudonymizerResource(key=PSEUDONYM_KEY),
    }


def grid_range_tags(pdef, first: dt.date, last: dt.date) -> dict[str, str]:
    """Range tags for the partitions of ``pdef`` whose window starts in [first, last]."""
    if pdef is None:
        return {}
    keys = [k for k in pdef.get_partition_keys() if first.isoformat() <= k <= last.isoformat()]
    return range_tags(keys[0], keys[-1])


def run_chain(
    data_root: Path,
    instance: dg.DagsterInstance,
    first: dt.date,
    last: dt.date,
    assets: tuple[str, ...] = CHAIN,
) -> list[dg.ExecuteInProcessResult]:
    """Materialize ``assets`` over [first, last] in dependency order, one run per grid per wave."""
    defs = project_defs()
    graph = defs.resolve_asset_graph()
    wanted = [k for k in graph.toposorted_asset_keys if k.to_user_string() in assets]
    return materialize_in_waves(
        defs,
        wanted,
        chain_resources(data_root),
        instance,
        lambda g: grid_range_tags(g, first, last),
    )


def execute_subset(
    data_root: Path, instance: dg.DagsterInstance, keys_by_asset: dict[str, list[str]]
) -> None:
    """Run what a sensor or automation tick requested: each asset over its requested days."""
    defs = project_defs()
    graph = defs.resolve_asset_graph()
    order = [k.to_user_string() for k in graph.toposorted_asset_keys]
    for name in sorted(keys_by_asset, key=order.index):
        for first, last in _runs_of_days(sorted(keys_by_asset[name])):
            result = dg.materialize(
                list(defs.assets),
                selection=[name],
                resources=chain_resources(data_root),
                instance=instance,
                tags=range_tags(first, last),
            )
            assert result.success, name


def _runs_of_days(keys: list[str]) -> list[tuple[str, str]]:
    """Consecutive days grouped into (first, last) ranges."""
    runs: list[list[str]] = []
    for k in keys:
        day = dt.date.fromisoformat(k)
        if runs and dt.date.fromisoformat(runs[-1][-1]) + dt.timedelta(days=1) == day:
            runs[-1].append(k)
        else:
            runs.append([k])
    return [(r[0], r[-1]) for r in runs]
