"""One schedule per business cadence — declared by its pipeline, checked here.

The cadences come from the runbooks: daily engagement, end-of-week growth, monthly profit close,
monthly investor close, the Monday executive pack, weekly experiment results. Each pipeline
declares its own cadence schedules next to its assets with ``automation.cadence_schedule``,
which writes the cron and the assets it builds into the schedule's metadata (``pacific/due_cron``,
``pacific/assets``). Operations creates no schedule: it reads that metadata and
``cadence_coverage`` says which schedules cover each cadence, so a test can hold the merged
definitions to exactly one per cadence (docs/operations.md §3).

A cadence is "covered" by a schedule of the same period (daily/weekly/monthly, read from its
declared cron) that builds one of its assets (a pipeline may start its chain elsewhere: the
profit close starts with the month's daily revenue facts).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import dagster as dg

from pacific_assets.automation import declared_cadence

Period = Literal["hourly", "daily", "weekly", "monthly"]


@dataclass(frozen=True)
class Cadence:
    label: str
    period: Period
    #: The asset the cadence is about (its pipeline's published table).
    key_asset: str
    #: Other assets whose schedule also covers the cadence (the first step of its chain).
    also_covered_by: tuple[str, ...] = ()

    @property
    def covering_assets(self) -> set[str]:
        return {self.key_asset, *self.also_covered_by}


CADENCES: tuple[Cadence, ...] = (
    # Yesterday's clicks, early morning; late clicks are picked up by the late-data sensor.
    Cadence(
        "daily engagement",
        "daily",
        "engagement_hours",
        also_covered_by=("stg_clicks", "user_engagement_daily"),
    ),
    # The closed Monday week, before the Monday 09:00 SLA deadline.
    Cadence("end-of-week growth", "weekly", "account_growth"),
    # The closed month, on the 2nd (deadline: the 3rd, 09:00).
    Cadence(
        "monthly profit close",
        "monthly",
        "unit_profit",
        also_covered_by=("recognized_revenue_daily", "cash_collected_daily", "profit_expenses"),
    ),
    # After profit: on the 3rd (deadline: the 5th, 09:00).
    Cadence("monthly investor close", "monthly", "investor_rollup"),
    # Monday morning pack for the week that just ended (deadline: Monday 12:00).
    Cadence("Monday executive pack", "weekly", "executive_weekly"),
    # Weekly experiment results, Tuesday morning (warn after 7 days).
    Cadence("weekly experiments", "weekly", "experiment_results"),
)


def cron_period(cron: str) -> Period:
    """ "hourly", "daily", "weekly" or "monthly", read from a five-field cron string."""
    _minute, hour, day_of_month, _month, day_of_week = cron.split()
    if day_of_week != "*":
        return "weekly"
    if day_of_month != "*":
        return "monthly"
    return "daily" if hour.isdigit() else "hourly"


def cadence_coverage(schedules: Iterable[dg.ScheduleDefinition]) -> dict[str, list[str]]:
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
        for c in CADENCES
    }
