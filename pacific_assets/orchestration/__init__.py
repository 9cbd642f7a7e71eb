"""The orchestration library: grids, clock, lineage, planner and Dagster compatibility.

What Dagster leaves to its users for partitioned, late-arriving data (docs/orchestration.md): the
grids' first day is a fact of the data root (``data_root``, ``partitions``); one "now" that tests
and the replay can move (``clock``); a lineage record per partition version and the read rules
that say what a partition depends on (``lineage``); the planner behind the cadence schedules and
keeper sensors (``automation``); the only module allowed Dagster's internals (``dagster_compat``).

Pipelines import from this package only (``from pacific_assets.orchestration import
keeper_sensor``), never from its modules; a test holds them to it. The names below are the
interface. They are resolved on first use (PEP 562), so that importing one module here — the
simulator records the grids' first day through ``data_root`` — never computes the grids early.
"""

from __future__ import annotations

import importlib
from typing import Any

#: The public interface: name -> the module that defines it.
INTERFACE: dict[str, str] = {
    # grids (docs/operations.md "The grids' first day")
    "daily": "partitions",
    "weekly": "partitions",
    "monthly": "partitions",
    "single_run_backfill": "partitions",
    # lineage: read rules and records (docs/operations.md §3, docs/ARCHITECTURE.md)
    "Read": "lineage",
    "reads_metadata": "lineage",
    "builds_without_metadata": "lineage",
    "LakeState": "lineage",
    "UNPARTITIONED": "lineage",
    "LANDING_SOURCE_KEY": "lineage",
    "asset_lineage_from_graph": "lineage",
    "stale_partitions": "lineage",
    "keys_at": "lineage",
    "digest": "lineage",
    "publish_slices": "lineage",
    "register_batch_landing": "lineage",
    # the planner (docs/operations.md §3)
    "cadence_schedule": "automation",
    "keeper_sensor": "automation",
    "declared_cadence": "automation",
    "TickBudget": "automation",
    # Dagster, behind one seam
    "CronFreshnessPolicy": "dagster_compat",
    "TimeWindowFreshnessPolicy": "dagster_compat",
    "freshness_states": "dagster_compat",
    "next_cron_tick": "dagster_compat",
    "asset_check_history": "dagster_compat",
    "AssetCheckExecutionRecordStatus": "dagster_compat",
    "run_partition_keys": "dagster_compat",
    "ASSET_PARTITION_RANGE_START_TAG": "dagster_compat",
    "ASSET_PARTITION_RANGE_END_TAG": "dagster_compat",
}

#: Modules a pipeline may use as a whole: ``clock.now()``, ``partitions.daily``.
MODULES = ("clock", "partitions")

__all__ = [*sorted(INTERFACE), *MODULES]


def __getattr__(name: str) -> Any:
    if name in INTERFACE:
        return getattr(importlib.import_module(f"{__name__}.{INTERFACE[name]}"), name)
    if name in MODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
