"""When engagement runs: ingestion every 15 minutes, late data as it lands, a daily final verdict.

- ``clicks_ingest_schedule`` runs ``raw_clicks`` (Kafka -> landing, or registering simulator
  batches) and the 48 h newest-event SLA check.
- ``clicks_late_data_sensor`` (RUNNING by default) reads the manifest from its cursor (the last
  manifest line it processed) and requests exactly the event dates that received new events,
  plus what depends on them (see ``plan_late_data``). On a fresh instance the cursor is empty,
  so it requests the dates that have data — never the whole partition history.
- ``engagement_daily_schedule`` (02:30 UTC) runs yesterday's chain as a safety net and re-judges
  the day whose last hour just left the 48 h SLA window (until then it is "provisional").
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import dagster as dg

from pacific_assets import partitions
from pacific_assets.dagster_compat import backfill_request
from pacific_assets.engagement.assets import (
    BASELINE_WEEKS,
    DAILY_ASSETS,
    engagement_completeness,
    engagement_hours,
    engagement_hours_by_team,
    raw_clicks,
    stg_clicks,
    user_engagement_daily,
)
from pacific_assets.engagement.checks import newest_event_within_48h
from pacific_assets.engagement.landing import ClickLanding
from pacific_assets.engagement.outage import baseline_dependents
from pacific_assets.resources import LakeResource

#: Assets whose partition d reads only stg_clicks day d (and the directory).
SAME_DAY_ASSETS = (stg_clicks.key, user_engagement_daily.key)
#: Assets whose partition d also depends on the same weekday in the previous weeks (baseline).
BASELINE_ASSETS = (engagement_completeness.key, engagement_hours.key, engagement_hours_by_team.key)


@dataclass(frozen=True)
class LateDataPlan:
    """What one sensor tick requests: days for the two asset families, and what waits."""

    same_day: tuple[str, ...]
    with_baseline: tuple[str, ...]
    pending: tuple[str, ...]  # event dates that are not a partition yet (today, the future)

    @property
    def empty(self) -> bool:
        return not self.same_day


def plan_late_data(
    new_dates: set[str],
    pending: set[str],
    first_key: str,
    last_key: str | None,
    last_data_date: str | None,
    weeks: int = BASELINE_WEEKS,
) -> LateDataPlan:
    """Exactly the partitions touched by new events, and the ones downstream of them.

    New events on day d change stg_clicks and user_engagement_daily of d only (sessions are split
    at midnight), and the completeness verdict — hence engagement_hours* — of d and of the same
    weekday in the next ``weeks`` weeks (their baseline includes d), up to the last day with data.
    Dates after the last partition (today) wait in ``pending`` until their day is over.
    """
    candidates = new_dates | pending
    valid = sorted(d for d in candidates if last_key and first_key <= d <= last_key)
    waiting = sorted(d for d in candidates if not last_key or d > last_key)
    cap = min(filter(None, [last_key, last_data_date]), default=None)
    judged = set(valid)
    if cap:
        cap_day = dt.date.fromisoformat(cap)
        for d in valid:
            judged.update(
                x.isoformat() for x in baseline_dependents(dt.date.fromisoformat(d), weeks, cap_day)
            )
    return LateDataPlan(tuple(valid), tuple(sorted(judged)), tuple(waiting))


def _cursor(raw: str | None) -> dict:
    if not raw:
        return {"line": 0, "pending": [], "last_data_date": None}
    return json.loads(raw)


@dg.sensor(
    name="clicks_late_data_sensor",
    asset_selection=dg.AssetSelection.assets(*DAILY_ASSETS),
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Reads landing/clickstream/_manifest.jsonl from the last processed line and requests "
        "exactly the event dates that received new events (late ones included) and the "
        "partitions downstream of them, as one backfill. Logs new and late events per day."
    ),
)
def clicks_late_data_sensor(context: dg.SensorEvaluationContext, lake: LakeResource):
    state = _cursor(context.cursor)
    entries, last_line = ClickLanding(lake.lake.landing).manifest_since(state["line"])
    new_events: dict[str, int] = {}
    late_events: dict[str, int] = {}
    for e in entries:
        counts = e.extra.get("event_date_rows") or dict.fromkeys(e.event_dates, 0)
        for day, n in counts.items():
            new_events[day] = new_events.get(day, 0) + int(n)
        for day, n in (e.extra.get("late_rows") or {}).items():
            late_events[day] = late_events.get(day, 0) + int(n)
    last_data = max([*new_events, *filter(None, [state.get("last_data_date")])], default=None)
    last_key = partitions.daily.get_last_partition_key()  # yesterday: today is not over yet
    plan = plan_late_data(
        set(new_events),
        set(state["pending"]),
        partitions.daily.get_first_partition_key(),
        last_key,
        last_data,
    )
    cursor = json.dumps(
        {"line": last_line, "pending": list(plan.pending), "last_data_date": last_data}
    )
    if plan.empty:
        return dg.SensorResult(
            skip_reason=f"no new complete event dates ({len(entries)} new batches)",
            cursor=cursor,
        )
    late_total = sum(late_events.get(d, 0) for d in plan.same_day)
    context.log.info(
        f"{len(entries)} new batches: new events by day "
        + ", ".join(
            f"{d}: {new_events.get(d, 0)} ({late_events.get(d, 0)} late)" for d in plan.same_day
        )
    )
    wanted = [(key, day) for key in SAME_DAY_ASSETS for day in plan.same_day] + [
        (key, day) for key in BASELINE_ASSETS for day in plan.with_baseline
    ]
    return dg.SensorResult(
        run_requests=[
            backfill_request(
                wanted,
                context.repository_def.asset_graph,
                tags={
                    "pacific/trigger": "clicks_late_data_sensor",
                    "pacific/event_dates": ",".join(plan.same_day)[:1000],
                    "pacific/late_events": str(late_total),
                },
            )
        ],
        cursor=cursor,
    )


raw_clicks_job = dg.define_asset_job(
    "clicks_ingest_job",
    selection=dg.AssetSelection.assets(raw_clicks)
    | dg.AssetSelection.checks(newest_event_within_48h),
    description="Drain Kafka (or register simulator batches) and check the 48 h SLA.",
)
clicks_ingest_schedule = dg.ScheduleDefinition(
    name="clicks_ingest_schedule",
    job=raw_clicks_job,
    cron_schedule="*/15 * * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)

engagement_daily_job = dg.define_asset_job(
    "engagement_daily_job",
    selection=dg.AssetSelection.assets(*DAILY_ASSETS),
    description="The engagement chain for one day (stg_clicks -> engagement_hours*).",
)


@dg.schedule(
    name="engagement_daily_schedule",
    job=engagement_daily_job,
    cron_schedule="30 2 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description=(
        "02:30 UTC, the daily engagement cadence: (1) yesterday's whole chain, a safety net "
        "behind the late-data sensor (which normally requests it right after midnight); (2) the "
        "day three days back, which has just left the 48 h window: its completeness is judged "
        "for good (until now it was provisional), and engagement_hours picks up the verdict."
    ),
)
def engagement_daily_schedule(context: dg.ScheduleEvaluationContext):
    today = context.scheduled_execution_time.astimezone(dt.UTC).date()
    first = partitions.daily.get_first_partition_key()
    requests = []
    for back, keys in ((1, [a.key for a in DAILY_ASSETS]), (3, list(BASELINE_ASSETS))):
        day = (today - dt.timedelta(days=back)).isoformat()
        if day >= first:
            requests.append(
                dg.RunRequest(
                    partition_key=day,
                    run_key=f"engagement-daily-{day}-{back}",
                    asset_selection=keys,
                )
            )
    return requests or dg.SkipReason("the days to run are before the first partition")
