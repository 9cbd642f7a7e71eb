"""Growth pipeline: CRM events -> status history -> daily account facts -> weekly/monthly growth.

Assets and their checks (``assets.py``), the lifecycle state machine (``lifecycle.py``), SQL
(``sql/``), schedules and the late-CRM-event sensor (``schedules.py``). The SLA
check (the closed week / month is in, with all its days of account facts) is the central
``newest_expected_partition`` check from operations. Definitions and decisions: docs/growth.md.
"""

import dagster as dg

from pacific_assets.completeness_source import CompletenessSource
from pacific_assets.growth.assets import GROWTH_ASSETS
from pacific_assets.growth.schedules import GROWTH_SCHEDULES, GROWTH_SENSORS

#: The SLA check's completeness record: a week (month) of growth is only as good as its days of
#: account facts, so every day of ``account_status_daily`` must be in; past the deadline a gap is
#: an ERROR (docs/growth.md, docs/operations.md §2).
COMPLETENESS_SOURCE = CompletenessSource(
    "account_status_daily", flag_col=None, reason_col=None, error_when_overdue=True
)

defs = dg.Definitions(
    assets=GROWTH_ASSETS,
    schedules=GROWTH_SCHEDULES,
    sensors=GROWTH_SENSORS,
).map_asset_specs(func=COMPLETENESS_SOURCE.declare)
