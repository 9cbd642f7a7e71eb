"""The profit SLA check: the newest closed month of ``unit_profit`` exists and is complete.

Dagster's freshness policy looks at the latest materialization of *any* partition (backfilling an
old month turns it green), so it is paired with this check (DESIGN §5). Before the review deadline
(the 3rd, 09:00 UTC — the profit freshness policy's cron) a missing month is a WARN; after it, an
ERROR. The check never passes while the month is missing.
"""

import datetime as dt

import dagster as dg

from pacific_assets.profit import lakeio
from pacific_assets.resources import LakeResource
from pacific_assets.storage.lake import Lake

#: The monthly review deadline: day and hour (UTC) of the month after the closed month. Keep in
#: step with the profit freshness policy in operations/policies.py ("0 9 3 * *").
REVIEW_DEADLINE_DAY = 3
REVIEW_DEADLINE_HOUR = 9


def newest_closed_month(now: dt.datetime) -> dt.date:
    """The last month that has fully ended at ``now`` (UTC)."""
    return lakeio.add_months(now.astimezone(dt.UTC).date().replace(day=1), -1)


def closed_month_status(store: Lake, now: dt.datetime) -> dg.AssetCheckResult:
    """Pass only when the newest closed month is in the lake and complete."""
    now = now.astimezone(dt.UTC)
    month = newest_closed_month(now)
    deadline = dt.datetime(
        now.year, now.month, REVIEW_DEADLINE_DAY, REVIEW_DEADLINE_HOUR, tzinfo=dt.UTC
    )
    overdue = now >= deadline
    severity = dg.AssetCheckSeverity.ERROR if overdue else dg.AssetCheckSeverity.WARN
    when = f"review deadline {deadline:%Y-%m-%d %H:%M} UTC {'passed' if overdue else 'ahead'}"
    key = month.isoformat()
    meta = {"month": key, "deadline": deadline.isoformat(), "overdue": overdue}
    if key not in store.partition_keys("unit_profit"):
        return dg.AssetCheckResult(
            passed=False,
            severity=severity,
            description=f"unit_profit for the closed month {month:%Y-%m} does not exist ({when}); "
            "run the month close (profit_month_close_schedule) or backfill the month",
            metadata=meta,
        )
    row = store.read("unit_profit", [key]).row(0, named=True)
    if not row["is_complete"]:
        return dg.AssetCheckResult(
            passed=False,
            severity=severity,
            description=f"unit_profit for {month:%Y-%m} exists but is incomplete ({when}): "
            f"{row['incomplete_reason']}",
            metadata=meta,
        )
    return dg.AssetCheckResult(
        passed=True,
        description=f"unit_profit for {month:%Y-%m} is present and complete",
        metadata=meta,
    )


@dg.asset_check(
    asset="unit_profit",
    name="newest_closed_month_present",
    description="The newest closed month of unit_profit exists and every input of it was there "
    "(is_complete). Fails as WARN before the review deadline (3rd of the month, 09:00 UTC) and "
    "as ERROR after it; scheduled daily by profit_sla_check_schedule.",
)
def newest_closed_month_present(lake: LakeResource) -> dg.AssetCheckResult:
    return closed_month_status(lake.lake, dt.datetime.now(dt.UTC))
