"""experiments pipeline: the A/B unit-level table and the weekly experiment read-out.

Assets: ``ab_unit_daily`` (daily) and ``experiment_results`` (weekly, Monday). Resource
``pseudonymizer`` holds the key for user-id pseudonyms (``PACIFIC_PSEUDONYM_KEY``).
"""

import dagster as dg

from pacific_assets.experiments.ab_unit_daily import ab_unit_daily
from pacific_assets.experiments.pseudonymize import pseudonymizer_from_env
from pacific_assets.experiments.results import experiment_results

defs = dg.Definitions(
    assets=[ab_unit_daily, experiment_results],
    resources={"pseudonymizer": pseudonymizer_from_env()},
)
