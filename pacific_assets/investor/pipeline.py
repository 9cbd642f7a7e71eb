"""The investor pipeline's declaration: assets, schedules, policy, cadences (docs/investor.md).

Import stays cheap: no JVM starts here (the ``pyspark`` resource is lazy) and no data is read.
"""

import datetime as dt

import dagster as dg

from pacific_assets.completeness_source import CompletenessSource
from pacific_assets.investor.assets import (
    INVESTOR_RESTATEMENTS,
    ROLLUP_INPUT_STATUS,
    executive_weekly,
    investor_rollup,
)
from pacific_assets.investor.completeness import STATUS_TABLE
from pacific_assets.investor.publish import RESTATEMENTS_TABLE
from pacific_assets.investor.schedules import SCHEDULES, SENSORS
from pacific_assets.investor.spark import spark_resource_from_env
from pacific_assets.orchestration import monthly, weekly
from pacific_assets.pipeline_policy import AssetSla, Cadence, PipelinePolicy
from pacific_assets.registry import Pipeline
from pacific_assets.runbooks import load_runbook

PIPELINE = Pipeline(
    name="investor",
    defs=dg.Definitions(
        assets=[investor_rollup, executive_weekly, ROLLUP_INPUT_STATUS, INVESTOR_RESTATEMENTS],
        schedules=SCHEDULES,
        sensors=SENSORS,
        resources={"pyspark": spark_resource_from_env()},
    ),
    policy=PipelinePolicy(
        runbook=load_runbook("investor"),
        owners=("team:business-analytics", "team:data-engineering"),
        kinds=frozenset({"spark", "parquet"}),
        # Reports go out at month end: the previous month's pack must be in by the 5th.
        freshness=dg.FreshnessPolicy.cron(
            deadline_cron="0 9 5 * *", lower_bound_delta=dt.timedelta(days=28)
        ),
        sla_period=monthly,
        oncall_mode="page_last_week_of_month",
        oncall_roles=("investor_de",),
        queue="team:business-analytics",
        fix_sla="by_end_of_month",
        step_kinds={
            "Investor 3b": "check:*stale*",
            "Investor 3c": "check:*null*",
            "Investor 4a": "sla:*",
            "Investor 3a": "*",
        },
    ),
    asset_slas={
        # Records written by the rollups' own steps: as fresh as the rollups, whose SLA covers
        # them (one late run pages once, not once per table it writes).
        STATUS_TABLE: None,
        RESTATEMENTS_TABLE: None,
        # The Monday executive pack: last week's pack by Monday 12:00 UTC.
        "executive_weekly": AssetSla(
            dg.FreshnessPolicy.cron(
                deadline_cron="0 12 * * 1", lower_bound_delta=dt.timedelta(days=7)
            ),
            weekly,
        ),
    },
    # The rollup's own verdict on its inputs (present, fresh, complete, checked) per period
    # (docs/investor.md, docs/operations.md §2).
    completeness=CompletenessSource(None, "is_complete", "incomplete_reason"),
    cadences=(
        # After profit: on the 3rd (deadline: the 5th, 09:00).
        Cadence("monthly investor close", "monthly", "investor_rollup"),
        # Monday morning pack for the week that just ended (deadline: Monday 12:00).
        Cadence("Monday executive pack", "weekly", "executive_weekly"),
    ),
)
