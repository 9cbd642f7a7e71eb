"""How the tests run assets: range runs and dependency waves, in one place for every folder.

A range run (one run over first..last, as a single-run backfill or a month-close job does it) is
two Dagster tags; a chain of assets runs parents-first in waves, one range run per partition grid
of a wave (as ``make demo`` does, see pacific_tools/demo.py).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping

import dagster as dg

from pacific_assets.dagster_compat import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
)
from pacific_tools.demo import grid_waves, wave_runs


def range_tags(first: str, last: str) -> dict[str, str]:
    """Tags that make one run cover the partitions ``first``..``last`` (both included)."""
    return {ASSET_PARTITION_RANGE_START_TAG: first, ASSET_PARTITION_RANGE_END_TAG: last}


def checks_by_name(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetCheckEvaluation]:
    """The asset check evaluations of one run, by check name."""
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def materialize_in_waves(
    defs: dg.Definitions,
    keys: Collection[dg.AssetKey],
    resources: Mapping[str, object],
    instance: dg.DagsterInstance,
    tags_for: Callable[[dg.PartitionsDefinition | None], dict[str, str]],
) -> list[dg.ExecuteInProcessResult]:
    """Materialize ``keys`` of ``defs`` run by run as ``demo.grid_waves`` orders them, each run over
    the part of the range ``tags_for(grid)`` names that its sources delivered data for (as
    ``make demo`` does: ``demo.wave_runs``); every run must succeed."""
    graph = defs.resolve_asset_graph()
    results = []
    for pdef, wave in grid_waves(defs, keys):
        tags = tags_for(pdef)
        first = tags.get(ASSET_PARTITION_RANGE_START_TAG)
        last = tags.get(ASSET_PARTITION_RANGE_END_TAG)
        for run_keys, first_last in wave_runs(
            graph, resources.get("lake"), pdef, wave, first, last
        ):
            result = dg.materialize(
                list(defs.assets or []),
                selection=run_keys,
                resources=dict(resources),
                instance=instance,
                tags={**tags, **(range_tags(*first_last) if first_last else {})},
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
            first, last = (
                request.tags.get(ASSET_PARTITION_RANGE_START_TAG),
                request.tags.get(ASSET_PARTITION_RANGE_END_TAG),
            )
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
