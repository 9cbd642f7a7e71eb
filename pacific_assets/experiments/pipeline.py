"""The experiments pipeline's declaration: assets, schedules, policy, cadence
(docs/experiments.md)."""

import datetime as dt

import dagster as dg

from pacific_assets.completeness_source import CompletenessSource
from pacific_assets.experiments.ab_unit_daily import ab_unit_daily
from pacific_assets.experiments.covariates import ab_unit_covariates
from pacific_assets.experiments.pseudonymize import pseudonymizer_from_env
from pacific_assets.experiments.results import experiment_results
from pacific_assets.experiments.schedules import SCHEDULES, SENSORS
from pacific_assets.pipeline_policy import Cadence, PipelinePolicy
from pacific_assets.registry import Pipeline
from pacific_assets.runbooks import load_runbook

PIPELINE = Pipeline(
    name="experiments",
    defs=dg.Definitions(
        assets=[ab_unit_daily, ab_unit_covariates, experiment_results],
        schedules=SCHEDULES,
        sensors=SENSORS,
        resources={"pseudonymizer": pseudonymizer_from_env()},
    ),
    policy=PipelinePolicy(
        runbook=load_runbook("experiments"),
        owners=("team:data-science", "team:data-engineering"),
        kinds=frozenset({"duckdb", "parquet"}),
        freshness=dg.FreshnessPolicy.time_window(
            fail_window=dt.timedelta(days=31), warn_window=dt.timedelta(days=7)
        ),
        oncall_mode="queue",
        oncall_roles=(),
        queue="team:data-science",
        step_kinds={"A/B 1": "check:*srm*", "A/B 2": "*"},
    ),
    # A week's results are there or not; the SRM check judges them (docs/experiments.md,
    # docs/operations.md §2).
    completeness=CompletenessSource.presence(),
    cadences=(
        # Weekly experiment results, Tuesday morning (warn after 7 days).
        Cadence("weekly experiments", "weekly", "experiment_results"),
    ),
)
