"""The columns of the engagement pipeline's lake tables (docs/engagement.md, "Metric dictionary").

Clicks are de-duplicated by ``event_id`` within their event date; an event is late when it landed
more than 48 h after ``event_ts``; sessions split at UTC midnight and after more than 30 minutes
without an event (docs/semantic-contract.md).
"""

from __future__ import annotations

import polars as pl

from pacific_assets.columns import Column, declare, null_reason
from pacific_assets.contracts import CLICKS

BOOL, DATE, F64, I64, STR = pl.Boolean, pl.Date, pl.Float64, pl.Int64, pl.String

_CLICK_MEANINGS = {
    "event_id": "the click, as sent by the frontend",
    "user_id": "the user who clicked, as sent by the frontend",
    "account_id": "the user's account, as sent by the frontend",
    "event_ts": "when the click happened, as sent by the frontend",
    "sent_at": "when the frontend sent it",
    "page": "the page clicked on",
    "action": "what the user did",
    "landed_at": "when the batch holding the kept copy landed",
    "partition": "Kafka partition of the kept copy (null for simulator batches)",
    "offset": "Kafka offset of the kept copy (null for simulator batches)",
}

STG_CLICKS = declare(
    "stg_clicks",
    *(
        Column(c, t, _CLICK_MEANINGS[c], nullable=c not in CLICKS.required)
        for c, t in CLICKS.columns.items()
    ),
    Column("event_date", DATE, "date(event_ts) in UTC: the partition", False),
    Column(
        "batch",
        I64,
        "number of the landing batch of the kept copy (batch-<NNNNNNNN>.jsonl), landing order",
        False,
    ),
    Column(
        "is_late",
        BOOL,
        "landed_at − event_ts > 48 h for the kept copy; a duplicate is never late",
        False,
    ),
    Column("copies", I64, "how many times the event landed (1 = no duplicate)", False),
)

USER_ENGAGEMENT_DAILY = declare(
    "user_engagement_daily",
    Column(
        "date", DATE, "the UTC day (the partition); one row per user with at least one click", False
    ),
    Column("user_id", STR, "the user", False),
    Column(
        "account_id",
        STR,
        "the directory's account of the user (the click's own account if the directory does not "
        "know the user)",
        False,
    ),
    Column("team", STR, "the customer's team from the directory (null if unknown)"),
    Column(
        "licensed",
        BOOL,
        "the user is licensed on that day (latest directory row: licensed, created before the end "
        "of the day, not deactivated before its start)",
        False,
    ),
    Column(
        "sessions",
        I64,
        "sessions that day (split at UTC midnight; a gap of more than 30 minutes starts a new one)",
        False,
    ),
    Column(
        "hours",
        F64,
        "Σ over sessions of (last event − first event), in hours; a one-event session counts 0",
        False,
    ),
    Column("events", I64, "de-duplicated clicks", False),
    Column("late_events", I64, "of which landed more than 48 h after they happened", False),
)


def _hours_columns(by_team: bool) -> tuple[Column, ...]:
    key = (
        Column("date", DATE, "the UTC day (the partition)", False),
        Column("account_id", STR, "the account (with a licensed user or a click that day)", False),
    )
    team = (Column("team", STR, "the customer's team (a user has one team)", False),)
    return (
        *key,
        *(team if by_team else ()),
        Column(
            "licensed_users",
            I64,
            "directory users licensed on that day, with or without clicks",
            False,
        ),
        Column(
            "active_users", I64, "distinct users with ≥ 1 click that day (licensed or not)", False
        ),
        Column(
            "active_licensed_users",
            I64,
            "active users that are licensed that day: the DAU of DAU/MAU",
            False,
        ),
        Column("sessions", I64, "Σ user sessions", False),
        Column("total_hours", F64, "Σ user hours (summed as integer microseconds: exact)", False),
        Column(
            "hours_per_active_user",
            F64,
            "total_hours ÷ active_users; null when active_users = 0",
        ),
        null_reason("hours_per_active_user", "no_active_users"),
        Column("events", I64, "de-duplicated clicks", False),
        Column(
            "late_events", I64, "clicks included although they landed more than 48 h late", False
        ),
        Column(
            "is_complete",
            BOOL,
            "false when a Kafka outage is suspected that day, until the whole day is 48 h old "
            "(provisional), or when no completeness verdict exists",
            False,
        ),
        Column(
            "incomplete_reason",
            STR,
            "why not complete, or a caveat (e.g. fewer than 2 earlier weeks of baseline)",
        ),
    )


ENGAGEMENT_HOURS = declare("engagement_hours", *_hours_columns(by_team=False))
ENGAGEMENT_HOURS_BY_TEAM = declare("engagement_hours_by_team", *_hours_columns(by_team=True))

ENGAGEMENT_COMPLETENESS = declare(
    "engagement_completeness",
    Column("date", DATE, "the UTC day (the partition)", False),
    Column(
        "is_complete", BOOL, "the day's verdict: no Kafka outage suspected (see outage rule)", False
    ),
    Column("reason", STR, "why the day is incomplete or unchecked; null when complete"),
    Column(
        "expected_events",
        I64,
        "Σ of the 24 hourly baselines (null without enough history)",
    ),
    Column("observed_events", I64, "de-duplicated clicks that day", False),
    Column(
        "judged_hours",
        I64,
        "hours that had a baseline, once the whole day is 48 h old (0 while provisional)",
        False,
    ),
    Column(
        "outage_hours",
        STR,
        "UTC hours of the outage window(s), e.g. 13,14,15; null when none",
    ),
    Column(
        "missing_events_estimate",
        I64,
        "baseline − observed over the outage hours",
        False,
    ),
    Column(
        "baseline_weeks",
        I64,
        "earlier weeks available for the baseline (max 4; 0 = none)",
        False,
    ),
)
