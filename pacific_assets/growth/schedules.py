"""When the growth assets run: each grain on its own clock, late events through the sensor.

- ``growth_daily_status_schedule`` (every day 01:00 UTC): the status history and yesterday's
  daily account facts. Daily facts feed the investor and profit pipelines too, so they are kept
  current every day, not only at the end of the week.
- ``growth_weekly_schedule`` (Monday 04:00 UTC): ``account_growth`` for the Monday week that just
  closed — the runbook's "latest account statuses by end of week"; the SLA deadline is Monday
  09:00 UTC (freshness policy in operations.policies), which leaves a re-run in the morning.
- ``growth_monthly_schedule`` (the 1st, 05:00 UTC): ``account_growth_monthly`` for the month
  that just closed; its SLA deadline is the 2nd, 09:00 UTC (growth's monthly-grain rule).

Whether the closed week (month) is in by its deadline, with all its days of account facts, is
checked hourly by the central ``newest_expected_partition`` check (operations), not here.

Why three schedules and not one: a run holds one partition grid (Dagster cannot put daily,
weekly and monthly partitions in one run) and a schedule cannot launch a multi-grain backfill.
The weekly and monthly runs read daily facts built hours earlier; if those are missing the run
fails naming the missing days. CRM data staged after the daily run (late events, a late export)
is picked up by the ``growth_late_crm_events`` sensor, which rebuilds every affected grain.
"""

import dagster as dg

from pacific_assets.growth.assets import DAILY, HISTORY, MONTHLY, WEEKLY

growth_status_job = dg.define_asset_job(
    "growth_status_job",
    selection=dg.AssetSelection.assets(HISTORY, DAILY),
    description="Replays the CRM events into the status history and builds the daily account "
    "facts of the selected days (one run for any range).",
)
growth_weekly_job = dg.define_asset_job(
    "growth_weekly_job",
    selection=dg.AssetSelection.assets(WEEKLY),
    description="account_growth for the selected Monday weeks, from the daily account facts.",
)
growth_monthly_job = dg.define_asset_job(
    "growth_monthly_job",
    selection=dg.AssetSelection.assets(MONTHLY),
    description="account_growth_monthly for the selected months, from the daily account facts.",
)

growth_daily_status_schedule = dg.build_schedule_from_partitioned_job(
    growth_status_job,
    name="growth_daily_status_schedule",
    hour_of_day=1,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every day 01:00 UTC: status history and yesterday's daily account facts.",
)
growth_weekly_schedule = dg.build_schedule_from_partitioned_job(
    growth_weekly_job,
    name="growth_weekly_schedule",
    day_of_week=1,
    hour_of_day=4,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="End of week (Monday 04:00 UTC): account_growth for the Monday week that just "
    "closed; SLA deadline Monday 09:00 UTC.",
)
growth_monthly_schedule = dg.build_schedule_from_partitioned_job(
    growth_monthly_job,
    name="growth_monthly_schedule",
    day_of_month=1,
    hour_of_day=5,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="The 1st, 05:00 UTC: account_growth_monthly for the month that just closed.",
)

GROWTH_JOBS = [growth_status_job, growth_weekly_job, growth_monthly_job]
GROWTH_SCHEDULES = [growth_daily_status_schedule, growth_weekly_schedule, growth_monthly_schedule]
