"""When staging runs: each export's partition once it is due, late and corrected files as they land.

Sources land on a known cadence (docs/staging.md): daily exports shortly after midnight UTC, the
ops and HR files on the 1st of the next month, the accountant's filing around the 10th. The
schedules stage each period when it is due (an empty partition when nothing landed: "nothing
happened" is a fact too); ``landing_sensor`` restages a partition as soon as its landed files
differ from the ones it was built from (a late export, a correction file, a late filing).
"""

from __future__ import annotations

from pacific_assets.orchestration import cadence_schedule, keeper_sensor
from pacific_assets.staging.assets import SOURCES, STAGED_SOURCES

_BY_GRAIN = {
    grain: [SOURCES[s].staging_table for s in STAGED_SOURCES if SOURCES[s].grain == grain]
    for grain in ("daily", "monthly", "none")
}
_FILINGS = SOURCES["filings"].staging_table

staging_daily_schedule = cadence_schedule(
    "staging_daily_schedule",
    [*_BY_GRAIN["daily"], *_BY_GRAIN["none"]],
    "0 1 * * *",
    "01:00 UTC: yesterday's daily exports (billing, CRM, directory, assignments), after they "
    "landed at 00:10-00:40; the experiment registry when it changed.",
)
staging_monthly_schedule = cadence_schedule(
    "staging_monthly_schedule",
    [t for t in _BY_GRAIN["monthly"] if t != _FILINGS],
    "0 7 1 * *",
    "The 1st, 07:00 UTC: the closed month's ops expenses and salaries (landed at 06:00).",
)
filings_schedule = cadence_schedule(
    "filings_schedule",
    [_FILINGS],
    "0 13 10 * *",
    "The 10th, 13:00 UTC: the accountant's filing of the closed month (lands around noon).",
)
landing_sensor = keeper_sensor(
    "landing_sensor",
    [SOURCES[s].staging_table for s in STAGED_SOURCES],
    "Restages a partition as soon as its landed files differ from those it was built from (a "
    "late export, a correction, a late filing), and stages any period its schedule left behind.",
)

SCHEDULES = [staging_daily_schedule, staging_monthly_schedule, filings_schedule]
SENSORS = [landing_sensor]
