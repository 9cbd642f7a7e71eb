"""Checks that need more than the rows a run just wrote.

``newest_closed_week_present``: the freshness policy looks at the newest materialization of *any*
partition (backfilling an old week turns it green), so this check asks the SLA's question
directly: is the Monday week that closed most recently in the lake, with all seven days of
daily facts it is built from?
"""

import datetime as dt

import dagster as dg

from pacific_assets import partitions
from pacific_assets.growth.assets import DAILY, NEWEST_WEEK_CHECK, WEEKLY
from pacific_assets.resources import LakeResource
from pacific_assets.storage.lake import Lake


def newest_closed_week(now: dt.datetime) -> str | None:
    """Key of the newest Monday week that has ended at ``now`` (None before the first one)."""
    keys = partitions.weekly.get_partition_keys(current_time=now)
    return keys[-1] if keys else None


def newest_week_result(lake: Lake, now: dt.datetime) -> dg.AssetCheckResult:
    week = newest_closed_week(now)
    if week is None:
        return dg.AssetCheckResult(
            passed=True, description="no Monday week has closed yet", check_name=NEWEST_WEEK_CHECK
        )
    start = dt.date.fromisoformat(week)
    days = [str(start + dt.timedelta(days=i)) for i in range(7)]
    have_week = week in set(lake.partition_keys(WEEKLY))
    daily = set(lake.partition_keys(DAILY))
    missing_days = [d for d in days if d not in daily]
    problems = []
    if not have_week:
        problems.append(f"{WEEKLY} has no partition for the week of {week}")
    if missing_days:
        problems.append(f"{DAILY} is missing {', '.join(missing_days)}")
    return dg.AssetCheckResult(
        check_name=NEWEST_WEEK_CHECK,
        passed=not problems,
        severity=dg.AssetCheckSeverity.ERROR,
        description=(
            f"the week of {week} is in, built from 7 days of daily facts"
            if not problems
            else "; ".join(problems)
            + ". Run growth_status_job for the missing days, then growth_weekly_job for the week "
            "(working hours: Growth has no on-call)."
        ),
        metadata={"newest_closed_week": week, "missing_days": dg.MetadataValue.json(missing_days)},
    )


@dg.asset_check(
    asset=WEEKLY,
    name=NEWEST_WEEK_CHECK,
    description=(
        "The newest closed Monday week is in account_growth and all 7 of its days are in "
        "account_status_daily (the SLA: latest statuses by end of week). Runs with every "
        "account_growth materialization and on its own on Monday 09:05 UTC."
    ),
)
def newest_closed_week_present(lake: LakeResource) -> dg.AssetCheckResult:
    return newest_week_result(lake.lake, dt.datetime.now(dt.UTC))
