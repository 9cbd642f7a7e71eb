"""Fixtures for the experiment pipeline tests: a hand-made lake whose numbers are worked out in
test_ab_unit_daily.py."""

from __future__ import annotations

import datetime as dt

import pytest

from pacific_assets.experiments.pseudonymize import PseudonymizerResource
from pacific_assets.storage.lake import Lake
from pacific_assets_tests.experiments import fixtures as fx
from pacific_assets_tests.experiments.fixtures import assignment, engagement_row, experiment

D = dt.date
TEST_KEY = "test-key-for-pytest"
#: hand_lake's engagement on 2025-09-16 (u1 with 2 late events); a re-run test adds to it.
DAY_16_ENGAGEMENT = [
    engagement_row(D(2025, 9, 16), "u1", "a1", 3, 1.25, 12, late_events=2),
    engagement_row(D(2025, 9, 16), "u4", "a2", 1, 0.5, 2),
]


@pytest.fixture
def pseudonymizer() -> PseudonymizerResource:
    return PseudonymizerResource(key=TEST_KEY)


@pytest.fixture
def hand_lake(lake: Lake) -> Lake:
    """Two experiments (user and account units) with every assignment problem the runbook names."""
    start, end = D(2025, 9, 15), D(2025, 9, 18)
    registry = [
        # id, unit, variants, weights, start, end (exclusive), primary metric
        experiment("exp_user", "user", "control|treatment", "0.5|0.5", start, end, "sessions"),
        experiment(
            "exp_acct", "account", "control|treatment", "1|1", start, None, "hours_per_active_day"
        ),
        experiment("exp_bad", "account", "a|b", "0.5", start, None, "sessions"),  # 1 weight, 2 arms
    ]
    fx.write_registry(lake, registry)
    assignments = [
        # experiment, unit type, unit, variant, assigned at (, export date)
        assignment("exp_user", "user", "u1", "control", "2025-09-15T10:00:00Z"),
        assignment("exp_user", "user", "u2", "treatment", "2025-09-16T08:00:00Z"),
        # u1 again, other variant: first exposure (control) wins
        assignment("exp_user", "user", "u1", "treatment", "2025-09-17T09:00:00Z"),
        assignment("exp_user", "user", "u3", "treatment", "2025-09-15T12:00:00Z"),
        # the same assignment re-exported the next day: a duplicate row, not a re-assignment
        assignment("exp_user", "user", "u3", "treatment", "2025-09-15T12:00:00Z", D(2025, 9, 16)),
        assignment("exp_user", "user", "u9", "blue", "2025-09-15T12:00:00Z"),  # variant unknown
        assignment("exp_user", "user", "u4", "control", "2025-09-14T23:00:00Z"),  # before start
        assignment("exp_acct", "account", "a1", "control", "2025-09-15T00:30:00Z"),
        assignment("exp_acct", "account", "a2", "treatment", "2025-09-15T01:00:00Z"),
        assignment("exp_nope", "user", "u1", "control", "2025-09-15T01:00:00Z"),  # not registered
    ]
    fx.write_assignments(lake, assignments)
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
    fx.write_engagement(
        lake,
        keys,
        [
            # day, user, account, sessions, hours, events (, late events)
            engagement_row(D(2025, 9, 10), "u1", "a1", 2, 1.5, 10),
            engagement_row(D(2025, 9, 10), "u3", "a2", 1, 0.25, 3),
            engagement_row(D(2025, 9, 12), "u2", "a1", 1, 1.0, 5),
            engagement_row(D(2025, 9, 15), "u1", "a1", 1, 0.5, 4),
            engagement_row(D(2025, 9, 15), "u2", "a1", 2, 2.0, 8),
            engagement_row(D(2025, 9, 15), "u3", "a2", 1, 0.0, 1),
            *DAY_16_ENGAGEMENT,
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
