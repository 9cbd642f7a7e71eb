"""Who hears about a failure, and how urgently: the runbooks' on-call rules as one function.

Each pipeline declares its rules in its ``pipeline.py``; they reach routing on the asset graph
(``pipeline_policy.OnCall``). Today's rules:

- Profit: page the BI profit-team person of the week.
- Growth: nobody is paged; the failure waits for the Accounts team's working hours.
- Engagement: page the data-engineering owner of the week and name the SWE contact.
- Investor: page data engineering only in the last week of the month (the last 7 calendar days,
  when the month's numbers are being closed); otherwise queue for working hours.
- Staging, experiments, operations: queue for working hours.

A WARN-severity check never pages: it is a heads-up for working hours whatever the pipeline.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

from pacific_assets.operations.rotation import Rotation
from pacific_assets.pipeline_policy import OnCall

WORK_START_HOUR = 9
WORK_END_HOUR = 17


@dataclass(frozen=True)
class Route:
    pipeline: str
    action: str  # "page" or "queue"
    owner: str  # the person paged, or the team whose queue it waits in
    contacts: tuple[str, ...]  # also named in the alert (e.g. the SWE contact)
    reason: str
    #: For a queued alert: when working hours next begin (None when it is already working hours).
    queued_until: dt.datetime | None = None

    @property
    def paged(self) -> bool:
        return self.action == "page"


def is_last_week_of_month(at: dt.datetime) -> bool:
    """The last 7 calendar days of the UTC month (e.g. 24–30 Nov, 22–28 Feb 2026)."""
    at = _utc(at)
    days_in_month = calendar.monthrange(at.year, at.month)[1]
    return at.day > days_in_month - 7


def next_working_hours(at: dt.datetime) -> dt.datetime | None:
    """Start of the next working-hours slot (Mon–Fri 09:00 UTC), or None if ``at`` is inside one."""
    at = _utc(at)
    if at.weekday() < 5 and WORK_START_HOUR <= at.hour < WORK_END_HOUR:
        return None
    day = at.date() if at.hour < WORK_START_HOUR else at.date() + dt.timedelta(days=1)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return dt.datetime(day.year, day.month, day.day, WORK_START_HOUR, tzinfo=dt.UTC)


def route(policy: OnCall, at: dt.datetime, rotation: Rotation, *, severity: str = "ERROR") -> Route:
    """Decide page vs working-hours queue for a failure in ``policy``'s pipeline at ``at``."""
    pipeline = policy.pipeline
    at = _utc(at)
    if severity.upper() == "WARN":
        return _queue(pipeline, policy, at, "WARN-severity check: a heads-up, never a page")
    mode = policy.mode
    if mode == "page":
        return _page(pipeline, policy, at, rotation, f"{policy.title}: on-call of the week")
    if mode == "page_last_week_of_month":
        if is_last_week_of_month(at):
            return _page(pipeline, policy, at, rotation, f"{policy.title}: last week of the month")
        return _queue(
            pipeline, policy, at, f"{policy.title}: not the last week of the month, no page"
        )
    return _queue(pipeline, policy, at, f"{policy.title}: no on-call, working hours")


def _page(pipeline: str, policy: OnCall, at: dt.datetime, rotation: Rotation, reason: str) -> Route:
    who = [rotation.on_call(role, at) for role in policy.roles]
    return Route(pipeline, "page", who[0], tuple(who[1:]), reason)


def _queue(pipeline: str, policy: OnCall, at: dt.datetime, reason: str) -> Route:
    return Route(pipeline, "queue", policy.queue, (), reason, next_working_hours(at))


def _utc(at: dt.datetime) -> dt.datetime:
    return at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at.astimezone(dt.UTC)
