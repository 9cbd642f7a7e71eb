"""When the rollups run: month close on the 3rd, the Monday pack, and the runbook's "queue
backfills periodically" as a sensor that keeps both up to date.

- ``investor_monthly_close_schedule`` (the 3rd, 06:00 UTC, after the profit close on the 2nd):
  the closed month's rollup. A month is published when its inputs are complete; if they are not
  (no accountant filing yet, an outage day), the rollup says which and why.
- ``executive_weekly_schedule`` (Monday 07:00 UTC, deadline 12:00): last week's pack.
- ``investor_catchup`` (hourly): a rollup period is rebuilt as soon as one of its inputs changed
  (late data, a filing, a correction) and every input it reads is settled — an unpublished month
  is then published if complete; a published month's changed figures are recorded as a pending
  restatement (``investor_restatements``) and the restatement check fails until approved. Stale or
  missing *inputs* are rebuilt by their own pipelines' sensors; days flagged incomplete (an
  outage) are not re-run: re-running cannot bring lost clicks back.
"""

from __future__ import annotations

from pacific_assets.investor.inputs import MONTHLY, WEEKLY
from pacific_assets.orchestration import cadence_schedule, keeper_sensor

investor_monthly_close_schedule = cadence_schedule(
    "investor_monthly_close_schedule",
    [MONTHLY.asset],
    "0 6 3 * *",
    "The 3rd, 06:00 UTC: the closed month's investor rollup (after the profit close on the 2nd); "
    "deadline the 5th, 09:00 UTC.",
)
executive_weekly_schedule = cadence_schedule(
    "executive_weekly_schedule",
    [WEEKLY.asset],
    "0 7 * * 1",
    "Monday 07:00 UTC: the executive pack for the Monday week that just ended (deadline 12:00).",
)
investor_catchup = keeper_sensor(
    "investor_catchup",
    [MONTHLY.asset, WEEKLY.asset],
    "Rebuilds a rollup period when one of its inputs changed and all of them are settled: "
    "publishes complete months, records restatements of published ones.",
    minimum_interval_seconds=3600,
)

SCHEDULES = [investor_monthly_close_schedule, executive_weekly_schedule]
SENSORS = [investor_catchup]
