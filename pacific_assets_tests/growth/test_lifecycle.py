"""The lifecycle state machine: clean stories stay clean, every kind of missing step is imputed."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from pacific_assets.growth.lifecycle import (
    HISTORY_SCHEMA,
    TRANSITIONS,
    build_history,
    missing_steps,
)
from pacific_assets_tests.growth.fixtures import event, events_frame, terms, ts


def history(*events: dict) -> pl.DataFrame:
    return build_history(events_frame(events))


def steps(h: pl.DataFrame) -> list[tuple[str, str, bool]]:
    return list(h.select("event_type", "status", "imputed").iter_rows())


def imputed(h: pl.DataFrame) -> pl.DataFrame:
    return h.filter(pl.col("imputed"))


#: The clean lifecycle's first term: growth, 10 seats, $500/month, ending 2026-09-10.
SUB = terms("growth", 10, "2026-09-10", 500.0)
#: Account A's first annual term, where most gap stories start: created 2025-01-01, on the growth
#: plan from 2025-01-10 with 10 seats at $500/month, the term ending 2026-01-10.
CREATED = event("e1", "A", "account_created", "2025-01-01")
SUBSCRIBED = event(
    "e2", "A", "subscribed", "2025-01-10", **terms("growth", 10, "2026-01-10", 500.0)
)


def test_a_clean_lifecycle_needs_no_imputation() -> None:
    """created -> trial -> subscribed -> seats -> window -> renewed -> window -> churned
    -> reactivated -> plan change: every step has its predecessor."""
    h = history(
        event("e01", "A", "account_created", "2025-09-01"),
        event("e02", "A", "trial_started", "2025-09-02", plan="growth", seats=3, mrr=0.0),
        event("e03", "A", "subscribed", "2025-09-10", **SUB),
        event(
            "e04", "A", "seats_changed", "2025-10-01", **terms("growth", 12, "2026-09-10", 600.0)
        ),
        event(
            "e05", "A", "renewal_opened", "2026-06-12", **terms("growth", 12, "2026-09-10", 600.0)
        ),
        event("e06", "A", "renewed", "2026-09-10", **terms("growth", 14, "2027-09-10", 700.0)),
        event(
            "e07", "A", "renewal_opened", "2027-06-12", **terms("growth", 14, "2027-09-10", 700.0)
        ),
        event("e08", "A", "churned", "2027-09-10", seats=0, mrr=0.0),
        event("e09", "A", "reactivated", "2027-12-01", **terms("starter", 5, "2028-12-01", 125.0)),
        event("e10", "A", "plan_changed", "2028-01-05", **terms("growth", 5, "2028-12-01", 250.0)),
    )
    assert imputed(h).is_empty()
    assert h["status"].to_list() == [
        "created",
        "trial",
        "subscribed",
        "subscribed",
        "renewal_opened",
        "renewed",
        "renewal_opened",
        "churned",
        "subscribed",
        "subscribed",
    ]
    # validity intervals chain: each step is valid until the next one takes effect
    assert h["valid_to"].to_list()[:-1] == h["valid_from"].to_list()[1:]
    assert h["valid_to"][-1] is None
    # MRR is 0 outside paying statuses; a churn clears plan and contract end
    assert h["mrr_usd"].to_list() == [
        0.0,
        0.0,
        500.0,
        600.0,
        600.0,
        700.0,
        700.0,
        0.0,
        125.0,
        250.0,
    ]
    churn = h.filter(pl.col("event_type") == "churned").row(0, named=True)
    assert (churn["plan"], churn["seats"], churn["contract_end"]) == (None, 0, None)
    # renewal expansion: MRR at renewal (700) - MRR when the window opened (600)
    assert h.filter(pl.col("event_type") == "renewed")["renewal_expansion_usd"].to_list() == [100.0]


def test_a_lapsed_trial_churns_without_a_subscription() -> None:
    h = history(
        event("e1", "A", "account_created", "2025-09-01"),
        event("e2", "A", "trial_started", "2025-09-02", plan="starter", seats=2, mrr=0.0),
        event("e3", "A", "churned", "2025-09-16", seats=0, mrr=0.0),
    )
    assert imputed(h).is_empty()
    assert h["is_paying"].to_list() == [False, False, False]
    assert h["ever_paid"].to_list() == [False, False, False]


def test_renewed_without_renewal_opened_imputes_the_window_at_the_renewal() -> None:
    h = history(
        CREATED,
        SUBSCRIBED,
        event("e3", "A", "renewed", "2026-01-10", **terms("growth", 11, "2027-01-10", 550.0)),
    )
    assert steps(h) == [
        ("account_created", "created", False),
        ("subscribed", "subscribed", False),
        ("renewal_opened", "renewal_opened", True),
        ("renewed", "renewed", False),
    ]
    gap = imputed(h).row(0, named=True)
    assert gap["valid_from"] == gap["valid_to"] == ts("2026-01-10")  # zero-length, at the successor
    assert gap["event_id"] == "imputed:e3:renewal_opened"
    assert gap["recorded_at"] is None
    assert gap["mrr_usd"] == 500.0  # nothing known about the window: the state carries over
    assert gap["imputed_evidence"] == (
        "renewed on 2026-01-10 (event e3) while the status was subscribed: renewed requires "
        "renewal_opened in the contract term ending 2026-01-10"
    )
    # the window "opened" at the renewal, with the MRR in force then
    assert h.filter(pl.col("event_type") == "renewed")["renewal_expansion_usd"].item() == 50.0


def test_second_renewal_without_its_window_is_detected_too() -> None:
    """renewed -> renewed: the new term's renewal_opened is missing (same status twice)."""
    h = history(
        event("e1", "A", "account_created", "2024-01-01"),
        event("e2", "A", "subscribed", "2024-01-10", **{**SUB, "contract_end": "2025-01-10"}),
        event("e3", "A", "renewal_opened", "2024-10-12"),
        event("e4", "A", "renewed", "2025-01-10", contract_end="2026-01-10"),
        event("e5", "A", "renewed", "2026-01-10", contract_end="2027-01-10"),
    )
    assert imputed(h)["event_id"].to_list() == ["imputed:e5:renewal_opened"]


def test_churn_at_term_end_without_renewal_opened_is_detected() -> None:
    h = history(
        CREATED,
        SUBSCRIBED,
        event("e3", "A", "churned", "2026-01-10", seats=0, mrr=0.0),
    )
    assert steps(h)[2:] == [
        ("renewal_opened", "renewal_opened", True),
        ("churned", "churned", False),
    ]
    assert "churned inside the renewal window of the term ending 2026-01-10" in (
        imputed(h)["imputed_evidence"].item()
    )


def test_a_mid_term_cancellation_outside_the_window_is_legal() -> None:
    h = history(
        CREATED,
        SUBSCRIBED,
        event("e3", "A", "churned", "2025-05-01", seats=0, mrr=0.0),
    )
    assert imputed(h).is_empty()


@pytest.mark.parametrize(
    "change", ["seats_changed", "plan_changed", "addon_added", "addon_removed"]
)
@pytest.mark.parametrize("before", ["trial", "created"])
def test_contract_changes_before_subscribed_impute_the_subscription(
    change: str, before: str
) -> None:
    evs = [event("e1", "A", "account_created", "2025-09-01")]
    if before == "trial":
        evs.append(event("e2", "A", "trial_started", "2025-09-02", plan="growth", seats=3, mrr=0.0))
    evs.append(event("e3", "A", change, "2025-09-20", **terms("growth", 12, "2026-09-08", 650.0)))
    h = history(*evs)
    gap = imputed(h).row(0, named=True)
    assert (gap["event_type"], gap["status"], gap["valid_from"]) == (
        "subscribed",
        "subscribed",
        ts("2025-09-20"),
    )
    # the subscription we never saw start takes the first state we know of it
    assert (gap["plan"], gap["seats"], gap["mrr_usd"], gap["contract_end"]) == (
        "growth",
        12,
        650.0,
        dt.date(2026, 9, 8),
    )
    assert f"{change} requires an active subscription" in gap["imputed_evidence"]
    assert h["status"][-1] == "subscribed"


def test_reactivated_without_churned_imputes_the_churn() -> None:
    h = history(
        CREATED,
        SUBSCRIBED,
        event("e3", "A", "reactivated", "2025-06-01", **terms("starter", 4, "2026-06-01", 100.0)),
    )
    assert steps(h)[2:] == [("churned", "churned", True), ("reactivated", "subscribed", False)]
    assert (
        "reactivated requires a previous status of churned" in imputed(h)["imputed_evidence"].item()
    )


def test_contract_change_after_a_churn_imputes_the_reactivation() -> None:
    h = history(
        CREATED,
        SUBSCRIBED,
        event("e3", "A", "churned", "2025-03-01", seats=0, mrr=0.0),
        event("e4", "A", "seats_changed", "2025-05-01", **terms("growth", 6, "2026-05-01", 300.0)),
    )
    assert imputed(h)["event_type"].to_list() == ["reactivated"]
    assert imputed(h)["mrr_usd"].to_list() == [300.0]


def test_events_without_account_created_impute_the_creation() -> None:
    h = history(SUBSCRIBED)
    assert steps(h) == [("account_created", "created", True), ("subscribed", "subscribed", False)]


def test_activity_after_the_term_end_without_renewal_imputes_window_and_renewal() -> None:
    """The account is still active a week after its term ended: it must have renewed."""
    h = history(
        CREATED,
        SUBSCRIBED,
        event("e3", "A", "seats_changed", "2026-01-17", plan="growth", seats=12, mrr=600.0),
    )
    assert steps(h)[2:] == [
        ("renewal_opened", "renewal_opened", True),
        ("renewed", "renewed", True),
        ("seats_changed", "renewed", False),
    ]
    assert (
        "the contract term ended 2026-01-10 without renewed or churned"
        in (imputed(h)["imputed_evidence"][0])
    )
    assert h["contract_end"][-1] == dt.date(2027, 1, 10)  # annual: the imputed renewal adds a year


def test_replay_order_is_effective_then_recorded_then_event_id() -> None:
    """A late event (recorded weeks later) takes its place by effective time."""
    h = history(
        event("e1", "A", "account_created", "2025-09-01"),
        event(
            "e9",
            "A",
            "subscribed",
            "2025-09-03",
            **terms("starter", 2, "2026-09-03", 50.0),
            recorded="2025-10-20",
        ),
        event("e3", "A", "seats_changed", "2025-09-10", **terms("starter", 4, "2026-09-03", 100.0)),
        # same instant: recorded_at decides, then event_id
        event("e5", "A", "addon_added", "2025-09-12", mrr=300.0, recorded="2025-09-12T15:00"),
        event("e4", "A", "addon_removed", "2025-09-12", mrr=200.0, recorded="2025-09-12T15:00"),
        event("e6", "A", "plan_changed", "2025-09-12", mrr=250.0, recorded="2025-09-12T13:00"),
    )
    assert h["event_id"].to_list() == ["e1", "e9", "e3", "e6", "e4", "e5"]
    assert imputed(h).is_empty()


def test_every_event_type_has_a_transition_and_gaps_have_a_path() -> None:
    """Every illegal (status, event) has a chain of missing steps, except the few that no missing
    step can explain (a second account_created or trial, subscribed again): those apply as is."""
    from pacific_assets.contracts import CRM_EVENT_TYPES

    assert set(TRANSITIONS) == set(CRM_EVENT_TYPES)
    statuses = [None, "created", "trial", "subscribed", "renewal_opened", "renewed", "churned"]
    unexplained = {
        (etype, status)
        for etype, t in TRANSITIONS.items()
        for status in statuses
        if status not in t.allowed_from and not missing_steps(status, t.allowed_from)
    }
    paid_or_gone = ("subscribed", "renewal_opened", "renewed", "churned")
    assert unexplained == {
        *(("account_created", s) for s in statuses if s is not None),
        *(("trial_started", s) for s in ("trial", *paid_or_gone)),
        *(("subscribed", s) for s in paid_or_gone),
    }


def test_subscribed_again_after_a_churn_applies_as_is() -> None:
    h = history(
        event("e1", "A", "account_created", "2025-01-01"),
        event("e2", "A", "subscribed", "2025-01-10", **SUB),
        event("e3", "A", "churned", "2025-03-01", seats=0, mrr=0.0),
        event("e4", "A", "subscribed", "2025-05-01", **SUB),
    )
    assert imputed(h).is_empty()
    assert h["status"].to_list() == ["created", "subscribed", "churned", "subscribed"]


def test_two_rules_at_once_impute_both_chains() -> None:
    """reactivated a month after the term ended, with no renewal and no churn on record: the
    term rule imputes the window and the renewal, the status rule then the churn."""
    h = history(
        CREATED,
        SUBSCRIBED,
        event("e3", "A", "reactivated", "2026-02-10", **terms("growth", 5, "2027-02-10", 250.0)),
    )
    assert [r[0] for r in steps(imputed(h))] == ["renewal_opened", "renewed", "churned"]
    assert h["status"][-1] == "subscribed"


@pytest.mark.parametrize(
    ("day", "window"),
    [
        # the term ends 2026-01-10; its renewal window opens 90 days before: 2025-10-12
        ("2025-10-11", False),
        ("2025-10-12", True),
    ],
)
def test_the_renewal_window_opens_exactly_90_days_before_the_term_end(
    day: str, window: bool
) -> None:
    h = history(CREATED, SUBSCRIBED, event("e3", "A", "churned", day, seats=0, mrr=0.0))
    expected = [("renewal_opened", "renewal_opened", True)] if window else []
    assert steps(h)[2:] == [*expected, ("churned", "churned", False)]


@pytest.mark.parametrize(
    ("day", "term_over"),
    [
        ("2026-01-09", False),  # the last day of the term (contract_end is exclusive)
        ("2026-01-10", True),  # the term end itself: renewed or churned must come first
    ],
)
def test_the_term_is_over_on_its_end_date(day: str, term_over: bool) -> None:
    h = history(
        CREATED,
        SUBSCRIBED,
        event("e3", "A", "seats_changed", day, **terms("growth", 12, "2026-01-10", 600.0)),
    )
    expected = (
        [("renewal_opened", "renewal_opened", True), ("renewed", "renewed", True)]
        if term_over
        else []
    )
    assert steps(h)[2:] == [
        *expected,
        ("seats_changed", "renewed" if term_over else "subscribed", False),
    ]


def test_the_evidence_names_the_event_the_status_and_the_rule() -> None:
    """The sentence of each rule, as the module docstring's table states it (allowed statuses
    sorted, joined by 'or' for a previous status and listed for an active subscription)."""
    no_created = history(
        event("e2", "A", "subscribed", "2025-01-10", **terms("growth", 10, "2026-01-10", 500.0))
    )
    assert imputed(no_created)["imputed_evidence"].to_list() == [
        "subscribed on 2025-01-10 (event e2) while the status was none (no account_created): "
        "subscribed requires a previous status of created or trial"
    ]
    early = history(
        CREATED,
        event("e3", "A", "seats_changed", "2025-02-01", **terms("growth", 12, "2026-01-10", 600.0)),
    )
    assert imputed(early)["imputed_evidence"].to_list() == [
        "seats_changed on 2025-02-01 (event e3) while the status was created: seats_changed "
        "requires an active subscription (renewal_opened, renewed, subscribed)"
    ]
    window = history(CREATED, SUBSCRIBED, event("e3", "A", "churned", "2025-12-01", seats=0))
    assert imputed(window)["imputed_evidence"].to_list() == [
        "churned on 2025-12-01 (event e3) while the status was subscribed: churned inside the "
        "renewal window of the term ending 2026-01-10 requires renewal_opened in that term"
    ]


def test_each_step_is_numbered_and_keeps_when_the_crm_recorded_it() -> None:
    """Steps 1..n per account; a real step keeps its event's recorded_at, an imputed one has
    none (nobody recorded it); the renewal window's opening MRR is held from renewal_opened
    until the renewal or a churn; the expansion is rounded to cents."""
    renewed_mrr = 6400 / 12  # an annual contract of $6,400: $533.333... a month
    h = history(
        CREATED,
        SUBSCRIBED,
        event(
            "e3", "A", "renewal_opened", "2025-11-01", **terms("growth", 10, "2026-01-10", 500.0)
        ),
        event("e4", "A", "renewed", "2026-01-10", **terms("growth", 12, "2027-01-10", renewed_mrr)),
        event(
            "e5", "A", "renewal_opened", "2026-11-01", **terms("growth", 12, "2027-01-10", 550.0)
        ),
        event("e6", "A", "churned", "2026-12-01", seats=0, mrr=0.0),
    )
    assert h["step"].to_list() == [1, 2, 3, 4, 5, 6]
    assert h["recorded_at"].to_list() == [
        ts(d) + dt.timedelta(minutes=1)
        for d in (
            "2025-01-01",
            "2025-01-10",
            "2025-11-01",
            "2026-01-10",
            "2026-11-01",
            "2026-12-01",
        )
    ]
    assert h["window_opened_mrr_usd"].to_list() == [None, None, 500.0, None, 550.0, None]
    # 533.333... - 500 = 33.333...: $33.33
    assert h["renewal_expansion_usd"].to_list() == [None, None, None, 33.33, None, None]
    gap = history(event("e2", "A", "subscribed", "2025-01-10", **SUB))
    assert gap["step"].to_list() == [1, 2]
    assert gap["recorded_at"].to_list() == [None, ts("2025-01-10") + dt.timedelta(minutes=1)]


def test_an_imputed_renewal_moves_a_leap_day_term_end_to_february_28() -> None:
    """A term ending 2028-02-29 renewed (imputed: the CRM skipped it) runs to 2029-02-28; the
    imputed window opening leaves the term end alone."""
    h = history(
        event("e1", "A", "account_created", "2027-01-01"),
        event("e2", "A", "subscribed", "2027-03-01", **terms("growth", 10, "2028-02-29", 500.0)),
        event("e3", "A", "seats_changed", "2028-03-05", seats=12),
    )
    assert steps(h)[2:] == [
        ("renewal_opened", "renewal_opened", True),
        ("renewed", "renewed", True),
        ("seats_changed", "renewed", False),
    ]
    assert h["contract_end"].to_list() == [
        None,
        dt.date(2028, 2, 29),
        dt.date(2028, 2, 29),
        dt.date(2029, 2, 28),
        dt.date(2029, 2, 28),
    ]


def test_unknown_events_and_a_second_creation_are_skipped_not_the_end_of_the_story() -> None:
    h = history(
        CREATED,
        event("e2", "A", "note_added", "2025-01-05"),
        event("e3", "A", "account_created", "2025-01-06"),
        SUBSCRIBED,
    )
    assert steps(h) == [("account_created", "created", False), ("subscribed", "subscribed", False)]


def test_accounts_are_replayed_apart_and_the_history_has_its_schema() -> None:
    h = history(
        event("b1", "B", "account_created", "2025-01-02"),
        CREATED,
        event("b2", "B", "subscribed", "2025-01-03", **SUB),
        SUBSCRIBED,
    )
    assert h.select("account_id", "step", "event_id").rows() == [
        ("A", 1, "e1"),
        ("A", 2, "e2"),
        ("B", 1, "b1"),
        ("B", 2, "b2"),
    ]
    # each step is valid until the next step of the same account; the last one has no end
    assert h["valid_to"].to_list() == [ts("2025-01-10"), None, ts("2025-01-03"), None]
    assert h.schema == HISTORY_SCHEMA


def test_the_expansion_is_measured_from_the_mrr_when_the_window_opened() -> None:
    """A seats change inside the renewal window does not move the baseline: the expansion is
    the renewed MRR less the MRR when the window opened (600 - 500), not less the MRR just
    before the renewal (550); ever_paid stays true after the churn."""
    h = history(
        CREATED,
        SUBSCRIBED,
        event(
            "e3", "A", "renewal_opened", "2025-11-01", **terms("growth", 10, "2026-01-10", 500.0)
        ),
        event("e4", "A", "seats_changed", "2025-12-01", **terms("growth", 11, "2026-01-10", 550.0)),
        event("e5", "A", "renewed", "2026-01-10", **terms("growth", 12, "2027-01-10", 600.0)),
        event("e6", "A", "churned", "2026-03-01", seats=0, mrr=0.0),
    )
    assert h["renewal_expansion_usd"].to_list() == [None, None, None, None, 100.0, None]
    assert h["ever_paid"].to_list() == [False, True, True, True, True, True]
