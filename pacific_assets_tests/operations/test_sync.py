"""``make sync`` over a lake that holds partitions off the partition grids.

A lake built from another ``PACIFIC_START_DATE`` than the grids' (one set by hand; `make` reads a
data root's own first day from it) has partitions no grid names: Dagster cannot record them, so
sync leaves them out and says which.
"""

from __future__ import annotations

import dagster as dg

from pacific_assets import partitions
from pacific_assets.definitions import defs
from pacific_assets.storage.lake import Lake
from pacific_assets_tests.lakes import mark_built
from pacific_tools.sync import outside_the_grids, plan_sync, sync


def test_sync_reports_the_partitions_on_the_grids_and_names_the_others(lake: Lake) -> None:
    assert partitions.START_DATE == "2025-09-01"  # the suite's grids (the code's default)
    mark_built(lake.root, "stg_accounts", ["2025-08-30", "2025-08-31", "2025-09-01", "2025-09-02"])
    mark_built(lake.root, "unit_profit", ["2025-08-01", "2025-09-01"])
    graph = defs.resolve_asset_graph()

    assert outside_the_grids(graph, lake) == {
        "stg_accounts": ["2025-08-30", "2025-08-31"],
        "unit_profit": ["2025-08-01"],
    }
    with dg.instance_for_test() as instance:
        planned = {(r.asset, r.partition) for r in plan_sync(instance, graph, lake)}
        assert planned == {
            ("stg_accounts", "2025-09-01"),
            ("stg_accounts", "2025-09-02"),
            ("unit_profit", "2025-09-01"),
        }
        reported = sync(instance, graph, lake)
        assert len(reported) == 3
        status = instance.get_materialized_partitions(dg.AssetKey("stg_accounts"))
        assert status == {"2025-09-01", "2025-09-02"}
        assert plan_sync(instance, graph, lake) == []  # a second run reports nothing
