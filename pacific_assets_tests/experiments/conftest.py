"""Fixtures for the experiment pipeline tests: a hand-made lake whose numbers are worked out in
test_ab_unit_daily.py."""

from __future__ import annotations

import datetime as dt

import pytest

from pacific_assets.experiments.pseudonymize import PseudonymizerResource
from pacific_assets.storage.lake import Lake
from pacific_assets_tests.experiments import fixtures as fx

D = dt.date
TEST_KEY = "test-key-for-pytest"


@pytest.fixture
def pseudonymizer() -> PseudonymizerResource:
    return PseudonymizerResource(key=TEST_KEY)


@pytest.fixture
def hand_lake(lake: Lake) -> Lake:
    """Two experiments (user and account units) with every assignment problem the runbook names."""
    fx.write_registry(
        lake,
        [
            dict(
                experiment_id="exp_user",
                unit_type="user",
                variants="control|treatment",
                weights="0.5|0.5",
                start_date=D(2025, 9, 15),
                end_date=D(2025, 9, 18),
                primary_metric="sessions",
            ),
            dict(
                experiment_id="exp_acct",
                unit_type="account",
                variants="control|treatment",
                weights="1|1",
                start_date=D(2025, 9, 15),
                end_date=None,
                primary_metric="hours_per_active_day",
            ),
            dict(
                experiment_id="exp_bad",
                unit_type="account",
                variants="a|b",
                weights="0.5",
                start_date=D(2025, 9, 15),
                end_date=None,
                primary_metric="sessions",
            ),
        ],
    )
    a = dict(experiment_id="exp_user", unit_type="user")
    fx.write_assignments(
        lake,
        [
            {**a, "unit_id": "u1", "variant": "control", "assigned_at": "2025-09-15T10:00:00Z"},
            {**a, "unit_id": "u2", "variant": "treatment", "assigned_at": "2025-09-16T08:00:00Z"},
            # u1 again, other variant: first exposure (control) wins
            {**a, "unit_id": "u1", "variant": "treatment", "assigned_at": "2025-09-17T09:00:00Z"},
            {**a, "unit_id": "u3", "variant": "treatment", "assigned_at": "2025-09-15T12:00:00Z"},
            # the same assignment re-exported the next day: a duplicate row, not a re-assignment
            {
                **a,
                "unit_id": "u3",
                "variant": "treatment",
                "assigned_at": "2025-09-15T12:00:00Z",
                "export_date": D(2025, 9, 16),
            },
            {**a, "unit_id": "u9", "variant": "blue", "assigned_at": "2025-09-15T12:00:00Z"},
            {**a, "unit_id": "u4", "variant": "control", "assigned_at": "2025-09-14T23:00:00Z"},
            {
                "experiment_id": "exp_acct",
                "unit_type": "account",
                "unit_id": "a1",
                "variant": "control",
                "assigned_at": "2025-09-15T00:30:00Z",
            },
            {
                "experiment_id": "exp_acct",
                "unit_type": "account",
                "unit_id": "a2",
                "variant": "treatment",
                "assigned_at": "2025-09-15T01:00:00Z",
            },
            {
                "experiment_id": "exp_nope",
                "unit_type": "user",
                "unit_id": "u1",
                "variant": "control",
                "assigned_at": "2025-09-15T01:00:00Z",
            },
        ],
    )
    fx.write_directory(
        lake,
        [
            {"user_id": "u1", "account_id": "a1", "export_date": D(2025, 9, 1)},
            {"user_id": "u2", "account_id": "a1", "export_date": D(2025, 9, 1)},
            {"user_id": "u3", "account_id": "a2", "export_date": D(2025, 9, 1)},
            {"user_id": "u3", "account_id": "a3", "export_date": D(2025, 9, 10)},
        ],
    )
    # Engagement for 09-01..09-17 except 09-05 (never materialized); 09-17 is an empty day.
    keys = [k for k in fx.day_keys(D(2025, 9, 1), D(2025, 9, 18)) if k != "2025-09-05"]
    e = lambda day, user, acct, s, h, ev, late=0: dict(  # noqa: E731
        date=D(2025, 9, day),
        user_id=user,
        account_id=acct,
        sessions=s,
        hours=h,
        events=ev,
        late_events=late,
    )
    fx.write_engagement(
        lake,
        keys,
        [
            e(10, "u1", "a1", 2, 1.5, 10),
            e(10, "u3", "a2", 1, 0.25, 3),
            e(12, "u2", "a1", 1, 1.0, 5),
            e(15, "u1", "a1", 1, 0.5, 4),
            e(15, "u2", "a1", 2, 2.0, 8),
            e(15, "u3", "a2", 1, 0.0, 1),
            e(16, "u1", "a1", 3, 1.25, 12, late=2),
            e(16, "u4", "a2", 1, 0.5, 2),
        ],
    )
    # Revenue for 09-01..09-16 (09-17 not materialized yet): a1 $10/day, a2 $20/day.
    rev_keys = fx.day_keys(D(2025, 9, 1), D(2025, 9, 17))
    fx.write_revenue(
        lake,
        rev_keys,
        [
            {"date": D.fromisoformat(k), "account_id": acct, "recognized_revenue_usd": usd}
            for k in rev_keys
            for acct, usd in (("a1", 10.0), ("a2", 20.0))
        ],
    )
    return lake
