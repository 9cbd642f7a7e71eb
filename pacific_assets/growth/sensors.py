"""Late CRM events re-materialize exactly the growth partitions they change.

A CRM event lands in the ``stg_account_events`` partition of the day the CRM *recorded* it, but
it changes the account's status from the day it *took effect*. Status carries forward: the
status at the end of every later day is the result of replaying all events up to that day, so an
event effective on day E changes the daily facts of E and of every day after it — and therefore
the weeks and months containing them. Nothing before E changes.

The sensor watches new materializations of ``stg_account_events``, reads the events of the newly
staged partitions, takes the earliest effective date E among them, and requests one backfill of:

- ``account_status_history`` (unpartitioned: the replay of all events),
- ``account_status_daily`` from E to its newest materialized day,
- ``account_growth`` from the week containing E to its newest materialized week,
- ``account_growth_monthly`` from the month containing E to its newest materialized month.

Partitions never materialized are left to the schedules; events effective after the newest
materialized day need nothing (the next scheduled run includes them). One backfill (not one run
per asset) because the daemon then runs the grains in dependency order: daily before weekly.
"""

import datetime as dt

import dagster as dg
import polars as pl

from pacific_assets import partitions
from pacific_assets.dagster_compat import backfill_request
from pacific_assets.growth.assets import DAILY, HISTORY, MONTHLY, STG_EVENTS, WEEKLY
from pacific_assets.resources import LakeResource

SENSOR_NAME = "growth_late_crm_events"
_BATCH = 1000


def _newest(instance: dg.DagsterInstance, key: str) -> str | None:
    keys = instance.get_materialized_partitions(dg.AssetKey(key))
    return max(keys) if keys else None


def _latest_storage_id(instance: dg.DagsterInstance, key: str) -> int:
    records = instance.fetch_materializations(dg.AssetKey(key), limit=1).records
    return records[0].storage_id if records else 0


def affected_partitions(
    instance: dg.DagsterInstance, earliest_effective: dt.date
) -> dict[str, list[str]]:
    """Partition keys to rebuild per growth asset for an event effective on ``earliest_effective``.

    From the partition containing that day (clamped to the grid start) to the newest partition
    already materialized; empty lists when nothing materialized is affected.
    """
    first_day = max(earliest_effective, partitions.daily.start.date())
    out: dict[str, list[str]] = {}
    for key, pdef in (
        (DAILY, partitions.daily),
        (WEEKLY, partitions.weekly),
        (MONTHLY, partitions.monthly),
    ):
        newest = _newest(instance, key)
        containing = pdef.get_partition_key_for_timestamp(
            dt.datetime.combine(first_day, dt.time(), tzinfo=dt.UTC).timestamp()
        )
        if newest is None or containing > newest:
            out[key] = []
            continue
        out[key] = pdef.get_partition_keys_in_range(dg.PartitionKeyRange(containing, newest))
    return out


def request_for(asset_graph, affected: dict[str, list[str]], tags: dict[str, str]) -> dg.RunRequest:
    """One backfill: the history plus every affected partition (the daemon orders the grains)."""
    wanted = [(dg.AssetKey(HISTORY), None)] + [
        (dg.AssetKey(key), pk) for key, keys in affected.items() for pk in keys
    ]
    return backfill_request(wanted, asset_graph, tags)


@dg.sensor(
    name=SENSOR_NAME,
    minimum_interval_seconds=120,
    default_status=dg.DefaultSensorStatus.RUNNING,
    asset_selection=[HISTORY, DAILY, WEEKLY, MONTHLY],
    description=(
        "Late CRM events: when stg_account_events gets new rows, rebuilds the growth partitions "
        "from the earliest effective date among them to the newest materialized partition "
        "(status carries forward, so every later day depends on the event) — never the whole "
        "history."
    ),
)
def growth_late_crm_events(context: dg.SensorEvaluationContext, lake: LakeResource):
    instance = context.instance
    # First evaluation: staging that happened before the growth assets last ran is already in.
    after = int(context.cursor) if context.cursor else _latest_storage_id(instance, DAILY)
    staged: set[str] = set()
    newest_id = after
    while True:
        result = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=dg.AssetKey(STG_EVENTS), after_storage_id=newest_id),
            limit=_BATCH,
            ascending=True,
        )
        for record in result.records:
            newest_id = max(newest_id, record.storage_id)
            if record.partition_key:
                staged.add(record.partition_key)
        if not result.has_more:
            break
    cursor = str(newest_id)
    if not staged:
        return dg.SensorResult(skip_reason="no newly staged CRM events", cursor=cursor)

    events = lake.lake.read(STG_EVENTS, sorted(staged))
    if events.is_empty():
        return dg.SensorResult(
            skip_reason=f"{len(staged)} staged partition(s), no events in them", cursor=cursor
        )
    earliest = events.select(pl.col("effective_at").min().dt.date()).item()
    affected = affected_partitions(instance, earliest)
    if not affected[DAILY]:
        return dg.SensorResult(
            skip_reason=f"earliest new event effective {earliest}: after the newest built day, "
            "the schedules will include it",
            cursor=cursor,
        )
    context.log.info(
        f"{events.height} event(s) in {len(staged)} staged partition(s), earliest effective "
        f"{earliest}: rebuilding "
        + ", ".join(f"{k} {v[0]}..{v[-1]}" for k, v in affected.items() if v)
    )
    tags = {
        "pacific/trigger": SENSOR_NAME,
        "pacific/earliest_effective": earliest.isoformat(),
        "pacific/staged_partitions": ",".join(sorted(staged))[:200],
    }
    return dg.SensorResult(
        run_requests=[request_for(context.repository_def.asset_graph, affected, tags)],
        cursor=cursor,
    )
