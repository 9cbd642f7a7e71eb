"""investor pipeline: the executive/investor rollup on Spark (assets, checks, catch-up sensor).

Import stays cheap: no JVM starts here (the ``pyspark`` resource is lazy) and no data is read.
"""

import dagster as dg

from pacific_assets.completeness_source import CompletenessSource
from pacific_assets.investor.assets import (
    INVESTOR_RESTATEMENTS,
    ROLLUP_INPUT_STATUS,
    executive_weekly,
    investor_rollup,
)
from pacific_assets.investor.catchup import INVESTOR_SCHEDULES, INVESTOR_SENSORS
from pacific_assets.investor.spark import spark_resource_from_env

#: The SLA check's completeness record: the rollup's own verdict on its inputs (present, fresh,
#: complete, checked) per period (docs/investor.md, docs/operations.md §2).
COMPLETENESS_SOURCE = CompletenessSource(None, "is_complete", "incomplete_reason")

defs = dg.Definitions(
    assets=[investor_rollup, executive_weekly, ROLLUP_INPUT_STATUS, INVESTOR_RESTATEMENTS],
    schedules=INVESTOR_SCHEDULES,
    sensors=INVESTOR_SENSORS,
    resources={"pyspark": spark_resource_from_env()},
).map_asset_specs(func=COMPLETENESS_SOURCE.declare)
