"""experiments pipeline: the A/B unit-level table and the weekly experiment read-out.

Assets: ``ab_unit_daily`` (daily, ``ab_unit_daily_schedule``; rebuilt when its engagement or
revenue day changes), ``ab_unit_covariates`` (daily by assignment day, same schedule: each unit's
pre-period covariates) and ``experiment_results`` (weekly, Monday; ``experiments_weekly_schedule``).
Resource ``pseudonymizer`` holds the key for user-id pseudonyms (``PACIFIC_PSEUDONYM_KEY``).
See docs/experiments.md.
"""

import dagster as dg

from pacific_assets.completeness_source import CompletenessSource
from pacific_assets.experiments.ab_unit_daily import ab_unit_daily
from pacific_assets.experiments.covariates import ab_unit_covariates
from pacific_assets.experiments.pseudonymize import pseudonymizer_from_env
from pacific_assets.experiments.results import experiment_results
from pacific_assets.experiments.schedules import EXPERIMENT_SCHEDULES, EXPERIMENT_SENSORS

#: The SLA check's completeness record: a week's results are there or not; the SRM check judges
#: them (docs/experiments.md, docs/operations.md §2).
COMPLETENESS_SOURCE = CompletenessSource.presence()

defs = dg.Definitions(
    assets=[ab_unit_daily, ab_unit_covariates, experiment_results],
    schedules=EXPERIMENT_SCHEDULES,
    sensors=EXPERIMENT_SENSORS,
    resources={"pseudonymizer": pseudonymizer_from_env()},
).map_asset_specs(func=COMPLETENESS_SOURCE.declare)
