"""When the experiment pipeline runs.

- ``ab_unit_daily`` has no schedule: it follows its daily facts through its automation condition
  (``FOLLOW_DAILY_FACTS``): the daily engagement run, the late-data sensor's re-runs and the
  profit month close each rebuild the ab_unit_daily days they touched.
- ``experiments_weekly_schedule`` runs ``experiment_results`` for the Monday week that just
  closed, on Tuesday 06:00 UTC: the week's last day (Sunday) is inside the engagement 48 h
  late-data window until Tuesday 00:00, so Tuesday morning is the first time the week is
  complete. SLA: weekly preferred (warn after 7 days), monthly acceptable (fail after 31).
"""

import dagster as dg

from pacific_assets.experiments.results import experiment_results

experiment_results_job = dg.define_asset_job(
    "experiment_results_job",
    selection=dg.AssetSelection.assets(experiment_results),
    description="The weekly A/B read-out (experiment_results) for one or more Monday weeks.",
)

experiments_weekly_schedule = dg.build_schedule_from_partitioned_job(
    experiment_results_job,
    name="experiments_weekly_schedule",
    description="Tuesday 06:00 UTC: experiment_results for the Monday week that just closed.",
    day_of_week=2,
    hour_of_day=6,
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
