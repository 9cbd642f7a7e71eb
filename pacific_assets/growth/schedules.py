"""When the growth assets run: each grain on its own clock, late CRM events as they are staged.

- ``growth_daily_status_schedule`` (every day 01:30 UTC, after staging at 01:00): the status
  history and yesterday's daily account facts. Daily facts feed the investor and profit
  pipelines too, so they are kept current every day, not only at the end of the week.
- ``growth_weekly_schedule`` (Monday 04:00 UTC): ``account_growth`` for the Monday week that just
  closed — the runbook's "latest account statuses by end of week"; the SLA deadline is Monday
  09:00 UTC (freshness policy in growth/pipeline.py), which leaves a re-run in the morning.
- ``growth_monthly_schedule`` (the 1st, 05:00 UTC): ``account_growth_monthly`` for the month that
  just closed; its SLA deadline is the 2nd, 09:00 UTC.
- ``growth_late_crm_events`` (sensor): a CRM event lands in the partition of the day the CRM
  *recorded* it but changes the account's status from the day it *took effect*; status carries
  forward, so the history is rebuilt and exactly the days from that date on (and the weeks and
  months holding them) become stale — the sensor rebuilds them, one grain after the other.

Whether the closed week (month) is in by its deadline is checked by the central
``newest_expected_partition`` check (operations), not here. Three schedules, not one: a run holds
one partition grid, and the weekly and monthly runs read the daily facts built before them.
"""

from pacific_assets.growth.assets import DAILY, HISTORY, MONTHLY, WEEKLY
from pacific_assets.orchestration import cadence_schedule, keeper_sensor

growth_daily_status_schedule = cadence_schedule(
    "growth_daily_status_schedule",
    [HISTORY, DAILY],
    "30 1 * * *",
    "Every day 01:30 UTC: the status history (when CRM events changed) and yesterday's daily "
    "account facts.",
)
growth_weekly_schedule = cadence_schedule(
    "growth_weekly_schedule",
    [WEEKLY],
    "0 4 * * 1",
    "End of week (Monday 04:00 UTC): account_growth for the Monday week that just closed; SLA "
    "deadline Monday 09:00 UTC.",
)
growth_monthly_schedule = cadence_schedule(
    "growth_monthly_schedule",
    [MONTHLY],
    "0 5 1 * *",
    "The 1st, 05:00 UTC: account_growth_monthly for the month that just closed.",
)
growth_late_crm_events = keeper_sensor(
    "growth_late_crm_events",
    [HISTORY, DAILY, WEEKLY, MONTHLY],
    "Late CRM events: when staged events change the status history, rebuilds the days from the "
    "earliest date they take effect (status carries forward) and the weeks and months holding "
    "them — never the whole history.",
    minimum_interval_seconds=120,
)

SCHEDULES = [growth_daily_status_schedule, growth_weekly_schedule, growth_monthly_schedule]
SENSORS = [growth_late_crm_events]
