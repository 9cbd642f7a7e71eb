"""Tell a Dagster instance what the lake holds: ``python -m pacific_tools.sync`` (``make sync``).

A new or restored instance over an existing lake knows nothing of the partitions the lake holds:
the UI would show them "missing" and "materialize missing" would recompute them. The lake knows
better: every partition version carries its lineage record (``pacific_assets.lineage``). This
command reports each partition the instance does not know — or knows in another version — as a
materialization through Dagster's public API (``report_runless_asset_event``), with the lineage as
metadata (data version, inputs version, rows, when and by which run it was built), in the order
the lake built them. It never recomputes anything and never writes the lake; run it as often as
you like (a second run reports nothing). ``make demo`` runs it; run it after restoring an
instance or pointing a new one at the lake.

Sensors do not need it: they decide from the lake itself. It is for the people reading the UI.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass

import dagster as dg

from pacific_assets import partitions
from pacific_assets.lineage import UNPARTITIONED, LakeState

#: Metadata key of the lake version a materialization produced.
DATA_VERSION_KEY = "pacific/data_version"


@dataclass(frozen=True)
class Reported:
    asset: str
    partition: str | None
    data_version: str
    built_at: str


def _known_versions(
    instance: dg.DagsterInstance, key: dg.AssetKey, partitioned: bool
) -> dict[str | None, str | None]:
    """Partition -> the data version of its latest materialization the instance holds."""
    out: dict[str | None, str | None] = {}
    cursor = None
    while True:
        result = instance.fetch_materializations(key, limit=1000, cursor=cursor, ascending=False)
        for record in result.records:
            partition = record.partition_key if partitioned else None
            if partition in out:
                continue
            meta = record.asset_materialization.metadata if record.asset_materialization else {}
            value = meta.get(DATA_VERSION_KEY)
            out[partition] = getattr(value, "value", value)
        if not result.has_more:
            return out
        cursor = result.cursor


def _grid(node) -> set[str]:
    """Every key of the asset's partition grid up to now (none for an unpartitioned asset)."""
    return set(node.partitions_def.get_partition_keys()) if node.partitions_def else set()


def outside_the_grids(asset_graph, lake) -> dict[str, list[str]]:
    """Lake partitions no partition of their asset's grid names (asset -> keys): a lake built on
    grids that started on another day (``PACIFIC_START_DATE``, docs/semantic-contract.md "Time").
    Dagster cannot hold them, so sync leaves them out and says so."""
    state = LakeState(lake)
    out: dict[str, list[str]] = {}
    for node in asset_graph.asset_nodes:
        if not node.is_materializable or node.partitions_def is None:
            continue
        table = node.key.to_user_string()
        grid = _grid(node)
        keys = [k for k in sorted(state.partitions(table)) if k != UNPARTITIONED and k not in grid]
        if keys:
            out[table] = keys
    return out


def plan_sync(instance: dg.DagsterInstance, asset_graph, lake) -> list[Reported]:
    """The lake partitions the instance does not know in their current version, oldest first
    (only those on the asset's grid: see ``outside_the_grids``)."""
    state = LakeState(lake)
    todo: list[Reported] = []
    for node in asset_graph.asset_nodes:
        if not node.is_materializable:
            continue
        table = node.key.to_user_string()
        live = state.partitions(table)
        if not live:
            continue
        known = _known_versions(instance, node.key, node.partitions_def is not None)
        grid = _grid(node)
        for key, (version, record) in sorted(live.items()):
            partition = None if node.partitions_def is None else key
            if node.partitions_def is not None and key not in grid:  # off-grid, or UNPARTITIONED
                continue
            data_version = record.content if record else f"v:{version}"
            if known.get(partition, "<none>") == data_version:
                continue
            if partition in known and known[partition] is None and record is None:
                continue  # known to Dagster, written before lineage existed: nothing to add
            todo.append(Reported(table, partition, data_version, record.built_at if record else ""))
    return sorted(todo, key=lambda r: (r.built_at, r.asset, r.partition or ""))


def sync(instance: dg.DagsterInstance, asset_graph, lake) -> list[Reported]:
    """Report ``plan_sync``'s partitions as runless materializations; returns them."""
    state = LakeState(lake)
    todo = plan_sync(instance, asset_graph, lake)
    for item in todo:
        record = state.lineage(item.asset, item.partition or UNPARTITIONED)
        metadata: dict[str, object] = {
            DATA_VERSION_KEY: item.data_version,
            "pacific/reported_by": "pacific_tools.sync (the lake already held this version)",
        }
        if record is not None:
            metadata.update(
                {
                    "pacific/inputs_version": record.inputs,
                    "pacific/built_at": record.built_at,
                    "pacific/built_by_run": record.run_id or "",
                    "dagster/row_count": record.rows,
                }
            )
        instance.report_runless_asset_event(
            dg.AssetMaterialization(
                asset_key=item.asset, partition=item.partition, metadata=metadata
            )
        )
    return todo


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="list, report nothing")
    args = parser.parse_args(argv)
    if not os.environ.get("DAGSTER_HOME"):
        print("error: DAGSTER_HOME is not set; run through `make sync`", file=sys.stderr)
        return 2
    from pacific_assets.definitions import defs
    from pacific_assets.resources import lake_resource_from_env

    lake = lake_resource_from_env().lake
    graph = defs.resolve_asset_graph()
    with dg.DagsterInstance.get() as instance:
        todo = (plan_sync if args.dry_run else sync)(instance, graph, lake)
    by_asset: dict[str, int] = {}
    for item in todo:
        by_asset[item.asset] = by_asset.get(item.asset, 0) + 1
    verb = "would report" if args.dry_run else "reported"
    print(f"{verb} {len(todo)} lake partition(s) to the instance at {os.environ['DAGSTER_HOME']}")
    for asset, n in sorted(by_asset.items()):
        print(f"  {asset:32} {n:>6}")
    outside = outside_the_grids(graph, lake)
    if outside:
        n = sum(map(len, outside.values()))
        first = min(k for keys in outside.values() for k in keys)
        print(
            f"warning: left out {n} lake partition(s) of {len(outside)} asset(s) that lie outside "
            f"the partition grids, which start on {partitions.START_DATE} (the first is {first}): "
            "the lake was built on grids that started on another day. `make clean` starts over; "
            "or set PACIFIC_START_DATE to the day it was built from",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
