"""The engagement pipeline's declaration: assets, schedules, policy, cadence (docs/engagement.md).

Its click steps write the quarantine table too (marked here; the quarantine asset is staging's).
"""

import datetime as dt

import dagster as dg

from pacific_assets.completeness_source import CompletenessSource
from pacific_assets.engagement.assets import ASSETS, QUARANTINE_WRITERS
from pacific_assets.engagement.checks import newest_click_verdict, newest_event_within_48h
from pacific_assets.engagement.ingest import kafka_resource_from_env
from pacific_assets.engagement.schedules import JOBS, SCHEDULES, SENSORS
from pacific_assets.pipeline_policy import Cadence, PipelinePolicy
from pacific_assets.registry import Pipeline
from pacific_assets.runbooks import load_runbook
from pacific_assets.storage.quarantine import writes_quarantine

PIPELINE = Pipeline(
    name="engagement",
    defs=dg.Definitions(
        assets=ASSETS,
        asset_checks=[newest_event_within_48h],
        jobs=JOBS,
        schedules=SCHEDULES,
        sensors=SENSORS,
        resources={"clicks_kafka": kafka_resource_from_env()},
    ).map_asset_specs(func=writes_quarantine(QUARANTINE_WRITERS)),
    policy=PipelinePolicy(
        runbook=load_runbook("engagement"),
        owners=("team:frontend", "team:data-engineering"),
        kinds=frozenset({"duckdb", "parquet"}),
        freshness=dg.FreshnessPolicy.time_window(
            fail_window=dt.timedelta(hours=48), warn_window=dt.timedelta(hours=36)
        ),
        oncall_mode="page",
        oncall_roles=("engagement_de", "engagement_swe_contact"),
        queue="team:data-engineering",
        fix_sla="within_1_week",
        step_kinds={
            "Engagement 3b": "check:*complete*",
            "Engagement 3a": "check:*late*",
            "Engagement 4a": "sla:*",
            "Engagement 5b": "*",
        },
    ),
    # A day is complete when ``engagement_completeness`` says so (a Kafka outage flags it, with
    # the reason; docs/engagement.md, docs/operations.md §2).
    completeness=CompletenessSource("engagement_completeness", "is_complete", "reason"),
    # its own SLA check, judged by operations' sla_checks_sensor like the generated ones
    sla_verdicts={
        dg.AssetCheckKey(dg.AssetKey("stg_clicks"), "newest_event_within_48h"): (
            newest_click_verdict
        )
    },
    cadences=(
        # Yesterday's clicks, early morning; late clicks are picked up by the late-data sensor.
        Cadence(
            "daily engagement",
            "daily",
            "engagement_hours",
            also_covered_by=("stg_clicks", "user_engagement_daily"),
        ),
    ),
)
