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


def drive_sensor(
    defs: dg.Definitions,
    sensor_name: str,
    now,
    instance: dg.DagsterInstance,
    execute: Callable[[list[str], str | None, str | None], dg.ExecuteInProcessResult],
    max_rounds: int = 10,
) -> dict[str, list[str] | None]:
    """Evaluate a sensor (Dagster's public ``evaluate_tick``, clock moved to ``now``) and run
    what it requests with ``execute(assets, first, last)``, until it requests nothing.

    Returns asset -> partition keys materialized, in request order (None for an unpartitioned
    table). The daemon's own path is covered by the replay tests; this one pins one sensor.
    """
    from pacific_assets.dagster_compat import moved_clock

    sensor = defs.resolve_sensor_def(sensor_name)
    built: dict[str, list[str] | None] = {}
    for _ in range(max_rounds):
        with (
            moved_clock(lambda: now),
            dg.build_sensor_context(
                instance=instance, definitions=defs, resources=defs.resources
            ) as context,
        ):
            result = sensor.evaluate_tick(context)
        if not result.run_requests:
            return built
        for request in result.run_requests:
            assets = [k.to_user_string() for k in request.asset_selection]
            first, last = request.tags.get(RANGE_START), request.tags.get(RANGE_END)
            with moved_clock(lambda: now):
                run = execute(assets, first, last)
            assert run.success, f"{assets} {first}..{last} failed"
            for mat in run.get_asset_materialization_events():
                table = mat.asset_key.to_user_string()
                if mat.partition is None:
                    built[table] = None
                else:
                    built.setdefault(table, []).append(mat.partition)  # type: ignore[union-attr]
    raise AssertionError(f"{sensor_name} never settled: {built}")
