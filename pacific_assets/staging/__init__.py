"""Staging pipeline: the landing zone as external raw assets, and typed, validated stg_ tables.

Every landed source except clicks (staged by the engagement pipeline) gets ``raw_<source>`` and
``stg_<source>``; see docs/staging.md for the tables, the validation rules and the quarantine.
"""

import dagster as dg

from pacific_assets.staging.assets import RAW_SPECS, STAGING_ASSETS
from pacific_assets.staging.schedules import STAGING_SCHEDULES, STAGING_SENSORS

defs = dg.Definitions(
    assets=[*RAW_SPECS, *STAGING_ASSETS], schedules=STAGING_SCHEDULES, sensors=STAGING_SENSORS
)
