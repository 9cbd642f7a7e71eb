"""`ab_unit_daily` on the hand-made lake of conftest.py: every number worked out by hand."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import polars as pl
import pytest

from pacific_assets.experiments.pseudonymize import DEMO_PSEUDONYM_KEY, pseudonymize
from pacific_assets_tests.experiments import fixtures as fx
from pacific_assets_tests.experiments.conftest import DAY_16_ENGAGEMENT, TEST_KEY
from pacific_assets_tests.experiments.helpers import ab_unit_daily, materialize_range
from pacific_assets_tests.runs import checks_by_name

D = dt.date
USER_REVENUE_REASON = "user unit: revenue is recognized per account"


def pseudo(user_id: str, key: str = TEST_KEY) -> str:
    return pseudonymize(key, [user_id])[0]


def rows_by_key(df: pl.DataFrame) -> dict[tuple, dict]:
    return {(r["experiment_id"], r["unit_id"], r["date"]): r for r in df.to_dicts()}


_ = ...  # a cell a row does not check


def given(columns: tuple[str, ...], table: dict[tuple, tuple]) -> dict[tuple, dict]:
    """Table rows -> {column: expected value}, leaving out the cells marked ``_``."""
    return {
        key: {c: v for c, v in zip(columns, row, strict=True) if v is not _}
        for key, row in table.items()
    }


# (experiment, unit, day) -> the columns worked out from conftest.hand_lake
# pre-period: 14 days before the assignment day, 09-05 has no engagement partition -> 13 days
# fmt: off
EXPECTED = given(
    ("variant", "account_id", "days_since_assignment", "active_users", "sessions", "hours",
     "events", "late_events", "recognized_revenue_usd"),
    {
        #                        variant      acct  days active sessions hours events late revenue
        # u1: control (first exposure 09-15 10:00 wins over the 09-17 treatment re-assignment)
        ("exp_user", "u1", 15): ("control",   "a1", 0,   1,     1,       0.5,  4,     0,   _),
        ("exp_user", "u1", 16): ("control",   _,    1,   1,     3,       1.25, 12,    2,   _),
        ("exp_user", "u1", 17): ("control",   _,    2,   0,     0,       0.0,  0,     0,   _),
        # u2: assigned 09-16, inactive on both of its days; its 09-15 activity is pre-period
        ("exp_user", "u2", 16): ("treatment", _,    0,   0,     0,       0.0,  0,     _,   _),
        ("exp_user", "u2", 17): ("treatment", _,    1,   0,     _,       _,    _,     _,   _),
        # u3: account from the latest directory export (moved a2 -> a3)
        ("exp_user", "u3", 15): ("treatment", "a3", _,   1,     1,       0.0,  1,     _,   _),
        # a1 = u1 + u2
        ("exp_acct", "a1", 15): ("control",   "a1", _,   2,     3,       2.5,  12,    _,   10.0),
        ("exp_acct", "a1", 16): (_,           _,    _,   1,     3,       1.25, 12,    2,   10.0),
        ("exp_acct", "a2", 16): ("treatment", _,    _,   1,     1,       0.5,  2,     _,   20.0),
    },
)
PRE = given(
    ("pre_period_days", "pre_active_users", "pre_sessions", "pre_hours", "pre_events",
     "pre_revenue_days", "pre_recognized_revenue_usd"),
    {
        #                    days active sessions hours events rev_days revenue
        ("exp_user", "u1"): (13,  1,     2,       1.5,  10,    _,       _),
        ("exp_user", "u2"): (13,  2,     3,       3.0,  13,    _,       _),
        ("exp_user", "u3"): (13,  1,     1,       0.25, 3,     _,       _),
        ("exp_acct", "a1"): (13,  2,     3,       2.5,  15,    14,      140.0),
        ("exp_acct", "a2"): (13,  1,     1,       0.25, 3,     14,      280.0),
    },
)
# fmt: on


@pytest.fixture
def built(hand_lake):
    result = materialize_range([ab_unit_daily], hand_lake, "2025-09-15", "2025-09-17")
    assert result.success
    return result, hand_lake.read("ab_unit_daily")


def test_one_row_per_experiment_unit_day_from_assignment(built):
    _, df = built
    got = sorted(
        (r["experiment_id"], r["unit_id"], r["date"].day)
        for r in df.select("experiment_id", "unit_id", "date").to_dicts()
    )
    names = {pseudo(u): u for u in ("u1", "u2", "u3")}
    got = sorted((e, names.get(u, u), d) for e, u, d in got)
    assert got == sorted(
        [("exp_user", u, d) for u in ("u1", "u3") for d in (15, 16, 17)]
        + [("exp_user", "u2", d) for d in (16, 17)]
        + [("exp_acct", a, d) for a in ("a1", "a2") for d in (15, 16, 17)]
    )


def test_hand_computed_values(built):
    _, df = built
    rows = rows_by_key(df)
    for (exp, unit, day), want in EXPECTED.items():
        uid = pseudo(unit) if exp == "exp_user" else unit
        row = rows[(exp, uid, D(2025, 9, day))]
        for col, value in want.items():
            assert row[col] == value, (exp, unit, day, col)
        for col, value in PRE[(exp, unit)].items():
            assert row[col] == value, (exp, unit, day, col)
        assert row["engagement_null_reason"] is None
    u1 = rows[("exp_user", pseudo("u1"), D(2025, 9, 17))]
    assert u1["assigned_at"] == dt.datetime(2025, 9, 15, 10, tzinfo=dt.UTC)
    assert u1["assignment_date"] == D(2025, 9, 15)
    assert u1["recognized_revenue_usd"] is None
    assert u1["recognized_revenue_usd_null_reason"] == USER_REVENUE_REASON
    assert u1["pre_recognized_revenue_usd_null_reason"] == USER_REVENUE_REASON
    # revenue for 09-17 was never materialized: null with the reason, not a zero
    a1 = rows[("exp_acct", "a1", D(2025, 9, 17))]
    assert a1["recognized_revenue_usd"] is None
    assert "not materialized" in a1["recognized_revenue_usd_null_reason"]
    assert a1["sessions"] == 0 and a1["engagement_null_reason"] is None  # empty day = inactive


def test_user_ids_are_keyed_pseudonyms_and_never_appear(built, hand_lake):
    _, df = built
    users = df.filter(pl.col("unit_type") == "user")
    assert set(users["unit_id"]) == {pseudo("u1"), pseudo("u2"), pseudo("u3")}
    assert all(len(u) == 64 for u in users["unit_id"])
    text = " ".join(
        str(v) for col in df.select(pl.col(pl.String)).columns for v in df[col].to_list()
    )
    for raw in ("u1", "u2", "u3"):
        assert f" {raw} " not in f" {text} "
    # a different key gives different pseudonyms (the key is what protects them)
    materialize_range([ab_unit_daily], hand_lake, "2025-09-15", "2025-09-15", key="another-key")
    again = hand_lake.read("ab_unit_daily", ["2025-09-15"]).filter(pl.col("unit_type") == "user")
    assert set(again["unit_id"]) == {pseudo("u1", "another-key"), pseudo("u3", "another-key")}


def test_checks_count_reassignments_and_bad_input(built):
    result, _ = built
    c = checks_by_name(result)
    twice = c["units_assigned_once"]
    assert not twice.passed and twice.severity == dg.AssetCheckSeverity.WARN
    md = twice.metadata
    assert md["units_assigned_more_than_once"].value == 1  # u1
    assert md["units_with_conflicting_variants"].value == 1  # u1: control then treatment
    assert md["duplicate_assignment_rows"].value == 1  # u3 re-exported
    bad = c["assignments_match_registry"]
    assert not bad.passed
    assert bad.metadata["by_reason"].value == {
        "assigned before experiment start": 1,
        "experiment not in registry": 1,
        "variant not in registry": 1,
    }
    reg = c["registry_valid"]
    assert not reg.passed
    assert reg.metadata["problems"].value[0]["experiment_id"] == "exp_bad"
    assert "row 3" in reg.metadata["problems"].value[0]["reason"]
    assert c["one_row_per_unit_day"].passed
    assert c["pseudonymization_key_configured"].passed


def test_demo_key_is_flagged(hand_lake):
    result = materialize_range(
        [ab_unit_daily], hand_lake, "2025-09-15", "2025-09-15", key=DEMO_PSEUDONYM_KEY
    )
    check = checks_by_name(result)["pseudonymization_key_configured"]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN


def test_missing_engagement_day_is_null_with_reason(hand_lake):
    result = materialize_range([ab_unit_daily], hand_lake, "2025-09-18", "2025-09-19")
    assert result.success
    df = hand_lake.read("ab_unit_daily")
    # exp_user ended 09-18 (exclusive): only the open-ended account experiment has rows
    assert set(df["experiment_id"]) == {"exp_acct"} and df.height == 4
    assert df["sessions"].null_count() == 4
    assert set(df["engagement_null_reason"]) == {
        "user_engagement_daily not materialized for this date"
    }
    assert df["days_since_assignment"].to_list() == [3, 3, 4, 4]


def test_days_before_any_assignment_are_refused_not_written_empty(hand_lake):
    """Nothing is built from nothing (docs/operations.md §3): before the first assignment there
    is no unit to write a row for, so a run over those days refuses, naming why, and writes no
    partition. (Fails if ``refuse_unlanded`` is not called in ``lineage.recorder_for``.)"""
    with pytest.raises(dg.Failure) as refused:
        materialize_range([ab_unit_daily], hand_lake, "2025-09-10", "2025-09-11")
    assert "ab_unit_daily 2025-09-10..2025-09-11 (2 partitions)" in str(refused.value)
    assert "experiment_assignments has landed nothing" in str(refused.value)
    assert hand_lake.partition_keys("ab_unit_daily") == []


def test_rerunning_one_day_picks_up_changed_engagement(built, hand_lake):
    """The re-run a late click triggers: only the affected day changes."""
    _, before = built
    other_days = before.filter(pl.col("date") != D(2025, 9, 16))
    late_clicks = fx.engagement_row(D(2025, 9, 16), "u2", "a1", 1, 0.75, 3, late_events=3)
    late = fx.engagement_frame([*DAY_16_ENGAGEMENT, late_clicks])
    hand_lake.write_partitions("user_engagement_daily", "date", ["2025-09-16"], late)
    assert materialize_range([ab_unit_daily], hand_lake, "2025-09-16", "2025-09-16").success
    after = hand_lake.read("ab_unit_daily")
    rows = rows_by_key(after)
    u2 = rows[("exp_user", pseudo("u2"), D(2025, 9, 16))]
    assert (u2["active_users"], u2["sessions"], u2["hours"], u2["late_events"]) == (1, 1, 0.75, 3)
    a1 = rows[("exp_acct", "a1", D(2025, 9, 16))]
    assert (a1["active_users"], a1["sessions"], a1["late_events"]) == (2, 4, 5)
    assert after.filter(pl.col("date") != D(2025, 9, 16)).equals(other_days)
