"""When operations' own asset runs: the engagement rotation's weekly hand-off page."""

import dagster as dg

from pacific_assets.operations.handoff import engagement_oncall_handoff

_handoff_job = dg.define_asset_job(
    "engagement_oncall_handoff_job",
    selection=dg.AssetSelection.assets(engagement_oncall_handoff),
)

#: Monday 08:00 UTC, before the hand-off meeting: the page for the week that just ended.
engagement_oncall_handoff_schedule = dg.build_schedule_from_partitioned_job(
    _handoff_job,
    name="engagement_oncall_handoff_schedule",
    hour_of_day=8,
    default_status=dg.DefaultScheduleStatus.RUNNING,
)

JOBS = [_handoff_job]
SCHEDULES = [engagement_oncall_handoff_schedule]
