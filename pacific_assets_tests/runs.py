"""How the tests run assets: range runs and dependency waves, in one place for every folder.

A range run (one run over first..last, as a single-run backfill or a month-close job does it) is
two Dagster tags; a chain of assets runs parents-first in waves, one range run per partition grid
of a wave (as ``make demo`` does, see pacific_assets/demo.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Mapping
from typing import TYPE_CHECKING

import dagster as dg

if TYPE_CHECKING:  # the graph type is not public; only annotations use it
    from dagster._core.definitions.assets.graph.base_asset_graph import BaseAssetGraph

RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"


def range_tags(first: str, last: str) -> dict[str, str]:
    """Tags that make one run cover the partitions ``first``..``last`` (both included)."""
    return {RANGE_START: first, RANGE_END: last}


def checks_by_name(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetCheckEvaluation]:
    """The asset check evaluations of one run, by check name."""
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def grid_waves(
    graph: BaseAssetGraph, keys: Collection[dg.AssetKey]
) -> list[tuple[dg.PartitionsDefinition | None, list[dg.AssetKey]]]:
    """``keys`` parents-first, as the runs to make: (partition grid, keys of one run).

    A wave holds the keys whose parents among ``keys`` ran in earlier waves (parents outside
    ``keys`` are taken as there); each wave is split by partition grid, in topological order.
    """
    todo = [k for k in graph.toposorted_asset_keys if k in keys]
    done: set[dg.AssetKey] = set()
    runs: list[tuple[dg.PartitionsDefinition | None, list[dg.AssetKey]]] = []
    while todo:
        wave = [
            k for k in todo if all(p in done or p not in keys for p in graph.get(k).parent_keys)
        ]
        by_grid: dict[dg.PartitionsDefinition | None, list[dg.AssetKey]] = defaultdict(list)
        for key in wave:
            by_grid[graph.get(key).partitions_def].append(key)
        runs.extend(by_grid.items())
        done.update(wave)
        todo = [k for k in todo if k not in done]
    return runs


def materialize_in_waves(
    defs: dg.Definitions,
    keys: Collection[dg.AssetKey],
    resources: Mapping[str, object],
    instance: dg.DagsterInstance,
    tags_for: Callable[[dg.PartitionsDefinition | None], dict[str, str]],
) -> list[dg.ExecuteInProcessResult]:
    """Materialize ``keys`` of ``defs`` run by run as ``grid_waves`` orders them, each run over
    the range ``tags_for(grid)`` names; every run must succeed."""
    results = []
    for pdef, run_keys in grid_waves(defs.resolve_asset_graph(), keys):
        result = dg.materialize(
            list(defs.assets or []),
            selection=run_keys,
            resources=dict(resources),
            instance=instance,
            tags=tags_for(pdef),
        )
        assert result.success, run_keys
        results.append(result)
    return results
