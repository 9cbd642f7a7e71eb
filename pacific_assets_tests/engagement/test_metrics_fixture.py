"""Hand-computed fixture: sessions, hours, active/licensed users, de-duplication, late events.

Day under test: Wednesday 2025-09-10 (plus 09-11, 09-12 in the same range run).

Directory (latest row per user wins):
  u1 A  sales -> marketing (re-exported 09-05)  licensed, created 09-01
  u2 A  eng      licensed, deactivated 09-10 12:00   -> licensed on 09-10 only
  u3 A  eng      licensed, created 09-11 08:00       -> licensed from 09-11
  u4 B  support  NOT licensed (clicks anyway)
  u5 B  support  licensed, deactivated 09-09 23:00   -> never licensed in range
  u6 B  sales    licensed, no clicks

Clicks on 09-10:
  u1: 09:00, 09:10, 09:40 (gap exactly 30 min: same session) -> 40 min
      10:20:00, 10:20:30 (gap 40 min: new session)            -> 30 s
      23:50 (one event: 0 h; the 00:05 event next day is another day's session)
      => 3 sessions, (2400 + 30) s = 0.675 h, 6 events
  u2: 08:00 (landed 49 h later: late), 08:15 (landed 3 times: batches 1, 2, 3)
      => 1 session, 0.25 h, 2 events, 1 late (the batch-3 copy of 08:15 is a duplicate, not late)
  u4: 12:00 => 1 session, 0 h, 1 event (active, unlicensed)
"""

from __future__ import annotations

import polars as pl
import pytest

from pacific_assets_tests.engagement.helpers import (
    click,
    land_simulator_batch,
    materialize,
    read_sorted,
    write_directory,
)

DAYS = ("2025-09-10", "2025-09-12")
DAYS_ALL = ("2025-09-10", "2025-09-11", "2025-09-12")
ALL = [
    "raw_clicks",
    "stg_clicks",
    "user_engagement_daily",
    "engagement_completeness",
    "engagement_hours",
    "engagement_hours_by_team",
]


def _directory(lake) -> None:
    base = {"licensed": True, "created_at": "2025-09-01T00:00:00Z", "export_date": "2025-09-01"}
    write_directory(
        lake,
        [
            {**base, "user_id": "u1", "account_id": "A", "team": "sales"},
            {
                **base,
                "user_id": "u2",
                "account_id": "A",
                "team": "eng",
                "deactivated_at": "2025-09-10T12:00:00Z",
            },
            {
                **base,
                "user_id": "u3",
                "account_id": "A",
                "team": "eng",
                "created_at": "2025-09-11T08:00:00Z",
            },
            {**base, "user_id": "u4", "account_id": "B", "team": "support", "licensed": False},
            {
                **base,
                "user_id": "u5",
                "account_id": "B",
                "team": "support",
                "deactivated_at": "2025-09-09T23:00:00Z",
            },
            {**base, "user_id": "u6", "account_id": "B", "team": "sales"},
            {
                **base,
                "user_id": "u1",
                "account_id": "A",
                "team": "marketing",
                "export_date": "2025-09-05",
            },
        ],
    )


def _land(lake) -> None:
    e_u2_b = click("e-u2-b", "u2", "A", "2025-09-10T08:15:00Z")
    land_simulator_batch(
        lake,
        1,
        "2025-09-11T01:00:00Z",
        [
            click("e-u1-1", "u1", "A", "2025-09-10T09:00:00Z"),
            click("e-u1-2", "u1", "A", "2025-09-10T09:10:00Z"),
            click("e-u1-3", "u1", "A", "2025-09-10T09:40:00Z"),
            click("e-u1-4", "u1", "A", "2025-09-10T10:20:00Z"),
            click("e-u1-5", "u1", "A", "2025-09-10T10:20:30Z"),
            click("e-u1-6", "u1", "A", "2025-09-10T23:50:00Z"),
            click("e-u1-7", "u1", "A", "2025-09-11T00:05:00Z"),
            e_u2_b,
            click("e-u4-1", "u4", "B", "2025-09-10T12:00:00Z"),
        ],
    )
    land_simulator_batch(lake, 2, "2025-09-11T06:00:00Z", [e_u2_b], extra_lines=["{not json"])
    land_simulator_batch(
        lake,
        3,
        "2025-09-12T09:00:00Z",
        [click("e-u2-a", "u2", "A", "2025-09-10T08:00:00Z"), e_u2_b],
    )


@pytest.fixture
def fixture_lake(lake):
    _directory(lake)
    _land(lake)
    result = materialize(lake, ALL, *DAYS)
    assert result.success
    return lake


def test_stg_clicks_dedup_and_late(fixture_lake):
    stg = read_sorted(fixture_lake, "stg_clicks", ["2025-09-10"])
    assert stg.height == 9  # 9 unique events on 09-10
    assert stg["event_id"].n_unique() == 9
    kept = stg.filter(pl.col("event_id") == "e-u2-b").row(0, named=True)
    assert (kept["batch"], kept["copies"], kept["is_late"]) == (1, 3, False)
    late = stg.filter(pl.col("is_late"))["event_id"].to_list()
    assert late == ["e-u2-a"]  # 49 h late; the late duplicate of e-u2-b is not counted
    assert read_sorted(fixture_lake, "stg_clicks", ["2025-09-11"])["event_id"].to_list() == [
        "e-u1-7"
    ]
    assert read_sorted(fixture_lake, "stg_clicks", ["2025-09-12"]).height == 0  # empty, present
    # the broken line of batch 2 is quarantined with file and line, nothing else
    q = fixture_lake.read("quarantine").filter(pl.col("source") == "clicks")
    assert q.select("file", "row_number").rows() == [
        ("clickstream/ingest_date=2025-09-11/batch-00000002.jsonl", 2)
    ]


def test_user_engagement_daily(fixture_lake):
    ued = read_sorted(fixture_lake, "user_engagement_daily", ["2025-09-10"])
    got = {
        r["user_id"]: (
            r["account_id"],
            r["team"],
            r["licensed"],
            r["sessions"],
            round(r["hours"], 9),
            r["events"],
            r["late_events"],
        )
        for r in ued.iter_rows(named=True)
    }
    assert got == {
        "u1": ("A", "marketing", True, 3, 0.675, 6, 0),
        "u2": ("A", "eng", True, 1, 0.25, 2, 1),
        "u4": ("B", "support", False, 1, 0.0, 1, 0),
    }
    nxt = read_sorted(fixture_lake, "user_engagement_daily", ["2025-09-11"])
    assert nxt.select("user_id", "sessions", "hours", "events").rows() == [("u1", 1, 0.0, 1)]


def _row(frame: pl.DataFrame, **where) -> dict:
    for col, value in where.items():
        frame = frame.filter(pl.col(col).cast(pl.String) == value)
    assert frame.height == 1, where
    return frame.row(0, named=True)


def test_engagement_hours(fixture_lake):
    hours = read_sorted(fixture_lake, "engagement_hours")
    a = _row(hours, date="2025-09-10", account_id="A")
    assert (a["licensed_users"], a["active_users"], a["active_licensed_users"]) == (2, 2, 2)
    assert (a["sessions"], a["events"], a["late_events"]) == (4, 8, 1)
    assert a["total_hours"] == pytest.approx(0.925)
    assert a["hours_per_active_user"] == pytest.approx(0.4625)
    b = _row(hours, date="2025-09-10", account_id="B")
    assert (b["licensed_users"], b["active_users"], b["active_licensed_users"]) == (1, 1, 0)
    assert (b["sessions"], b["total_hours"], b["hours_per_active_user"]) == (1, 0.0, 0.0)
    a11 = _row(hours, date="2025-09-11", account_id="A")
    assert (a11["licensed_users"], a11["active_users"], a11["sessions"]) == (2, 1, 1)  # u1, u3
    # a day without clicks still reports licensed users; the ratio is null with a reason
    b12 = _row(hours, date="2025-09-12", account_id="B")
    assert (b12["licensed_users"], b12["active_users"]) == (1, 0)
    assert b12["hours_per_active_user"] is None
    assert b12["hours_per_active_user_null_reason"] == "no_active_users"
    # no history for a baseline: complete, with the caveat as reason
    assert a["is_complete"] and a["incomplete_reason"].startswith("unchecked")
    for col in ("total_hours", "hours_per_active_user"):
        assert not hours[col].is_nan().any() and not hours[col].is_infinite().any()


def test_engagement_hours_by_team_adds_up(fixture_lake):
    team = read_sorted(fixture_lake, "engagement_hours_by_team", ["2025-09-10"])
    got = {
        (r["account_id"], r["team"]): (
            r["licensed_users"],
            r["active_users"],
            r["sessions"],
            round(r["total_hours"], 9),
        )
        for r in team.iter_rows(named=True)
    }
    assert got == {
        ("A", "marketing"): (1, 1, 3, 0.675),
        ("A", "eng"): (1, 1, 1, 0.25),
        ("B", "support"): (0, 1, 1, 0.0),
        ("B", "sales"): (1, 0, 0, 0.0),
    }
    hours = read_sorted(fixture_lake, "engagement_hours", ["2025-09-10"])
    summed = (
        team.group_by("account_id")
        .agg(pl.col("licensed_users", "active_users", "sessions", "events").sum())
        .sort("account_id")
    )
    assert (
        summed.rows()
        == hours.select("account_id", "licensed_users", "active_users", "sessions", "events").rows()
    )


def test_small_row_budget_gives_the_same_user_days(fixture_lake, monkeypatch):
    """A range cut into several passes (memory budget) equals the one-pass result."""
    from pacific_assets.engagement import assets

    one_pass = read_sorted(fixture_lake, "user_engagement_daily")
    monkeypatch.setattr(assets, "MAX_CLICKS_PER_PASS", 3)
    assert [len(c) for c in assets.day_chunks(fixture_lake, "stg_clicks", list(DAYS_ALL), 3)] == [
        1,
        2,
    ]
    assert materialize(fixture_lake, ["user_engagement_daily"], *DAYS).success
    assert read_sorted(fixture_lake, "user_engagement_daily").equals(one_pass)
