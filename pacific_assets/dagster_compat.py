"""The only module that imports Dagster internals (``dagster._*``); checked against 1.13.27.

Everything else uses the public API (``import dagster as dg``). Each name below is here because
the installed Dagster has no public name that does the same job; its docstring or comment says
what it is for and which public API was checked. ``pacific_assets_tests/test_dagster_compat.py``
imports every name below and exercises it, and fails with a message naming the name if an
upgrade moved or changed it. It also fails if a ``dagster._`` import appears anywhere else.

Checked, and public (so NOT here): ``dg.DagsterEventType``, ``dg.FreshnessPolicy.cron`` /
``.time_window`` (constructors), ``dg.PartitionKeyRange``, ``dg.AssetRecordsFilter``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

import dagster as dg

try:
    from dagster._core.definitions.assets.graph.asset_graph_subset import AssetGraphSubset
    from dagster._core.definitions.events import AssetKeyPartitionKey
    from dagster._core.definitions.freshness import (
        CronFreshnessPolicy,
        TimeWindowFreshnessPolicy,
    )
    from dagster._core.storage.asset_check_execution_record import (
        AssetCheckExecutionRecord,
        AssetCheckExecutionRecordStatus,
    )
    from dagster._utils.schedules import get_next_cron_tick
except ImportError as exc:  # pragma: no cover - only on a Dagster upgrade
    raise ImportError(
        f"dagster {dg.__version__} moved a private name pacific_assets relies on ({exc}); "
        "pacific_assets/dagster_compat.py was written for dagster 1.13.27. Find the name's new "
        "home (or a public replacement) and update that module only; "
        "pacific_assets_tests/test_dagster_compat.py lists what each name must do."
    ) from exc

if TYPE_CHECKING:
    from dagster._core.definitions.assets.graph.base_asset_graph import BaseAssetGraph

__all__ = [
    "AssetCheckExecutionRecordStatus",
    "CronFreshnessPolicy",
    "TimeWindowFreshnessPolicy",
    "asset_check_history",
    "backfill_request",
    "next_cron_tick",
]

# CronFreshnessPolicy / TimeWindowFreshnessPolicy: the concrete types behind
# ``dg.FreshnessPolicy.cron`` / ``dg.FreshnessPolicy.time_window``. The SLA check and the runbook
# read a policy back (deadline cron, timezone, windows), which needs ``isinstance`` on the concrete
# type; dagster (top level and ``dagster.preview``) exports only the abstract FreshnessPolicy.

# AssetCheckExecutionRecordStatus: the status of a stored check execution (SUCCEEDED / FAILED /
# PLANNED), see ``asset_check_history``. No public enum; ``dg.AssetCheckResult`` is only the
# in-run result, not the stored record.


def backfill_request(
    wanted: Iterable[tuple[dg.AssetKey, str | None]],
    asset_graph: BaseAssetGraph,
    tags: Mapping[str, str],
) -> dg.RunRequest:
    """One sensor request naming its own partitions per asset; the sensor daemon makes it a backfill.

    Why private: the late-data sensors (engagement, growth) rebuild different partition sets per
    asset (a day for staging, that day plus later weekdays for the baseline tables; days, weeks,
    months and an unpartitioned history for growth) in one request, so the backfill daemon runs
    them in dependency order. Public ``dg.RunRequest`` checked: ``partition_key`` is one key for
    every asset, and the ``dagster/asset_partition_range_*`` tags one contiguous range on one
    grid, in one run — neither says "these keys for this asset". ``RunRequest.for_asset_graph_subset``
    is marked "intentionally left private since AssetGraphSubset is not part of the public API".
    ``wanted`` holds (asset key, partition key or None for an unpartitioned asset).
    """
    subset = AssetGraphSubset.from_asset_partition_set(
        {AssetKeyPartitionKey(key, pk) for key, pk in wanted}, asset_graph
    )
    return dg.RunRequest.for_asset_graph_subset(subset, tags=dict(tags))


def next_cron_tick(cron: str, at_or_after: dt.datetime, timezone: str | None) -> dt.datetime:
    """The first tick of ``cron`` at or after ``at_or_after``: a cron freshness deadline.

    Why private: it is the arithmetic Dagster's own cron freshness policy and schedules use (its
    DST handling and vendored croniter), so the SLA check's due date and the policy agree.
    Checked: croniter is not a dependency of dagster 1.13 (vendored under ``dagster._vendored``)
    nor of this project; no public dagster function returns a cron tick. A
    ``dg.TimeWindowPartitionsDefinition`` on the deadline cron would, but only as a misuse (a
    made-up start date and key format for every policy).
    """
    return get_next_cron_tick(cron, at_or_after, timezone)


def asset_check_history(
    instance: dg.DagsterInstance, check_key: dg.AssetCheckKey, limit: int
) -> Sequence[AssetCheckExecutionRecord]:
    """Stored executions of one asset check, newest first (status, partition, run, evaluation).

    Why private: the investor rollup's completeness record needs every recent verdict per
    partition, not only the latest. Public ``dg.DagsterInstance`` checked: ``fetch_materializations``
    / ``fetch_observations`` cover no check evaluations, and there is no public check-history
    method (``get_latest_asset_check_evaluation_record`` is neither public nor a history).
    """
    return instance.event_log_storage.get_asset_check_execution_history(check_key, limit=limit)
