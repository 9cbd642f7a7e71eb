"""Engagement pipeline (owners: frontend; secondary: data engineering). See docs/engagement.md.

Clicks from Kafka (or the simulator) -> landing batches + manifest -> stg_clicks (de-duplicated,
by event date) -> user_engagement_daily -> engagement_hours / engagement_hours_by_team, with
engagement_completeness flagging Kafka outages. Resources: "lake" (shared) and "clicks_kafka".
"""

import dagster as dg

from pacific_assets.completeness_source import CompletenessSource
from pacific_assets.engagement.assets import ASSETS
from pacific_assets.engagement.checks import newest_event_within_48h
from pacific_assets.engagement.ingest import kafka_resource_from_env
from pacific_assets.engagement.sensors import (
    clicks_ingest_sensor,
    clicks_late_data_sensor,
    engagement_daily_schedule,
    raw_clicks_job,
)

#: The SLA check's completeness record: a day is complete when ``engagement_completeness`` says so
#: (a Kafka outage flags it, with the reason; docs/engagement.md, docs/operations.md §2).
COMPLETENESS_SOURCE = CompletenessSource("engagement_completeness", "is_complete", "reason")

defs = dg.Definitions(
    assets=ASSETS,
    asset_checks=[newest_event_within_48h],
    jobs=[raw_clicks_job],
    schedules=[engagement_daily_schedule],
    sensors=[clicks_ingest_sensor, clicks_late_data_sensor],
    resources={"clicks_kafka": kafka_resource_from_env()},
).map_asset_specs(func=COMPLETENESS_SOURCE.declare)
