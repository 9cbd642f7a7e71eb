"""Growth pipeline: CRM events -> status history -> daily account facts -> weekly/monthly growth.

Assets and their checks (``assets.py``), the lifecycle state machine (``lifecycle.py``), SQL
(``sql/``), schedules (``schedules.py``) and the late-CRM-event sensor (``sensors.py``). The SLA
check (the closed week / month is in, with all its days of account facts) is the central
``newest_expected_partition`` check from operations. Definitions and decisions: docs/growth.md.
"""

import dagster as dg

from pacific_assets.growth.assets import GROWTH_ASSETS
from pacific_assets.growth.schedules import GROWTH_JOBS, GROWTH_SCHEDULES
from pacific_assets.growth.sensors import growth_late_crm_events

defs = dg.Definitions(
    assets=GROWTH_ASSETS,
    jobs=GROWTH_JOBS,
    schedules=GROWTH_SCHEDULES,
    sensors=[growth_late_crm_events],
)
