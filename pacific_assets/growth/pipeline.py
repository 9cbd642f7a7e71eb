"""The growth pipeline's declaration: assets, schedules, policy, cadence (docs/growth.md)."""

import datetime as dt

import dagster as dg

from pacific_assets.completeness_source import CompletenessSource
from pacific_assets.growth.assets import GROWTH_ASSETS
from pacific_assets.growth.schedules import SCHEDULES, SENSORS
from pacific_assets.orchestration import monthly, weekly
from pacific_assets.pipeline_policy import AssetSla, Cadence, PipelinePolicy
from pacific_assets.registry import Pipeline
from pacific_assets.runbooks import load_runbook

PIPELINE = Pipeline(
    name="growth",
    defs=dg.Definitions(assets=GROWTH_ASSETS, schedules=SCHEDULES, sensors=SENSORS),
    policy=PipelinePolicy(
        runbook=load_runbook("growth"),
        owners=("team:accounts", "team:data-engineering"),
        kinds=frozenset({"duckdb", "parquet"}),
        # Latest statuses by end of week: the closed Monday week is in by Monday 09:00 UTC.
        freshness=dg.FreshnessPolicy.cron(
            deadline_cron="0 9 * * 1", lower_bound_delta=dt.timedelta(days=7)
        ),
        sla_period=weekly,
        # Monthly tables close with their month (by the 2nd, 09:00 UTC), not every Monday: under
        # the weekly cron they would look stale three weeks of every month.
        grain_slas={
            "monthly": AssetSla(
                dg.FreshnessPolicy.cron(
                    deadline_cron="0 9 2 * *", lower_bound_delta=dt.timedelta(days=28)
                ),
                monthly,
            )
        },
        oncall_mode="queue",
        oncall_roles=(),
        queue="team:accounts",
        step_kinds={"Growth 4a": "check:*imput*", "Growth 5a": "sla:*", "Growth 6a": "*"},
    ),
    # A week (month) of growth is only as good as its days of account facts, so every day of
    # ``account_status_daily`` must be in; past the deadline a gap is an ERROR (docs/growth.md,
    # docs/operations.md §2).
    completeness=CompletenessSource(
        "account_status_daily", flag_col=None, reason_col=None, error_when_overdue=True
    ),
    cadences=(
        # The closed Monday week, before the Monday 09:00 SLA deadline.
        Cadence("end-of-week growth", "weekly", "account_growth"),
    ),
)
