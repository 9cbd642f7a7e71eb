"""One schedule per business cadence — declared by its pipeline, checked here.

The cadences come from the runbooks (daily engagement, end-of-week growth, monthly profit close,
monthly investor close, the Monday executive pack, weekly experiment results); each pipeline
declares its own in its ``pipeline.py`` (``Pipeline.cadences``), and its cadence schedules next
to its assets with ``automation.cadence_schedule``, which writes the cron and the assets it
builds into the schedule's metadata (``pacific/due_cron``, ``pacific/assets``). Operations creates no schedule: it reads that metadata and
``cadence_coverage`` says which schedules cover each cadence, so a test can hold the merged
definitions to exactly one per cadence (docs/operations.md §3).

A cadence is "covered" by a schedule of the same period (daily/weekly/monthly, read from its
declared cron) that builds one of its assets (a pipeline may start its chain elsewhere: the
profit close starts with the month's daily revenue facts).
"""

from __future__ import annotations

from collections.abc import Iterable

import dagster as dg

from pacific_assets.orchestration import declared_cadence
from pacific_assets.pipeline_policy import Cadence, Period


def cron_period(cron: str) -> Period:
    """ "hourly", "daily", "weekly" or "monthly", read from a five-field cron string."""
    _minute, hour, day_of_month, _month, day_of_week = cron.split()
    if day_of_week != "*":
        return "weekly"
    if day_of_month != "*":
        return "monthly"
    return "daily" if hour.isdigit() else "hourly"


def cadence_coverage(
    schedules: Iterable[dg.ScheduleDefinition], cadences: Iterable[Cadence]
) -> dict[str, list[str]]:
    """For each cadence label, the names of the declared cadence schedules that cover it.

    Only schedules built with ``automation.cadence_schedule`` count: their metadata is what every
    sensor reads as the partitions' due time, so a schedule without it would not make its
    partitions due.
    """
    declared = {}
    for schedule in schedules:
        cadence = declared_cadence(schedule)
        if cadence is not None:
            cron, assets = cadence
            declared[schedule.name] = (cron_period(cron), set(assets))
    return {
        c.label: sorted(
            name
            for name, (period, assets) in declared.items()
            if period == c.period and assets & c.covering_assets
        )
        for c in cadences
    }
