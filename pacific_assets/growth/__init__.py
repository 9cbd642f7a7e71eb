"""Growth pipeline: CRM events -> status history -> daily account facts -> weekly/monthly growth.

Assets (``assets.py``), the lifecycle state machine (``lifecycle.py``), SQL (``sql/``), checks
(``checks.py``), schedules (``schedules.py``) and the late-CRM-event sensor (``sensors.py``).
Definitions and decisions: docs/growth.md.
"""

import dagster as dg

from pacific_assets.growth.assets import GROWTH_ASSETS
from pacific_assets.growth.checks import newest_closed_week_present
from pacific_assets.growth.schedules import GROWTH_JOBS, GROWTH_SCHEDULES
from pacific_assets.growth.sensors import growth_late_crm_events

defs = dg.Definitions(
    assets=GROWTH_ASSETS,
    asset_checks=[newest_closed_week_present],
    jobs=GROWTH_JOBS,
    schedules=GROWTH_SCHEDULES,
    sensors=[growth_late_crm_events],
)
