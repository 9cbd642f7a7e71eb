"""When the experiment pipeline runs.

- ``ab_unit_daily_schedule`` (every day, 03:00 UTC): yesterday's unit rows and the covariates
  of the units assigned yesterday, after the daily engagement chain (02:30) and the revenue
  facts (02:00).
- ``experiments_weekly_schedule`` runs ``experiment_results`` for the Monday week that just
  closed, on Tuesday 06:00 UTC: the week's last day (Sunday) is inside the engagement 48 h
  late-data window until Tuesday 00:00, so Tuesday morning is the first time the week is
  complete. SLA: weekly preferred (warn after 7 days), monthly acceptable (fail after 31).
- ``experiments_follow_facts`` (sensor): a unit's row on day d reads its engagement and revenue
  of day d, and its covariates those of the 14 days before its assignment day, so when late
  data rebuilds an engagement or revenue day D, day D of ``ab_unit_daily`` and the covariates of
  the units assigned on D+1..D+14 are rebuilt, then the weekly results that read those.
"""

from pacific_assets.orchestration import cadence_schedule, keeper_sensor

AB_TABLE = "ab_unit_daily"
COVARIATES_TABLE = "ab_unit_covariates"
RESULTS_TABLE = "experiment_results"

ab_unit_daily_schedule = cadence_schedule(
    "ab_unit_daily_schedule",
    [AB_TABLE, COVARIATES_TABLE],
    "0 3 * * *",
    "03:00 UTC: yesterday's ab_unit_daily rows and the covariates of the units assigned "
    "yesterday, after engagement (02:30) and revenue (02:00).",
)
experiments_weekly_schedule = cadence_schedule(
    "experiments_weekly_schedule",
    [RESULTS_TABLE],
    "0 6 * * 2",
    "Tuesday 06:00 UTC: experiment_results for the Monday week that just closed.",
)
experiments_follow_facts = keeper_sensor(
    "experiments_follow_facts",
    [AB_TABLE, COVARIATES_TABLE, RESULTS_TABLE],
    "Rebuilds the ab_unit_daily days and ab_unit_covariates assignment days (and the weeks of "
    "experiment_results) whose engagement, revenue, assignments or directory inputs changed.",
    minimum_interval_seconds=120,
)

SCHEDULES = [ab_unit_daily_schedule, experiments_weekly_schedule]
SENSORS = [experiments_follow_facts]
