"""The runbook's "queue backfills periodically": a catch-up sensor for the open month.

Every hour (acting at most once per partition range per day, through run keys) it assesses the
rollup inputs of the open month — and of the previous month while that one is not yet published —
with the same completeness logic the rollup uses, and requests:

1. the **missing or stale** partitions of each input, as range runs (one run per input and
   contiguous range, never one per day);
2. once an ended period's inputs are all OK, the **rollup itself** for that period when its
   partition is missing or older than its inputs: this is the month-close run that publishes a
   month, and the re-run of an unpublished period after late data. (Dagster's monthly and weekly
   partitions exist only once the period has ended, so the open period itself is never requested.)

Days flagged incomplete (an outage) are not re-requested: re-running cannot bring lost clicks
back; the late-data sensor re-materializes them if the clicks arrive after all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import dagster as dg

from pacific_assets.investor import publish
from pacific_assets.investor.completeness import InstanceFacts, assess
from pacific_assets.investor.inputs import MONTHLY, WEEKLY, Grain
from pacific_assets.resources import LakeResource
from pacific_assets.storage.lake import Lake

#: The rollups and their direct parents: what the catch-up may request.
CATCHUP_SELECTION = dg.AssetSelection.assets(MONTHLY.asset, WEEKLY.asset).upstream(depth=1)


def contiguous_ranges(keys: Sequence[str]) -> list[tuple[str, str]]:
    """Daily keys grouped into [first, last] runs of consecutive days (other keys stand alone)."""
    out: list[tuple[str, str]] = []
    for k in sorted(set(keys)):
        if out:
            try:
                gap = dt.date.fromisoformat(k) - dt.date.fromisoformat(out[-1][1])
            except ValueError:
                gap = None
            if gap == dt.timedelta(days=1):
                out[-1] = (out[-1][0], k)
                continue
        out.append((k, k))
    return out


def window_periods(lake: Lake, grain: Grain, now: dt.datetime) -> list[dt.date]:
    """Periods the catch-up looks after: the open one, and the previous one until it is closed."""
    yesterday = now.date() - dt.timedelta(days=1)
    pdef = grain.partitions_def
    keys = pdef.get_partition_keys(current_time=now + dt.timedelta(days=40))
    starts = [dt.date.fromisoformat(k) for k in keys]
    open_period = max((s for s in starts if s <= yesterday), default=None)
    if open_period is None:
        return []
    periods = [open_period]
    previous = [s for s in starts if s < open_period]
    if previous:
        prev = previous[-1]
        if grain.name == "monthly":
            if not publish.versions(lake, prev):
                periods.insert(0, prev)
        elif not lake.partition_keys(grain.asset) or prev.isoformat() not in lake.partition_keys(
            grain.asset
        ):
            periods.insert(0, prev)
    return periods


def _range_request(asset: str, first: str, last: str, day: dt.date, why: str) -> dg.RunRequest:
    return dg.RunRequest(
        run_key=f"investor-catchup:{asset}:{first}:{last}:{day.isoformat()}",
        asset_selection=[dg.AssetKey(asset)],
        tags={
            "dagster/asset_partition_range_start": first,
            "dagster/asset_partition_range_end": last,
            "pacific/catchup": why,
        },
    )


def plan_catchup(
    lake: Lake, instance: dg.DagsterInstance, asset_graph, now: dt.datetime
) -> list[dg.RunRequest]:
    """The run requests of one evaluation (pure given lake, instance and graph: testable)."""
    facts = InstanceFacts(instance, asset_graph)
    requests: list[dg.RunRequest] = []
    wanted: dict[str, dict[str, str]] = {}  # input table -> key -> why
    ready: dict[str, list[dt.date]] = {}
    for grain in (MONTHLY, WEEKLY):
        periods = window_periods(lake, grain, now)
        verdicts = assess(lake, grain, periods, now, facts)
        blocked = set()
        for v in verdicts:
            for k in v.missing:
                wanted.setdefault(v.table.table, {})[k] = "missing"
            for k in v.stale:
                wanted.setdefault(v.table.table, {}).setdefault(k, "stale")
            if not v.is_ok:
                blocked.add(v.period_start)
        ready[grain.name] = [p for p in periods if p not in blocked]
    for table, keys in sorted(wanted.items()):
        key = dg.AssetKey(table)
        if not asset_graph.has(key) or not asset_graph.get(key).is_materializable:
            continue  # not ours to run (external), the completeness record already says so
        for first, last in contiguous_ranges(list(keys)):
            why = "missing" if "missing" in {keys[first], keys[last]} else "stale"
            requests.append(_range_request(table, first, last, now.date(), why))
    for grain in (MONTHLY, WEEKLY):
        periods = ready[grain.name]
        if not periods or not asset_graph.has(dg.AssetKey(grain.asset)):
            continue
        live = set(lake.partition_keys(grain.asset))
        # Dagster's time partitions exist once their period has ended: no request for the open one.
        existing = set(grain.partitions_def.get_partition_keys(current_time=now))
        pkeys = [p.isoformat() for p in periods if p.isoformat() in existing]
        stale, _ = facts.stale(grain.asset, [k for k in pkeys if k in live])
        due = [k for k in pkeys if k not in live or k in stale]
        for first, last in contiguous_ranges(due):
            requests.append(_range_request(grain.asset, first, last, now.date(), "inputs ready"))
    return requests


@dg.sensor(
    name="investor_catchup",
    asset_selection=CATCHUP_SELECTION,
    minimum_interval_seconds=3600,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Queues backfills of missing or stale upstream partitions of the open month (and of the "
        "previous month until it is published), then the rollup once its inputs are complete."
    ),
)
def investor_catchup(context: dg.SensorEvaluationContext, lake: LakeResource) -> dg.SensorResult:
    now = dt.datetime.now(dt.UTC)
    requests = plan_catchup(lake.lake, context.instance, context.repository_def.asset_graph, now)
    return dg.SensorResult(run_requests=requests, cursor=now.isoformat())
