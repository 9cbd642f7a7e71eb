"""One schedule per business cadence — exactly one, whoever defines it.

The cadences come from the runbooks: daily engagement, end-of-week growth, monthly profit close,
monthly investor close, the Monday executive pack, weekly experiment results. A pipeline package
may define its own schedule for its cadence (next to its assets); for every cadence that no
schedule covers yet, ``missing_cadence_schedules`` creates one here, so the merged definitions
always hold exactly one per cadence (a test asserts it). A cadence is "covered" when a
schedule of the same period (daily/weekly/monthly, read from its cron) targets one of its
assets (a pipeline may start its chain elsewhere: the profit close starts with the month's
daily revenue facts and a sensor runs the monthly step).

A created schedule runs the key asset's pipeline assets on the key asset's grid (same partitions
definition) for the partition that just closed; dependencies on other grids are left to those
grids' own schedules and sensors.
"""

from __future__ import annotations

from dataclasses import dataclass

import dagster as dg


@dataclass(frozen=True)
class Cadence:
    label: str
    #: The asset a created schedule is built around (its grid and pipeline).
    key_asset: str
    #: Schedule name used when operations has to create it.
    schedule_name: str
    hour_of_day: int
    minute_of_hour: int = 0
    day_of_week: int | None = None  # for weekly grids (0 = Sunday ... 6 = Saturday)
    day_of_month: int | None = None  # for monthly grids
    #: Other assets whose schedule also covers the cadence (the first step of its chain).
    also_covered_by: tuple[str, ...] = ()

    @property
    def period(self) -> str:
        if self.day_of_week is not None:
            return "weekly"
        return "monthly" if self.day_of_month is not None else "daily"

    @property
    def covering_assets(self) -> set[dg.AssetKey]:
        return {dg.AssetKey(k) for k in (self.key_asset, *self.also_covered_by)}


CADENCES: tuple[Cadence, ...] = (
    # Yesterday's clicks, early morning; late clicks are picked up by the late-data sensor.
    Cadence(
        "daily engagement",
        "engagement_hours",
        "engagement_daily_schedule",
        2,
        30,
        also_covered_by=("stg_clicks", "user_engagement_daily"),
    ),
    # The closed Monday week, before the Monday 09:00 SLA deadline.
    Cadence("end-of-week growth", "account_growth", "growth_weekly_schedule", 4, 0, day_of_week=1),
    # The closed month, on the 2nd (deadline: the 3rd, 09:00).
    Cadence(
        "monthly profit close",
        "unit_profit",
        "profit_monthly_close_schedule",
        4,
        0,
        day_of_month=2,
        also_covered_by=("recognized_revenue_daily", "cash_collected_daily", "profit_expenses"),
    ),
    # After profit: on the 3rd (deadline: the 5th, 09:00).
    Cadence(
        "monthly investor close",
        "investor_rollup",
        "investor_monthly_close_schedule",
        6,
        0,
        day_of_month=3,
    ),
    # Monday morning pack for the week that just ended (deadline: Monday 12:00).
    Cadence(
        "Monday executive pack",
        "executive_weekly",
        "executive_weekly_schedule",
        7,
        0,
        day_of_week=1,
    ),
    # Weekly experiment results, Tuesday morning (warn after 7 days).
    Cadence(
        "weekly experiments",
        "experiment_results",
        "experiments_weekly_schedule",
        6,
        0,
        day_of_week=2,
    ),
)


def schedule_asset_keys(schedule: dg.ScheduleDefinition, asset_graph) -> set[dg.AssetKey]:
    """The assets a schedule's target materializes (empty for op jobs)."""
    target = getattr(schedule, "target", None)
    job = target.resolvable_to_job if target is not None else getattr(schedule, "job", None)
    selection = getattr(job, "selection", None)
    if selection is not None:
        return set(selection.resolve(asset_graph))
    asset_layer = getattr(job, "asset_layer", None)
    if asset_layer is not None:
        return set(asset_layer.selected_asset_keys)
    return set()


def cron_period(cron: str | list[str] | tuple[str, ...]) -> str:
    """ "hourly", "daily", "weekly" or "monthly", read from a five-field cron string."""
    if not isinstance(cron, str):
        cron = cron[0]
    _minute, hour, day_of_month, _month, day_of_week = cron.split()
    if day_of_week != "*":
        return "weekly"
    if day_of_month != "*":
        return "monthly"
    return "daily" if hour.isdigit() else "hourly"


def schedule_period(schedule, keys: set[dg.AssetKey], asset_graph) -> str:
    """The period of a schedule; a partitioned-job schedule runs once per partition of its grid."""
    cron = getattr(schedule, "cron_schedule", None)
    if cron is None:  # built by build_schedule_from_partitioned_job, resolved later
        nodes = {n.key: n for n in asset_graph.asset_nodes}
        grids = [
            nodes[k].partitions_def.cron_schedule
            for k in sorted(keys, key=lambda k: k.to_user_string())
            if k in nodes and isinstance(nodes[k].partitions_def, dg.TimeWindowPartitionsDefinition)
        ]
        cron = grids[0] if grids else "0 0 * * *"
    return cron_period(cron)


def cadence_coverage(schedules: list[dg.ScheduleDefinition], asset_graph) -> dict[str, list[str]]:
    """For each cadence label, the names of the schedules that cover it."""
    targets = {}
    for schedule in schedules:
        keys = schedule_asset_keys(schedule, asset_graph)
        targets[schedule.name] = (schedule_period(schedule, keys, asset_graph), keys)
    return {
        c.label: sorted(
            name
            for name, (period, keys) in targets.items()
            if period == c.period and keys & c.covering_assets
        )
        for c in CADENCES
    }


def missing_cadence_schedules(
    schedules: list[dg.ScheduleDefinition], asset_graph
) -> list[dg.ScheduleDefinition]:
    """Schedules for the cadences nobody covers yet (skipping key assets that do not exist)."""
    coverage = cadence_coverage(schedules, asset_graph)
    nodes = {n.key: n for n in asset_graph.asset_nodes if n.is_materializable}
    out = []
    for cadence in CADENCES:
        key = dg.AssetKey(cadence.key_asset)
        if coverage[cadence.label] or key not in nodes:
            continue
        node = nodes[key]
        pdef = node.partitions_def
        same_grid = sorted(
            (
                k
                for k, n in nodes.items()
                if n.group_name == node.group_name and n.partitions_def == pdef
            ),
            key=lambda k: k.to_user_string(),
        )
        job = dg.define_asset_job(
            name=cadence.schedule_name.replace("_schedule", "_job"),
            selection=dg.AssetSelection.assets(*same_grid),
            description=f"The {cadence.label} run: {node.group_name} assets on the "
            f"{cadence.key_asset} grid.",
        )
        if isinstance(pdef, dg.TimeWindowPartitionsDefinition):
            schedule = dg.build_schedule_from_partitioned_job(
                job,
                name=cadence.schedule_name,
                description=f"{cadence.label} (created by operations: no pipeline schedule "
                "covers it)",
                hour_of_day=cadence.hour_of_day,
                minute_of_hour=cadence.minute_of_hour,
                day_of_week=cadence.day_of_week,
                day_of_month=cadence.day_of_month,
                default_status=dg.DefaultScheduleStatus.RUNNING,
            )
        else:
            schedule = dg.ScheduleDefinition(
                name=cadence.schedule_name,
                job=job,
                cron_schedule=f"{cadence.minute_of_hour} {cadence.hour_of_day} * * *",
                default_status=dg.DefaultScheduleStatus.RUNNING,
            )
        out.append(schedule)
    return out
