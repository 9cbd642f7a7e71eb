"""investor pipeline: the executive/investor rollup on Spark (assets, checks, catch-up sensor).

Import stays cheap: no JVM starts here (the ``pyspark`` resource is lazy) and no data is read.
"""

import dagster as dg

from pacific_assets.investor.assets import (
    INVESTOR_RESTATEMENTS,
    ROLLUP_INPUT_STATUS,
    executive_weekly,
    investor_rollup,
)
from pacific_assets.investor.catchup import INVESTOR_SCHEDULES, INVESTOR_SENSORS
from pacific_assets.investor.spark import spark_resource_from_env

defs = dg.Definitions(
    assets=[investor_rollup, executive_weekly, ROLLUP_INPUT_STATUS, INVESTOR_RESTATEMENTS],
    schedules=INVESTOR_SCHEDULES,
    sensors=INVESTOR_SENSORS,
    resources={"pyspark": spark_resource_from_env()},
)
