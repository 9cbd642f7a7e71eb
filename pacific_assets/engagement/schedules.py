"""When engagement runs: ingestion as batches land, the daily chain at 02:30, late data as it lands.

- ``clicks_ingest_sensor`` runs ``raw_clicks`` (Kafka -> landing + manifest, or registering the
  batches the simulator landed) when there is something to ingest: unregistered batch files, or
  with Kafka configured, messages beyond the group's committed offsets (the run key names the
  offsets and the landed batches, so a run that died after landing a batch is followed by
  another at once; an unchanged backlog is retried every 15 minutes, and an unreachable broker
  gets a drain run every 15 minutes that says why it failed).
- ``engagement_daily_schedule`` (02:30 UTC) builds yesterday's chain once its clicks and the
  directory are staged.
- ``clicks_late_data_sensor`` rebuilds exactly the days whose landed batches changed (late or
  duplicate clicks), then what reads them: the day's user and account tables, and the
  completeness verdict — hence engagement_hours — of the same weekday in the next weeks (their
  outage baseline includes the day). A day's verdict is also re-judged once, when the day is 48 h
  old (settled). All of it is decided from the lake's lineage (``pacific_assets.orchestration.automation``),
  never from a cursor: a fresh instance over an up-to-date lake requests nothing.
"""

from __future__ import annotations

import dagster as dg

from pacific_assets import settings
from pacific_assets.engagement.assets import DAILY_ASSETS, raw_clicks
from pacific_assets.engagement.ingest import ClicksKafkaResource, kafka_backlog
from pacific_assets.engagement.landing import ClickLanding
from pacific_assets.orchestration import cadence_schedule, clock, digest, keeper_sensor
from pacific_assets.resources import LakeResource

DAILY_TABLES = [a.key.to_user_string() for a in DAILY_ASSETS]
#: With Kafka configured, an unchanged backlog (or an unreachable broker) is retried this often.
KAFKA_DRAIN_SECONDS = 900
#: How often the two clicks sensors evaluate (PACIFIC_CLICKS_SENSOR_SECONDS; the stack's
#: end-to-end test uses a few seconds so that a day of production fits in minutes). Read at
#: import: Dagster takes a sensor's interval when the definitions load.
SENSOR_SECONDS = settings.load().clicks_sensor_seconds

raw_clicks_job = dg.define_asset_job(
    "clicks_ingest_job",
    selection=dg.AssetSelection.assets(raw_clicks),
    description="Drain Kafka (or register the batches the simulator landed).",
)


@dg.sensor(
    name="clicks_ingest_sensor",
    job=raw_clicks_job,
    minimum_interval_seconds=SENSOR_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Runs raw_clicks when batch files landed that the manifest does not list yet, and with "
        "Kafka configured when the topic holds messages beyond the group's committed offsets. "
        "Nothing landed, nothing runs."
    ),
)
def clicks_ingest_sensor(
    context: dg.SensorEvaluationContext, lake: LakeResource, clicks_kafka: ClicksKafkaResource
):
    landing = ClickLanding(lake.lake.landing)
    pending = landing.unregistered_batches()
    if pending:
        return dg.RunRequest(
            run_key=f"register:{digest(p.name for p in pending)}",
            tags={"pacific/trigger": "clicks_ingest_sensor", "pacific/why": "landed batches"},
        )
    if not clicks_kafka.enabled:
        return dg.SkipReason("no unregistered batch files (and no Kafka configured)")
    bucket = int(clock.now().timestamp()) // KAFKA_DRAIN_SECONDS
    try:
        backlog = kafka_backlog(clicks_kafka)
    except Exception as exc:  # the run fails loudly with the broker's error; retried per bucket
        return dg.RunRequest(
            run_key=f"kafka:{bucket}:unreachable",
            tags={
                "pacific/trigger": "clicks_ingest_sensor",
                "pacific/why": f"kafka drain (backlog unknown: {str(exc)[:200]})",
            },
        )
    behind = {p: (begin, high) for p, (begin, high) in backlog.items() if high > begin}
    if not behind:
        return dg.SkipReason(f"topic {clicks_kafka.topic} drained: committed = high watermark")
    # The state answered: the offsets to drain and the batches landed so far (a run killed after
    # landing a batch and before committing changes the latter, so the next tick drains again).
    state = digest(
        [
            *(f"{p}:{b}:{h}" for p, (b, h) in sorted(behind.items())),
            str(landing.next_batch_number()),
        ]
    )
    return dg.RunRequest(
        run_key=f"kafka:{bucket}:{state}",
        tags={
            "pacific/trigger": "clicks_ingest_sensor",
            "pacific/why": f"kafka backlog {sum(h - b for b, h in behind.values())} messages",
        },
    )


engagement_daily_schedule = cadence_schedule(
    "engagement_daily_schedule",
    DAILY_TABLES,
    "30 2 * * *",
    "02:30 UTC, the daily engagement cadence: yesterday's chain (stg_clicks -> "
    "engagement_hours*), and the re-judged verdict of the day that just settled (48 h old).",
)

clicks_late_data_sensor = keeper_sensor(
    "clicks_late_data_sensor",
    DAILY_TABLES,
    "Late and duplicate clicks: rebuilds exactly the days whose landed batches changed, then "
    "what reads them (the day, and the same weekday of the following weeks for the outage "
    "baseline), one layer at a time; re-judges a day once it is 48 h old.",
    minimum_interval_seconds=SENSOR_SECONDS,
)

JOBS = [raw_clicks_job]
SCHEDULES = [engagement_daily_schedule]
SENSORS = [clicks_ingest_sensor, clicks_late_data_sensor]
