"""The session rules of user_engagement_daily.sql on clicks chosen by hand (docs/semantic-
contract.md, Clicks): a new session after MORE than 30 idle minutes, a session lasts last -
first event, a user unknown to the directory keeps the account of its clicks (the first by
name) and is not licensed, licensed on day d = created before the end of d and not
deactivated before its start. The SQL runs in DuckDB over two small tables it reads."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from pacific_assets.engagement.assets import SQL_DIR
from pacific_assets.storage.duck import run_sql

DAY = dt.date(2025, 9, 10)


def _at(day: dt.date, hh: int, mm: int = 0, ss: int = 0, us: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hh, mm, ss, us, tzinfo=dt.UTC)


CLICKS = [
    # u1: 10:00, 10:30 (exactly 30 min: same session), 11:00:00.000001 (30 min + 1 us: new)
    ("u1", "A", "e1", _at(DAY, 10)),
    ("u1", "A", "e2", _at(DAY, 10, 30)),
    ("u1", "A", "e3", _at(DAY, 11, 0, 0, 1)),
    # u2: unknown to the directory, clicks carrying two accounts 10 minutes apart
    ("u2", "C", "e4", _at(DAY, 12)),
    ("u2", "B", "e5", _at(DAY, 12, 10)),
    ("u3", "A", "e6", _at(DAY, 9)),
    ("u4", "A", "e7", _at(DAY, 9)),
    ("u5", "A", "e8", _at(DAY, 11)),
]
DIRECTORY = [
    ("u1", "A", "sales", True, _at(dt.date(2025, 9, 1), 0), None),
    ("u3", "A", "eng", True, _at(DAY + dt.timedelta(days=1), 0), None),  # created at d's end
    ("u4", "A", "eng", True, _at(dt.date(2025, 9, 1), 0), _at(DAY, 0)),  # gone at d's start
    ("u5", "A", "eng", True, _at(DAY, 10), None),  # created during d
]


@pytest.fixture
def user_days() -> dict[str, tuple]:
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.execute(
            "CREATE TABLE clicks_in (event_date DATE, user_id VARCHAR, account_id VARCHAR, "
            "event_id VARCHAR, event_ts TIMESTAMPTZ, is_late BOOLEAN)"
        )
        con.executemany(
            "INSERT INTO clicks_in VALUES (?, ?, ?, ?, ?, ?)",
            [(DAY, u, a, e, ts, e == "e3") for u, a, e, ts in CLICKS],
        )
        con.execute(
            "CREATE TABLE directory_current (user_id VARCHAR, account_id VARCHAR, team VARCHAR, "
            "licensed BOOLEAN, created_at TIMESTAMPTZ, deactivated_at TIMESTAMPTZ)"
        )
        con.executemany("INSERT INTO directory_current VALUES (?, ?, ?, ?, ?, ?)", DIRECTORY)
        run_sql(con, SQL_DIR, "user_engagement_daily", {"start": DAY, "end": DAY})
        rows = con.execute(
            "SELECT user_id, account_id, team, licensed, sessions, hours, events, late_events "
            "FROM user_days ORDER BY user_id"
        ).fetchall()
    finally:
        con.close()
    return {r[0]: r[1:] for r in rows}


def test_sessions_split_after_more_than_30_idle_minutes(user_days) -> None:
    # two sessions: 10:00-10:30 (0.5 h) and 11:00:00.000001 alone (0 h); one late event
    assert user_days["u1"] == ("A", "sales", True, 2, 0.5, 3, 1)


def test_a_user_unknown_to_the_directory_keeps_its_clicks_account(user_days) -> None:
    # accounts B and C: the first by name; no team, not licensed; 10 minutes: 1/6 h
    account, team, licensed, sessions, hours, events, late = user_days["u2"]
    assert (account, team, licensed, sessions, events, late) == ("B", None, False, 1, 2, 0)
    assert hours == pytest.approx(10 / 60, abs=1e-12)


def test_licensed_on_the_day_means_created_before_its_end_and_not_gone_before_its_start(
    user_days,
) -> None:
    licensed = {u: row[2] for u, row in user_days.items()}
    assert licensed == {"u1": True, "u2": False, "u3": False, "u4": False, "u5": True}
    # one event: one session of no time (exactly 0 h), one event
    assert user_days["u3"][3:6] == (1, 0.0, 1)
