"""The account lifecycle as an explicit state machine, and the replay that builds status history.

Why a state machine: the Growth runbook's common issue is an AE forgetting a CRM step ("only
changes A, C, when step B is required to change to C"). The only way to *see* a forgotten step
is to know which step each transition requires. This module says it once, as data:

    status          reached by            allowed only from (the required predecessor)
    --------------  --------------------  ------------------------------------------------
    created         account_created       (nothing: the first step of every account)
    trial           trial_started         created
    subscribed      subscribed            created, trial
    renewal_opened  renewal_opened        subscribed, renewed (renewal_opened again = no-op)
    renewed         renewed               renewal_opened  (in the same contract term)
    churned         churned               created, trial (lost lead); a paying status, but
                                          inside the renewal window (contract end - 90 d ..)
                                          only from renewal_opened
    subscribed      reactivated           churned
    (unchanged)     seats_changed,        an active subscription: subscribed,
                    plan_changed,         renewal_opened, renewed
                    addon_added,
                    addon_removed

plus one rule about time: a paying account whose contract term has ended (effective date >=
``contract_end``) must have been renewed or churned before anything else happens to it; any other
event after the term end means ``renewed`` is missing.

When an event arrives in a status it is not allowed from, the missing predecessor(s) are imputed
(docs/semantic-contract.md, "Missing step imputation"): the shortest chain of lifecycle steps that
makes the event legal, each with ``effective_at`` = the successor's ``effective_at``,
``imputed=True`` and a sentence of evidence. Imputed steps therefore last zero time: they never
change an end-of-day status, they make the history honest (the step *did* happen, we only do not
know when) and flag the account.

Replay order per account: ``effective_at``, then ``recorded_at``, then ``event_id`` — so a late
CRM event (recorded weeks after it took effect) lands where it belongs in time.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import polars as pl

from pacific_assets.growth.columns import ACCOUNT_STATUS_HISTORY

#: Days before the contract end during which an account is "about to renew"
#: (docs/semantic-contract.md).
RENEWAL_WINDOW_DAYS = 90

PAYING_STATUSES = frozenset({"subscribed", "renewal_opened", "renewed"})


@dataclass(frozen=True)
class Transition:
    """A lifecycle event: the status it leads to and the statuses it may follow."""

    event_type: str
    to: str | None  # None = the status does not change (a contract change)
    allowed_from: frozenset[str | None]


TRANSITIONS: dict[str, Transition] = {
    t.event_type: t
    for t in (
        Transition("account_created", "created", frozenset({None})),
        Transition("trial_started", "trial", frozenset({"created"})),
        Transition("subscribed", "subscribed", frozenset({"created", "trial"})),
        Transition(
            "renewal_opened",
            "renewal_opened",
            frozenset({"subscribed", "renewed", "renewal_opened"}),
        ),
        Transition("renewed", "renewed", frozenset({"renewal_opened"})),
        Transition("churned", "churned", frozenset({"created", "trial", *PAYING_STATUSES})),
        Transition("reactivated", "subscribed", frozenset({"churned"})),
        *(
            Transition(e, None, PAYING_STATUSES)
            for e in ("seats_changed", "plan_changed", "addon_added", "addon_removed")
        ),
    )
}
#: Steps that may be imputed, in the order the path search prefers them on a tie.
IMPUTABLE = (
    "account_created",
    "subscribed",
    "renewal_opened",
    "renewed",
    "churned",
    "reactivated",
)

#: Imputed steps that start a contract take the successor's contract values (see replay_account).
STARTS_CONTRACT = frozenset({"subscribed", "reactivated"})

HISTORY_SCHEMA = ACCOUNT_STATUS_HISTORY.polars()

EVENT_COLUMNS = (
    "event_id",
    "account_id",
    "event_type",
    "effective_at",
    "recorded_at",
    "plan",
    "seats",
    "contract_end",
    "mrr_usd",
)


@dataclass
class _State:
    """What the replay knows about one account after its latest step."""

    status: str | None = None
    plan: str | None = None
    seats: int | None = None
    contract_mrr: float = 0.0  # last contracted MRR, kept through non-paying statuses
    contract_end: dt.date | None = None
    ever_paid: bool = False
    window_opened_mrr: float | None = None

    @property
    def paying(self) -> bool:
        return self.status in PAYING_STATUSES


def required_statuses(event: dict, state: _State) -> tuple[frozenset[str | None], str | None]:
    """Statuses the event may follow *now*, and the rule's wording when it adds a condition.

    Two rules depend on the contract term, not only on the status: a churn inside the renewal
    window must follow ``renewal_opened``; and after the term end only renewed/churned may come.
    """
    etype = event["event_type"]
    day = event["effective_at"].date()
    term_over = state.paying and state.contract_end is not None and day >= state.contract_end
    if term_over and etype not in ("renewed", "churned"):
        return frozenset({"renewed"}), (
            f"the contract term ended {state.contract_end} without renewed or churned"
        )
    if etype == "churned" and state.paying and state.contract_end is not None:
        window_start = state.contract_end - dt.timedelta(days=RENEWAL_WINDOW_DAYS)
        if day >= window_start:
            return frozenset({"renewal_opened"}), (
                f"churned inside the renewal window of the term ending {state.contract_end} "
                "requires renewal_opened in that term"
            )
    if etype == "renewed" and state.contract_end is not None:
        return TRANSITIONS[etype].allowed_from, (
            f"renewed requires renewal_opened in the contract term ending {state.contract_end}"
        )
    return TRANSITIONS[etype].allowed_from, None


def _rule_text(etype: str) -> str:
    allowed = sorted(s for s in TRANSITIONS[etype].allowed_from if s is not None)
    if etype == "account_created":
        return "account_created must come first"
    if TRANSITIONS[etype].to is None:
        return f"{etype} requires an active subscription ({', '.join(allowed)})"
    return f"{etype} requires a previous status of {' or '.join(allowed)}"


def missing_steps(status: str | None, allowed: frozenset[str | None]) -> list[str]:
    """Shortest chain of imputable steps from ``status`` into ``allowed`` (breadth first)."""
    if status in allowed:
        return []
    seen = {status}
    queue: deque[tuple[str | None, list[str]]] = deque([(status, [])])
    while queue:
        current, path = queue.popleft()
        for step in IMPUTABLE:
            t = TRANSITIONS[step]
            if current not in t.allowed_from or t.to in seen:
                continue
            nxt = [*path, step]
            if t.to in allowed:
                return nxt
            seen.add(t.to)
            queue.append((t.to, nxt))
    return []  # no legal chain (cannot happen with the table above); the event applies as is


def _step_row(account_id: str, state: _State, **fields: object) -> dict:
    return {
        "account_id": account_id,
        "status": state.status,
        "plan": state.plan,
        "seats": state.seats,
        "mrr_usd": state.contract_mrr if state.paying else 0.0,
        "contract_end": state.contract_end,
        "is_paying": state.paying,
        "ever_paid": state.ever_paid,
        "window_opened_mrr_usd": state.window_opened_mrr,
        "renewal_expansion_usd": None,
        "imputed": False,
        "imputed_evidence": None,
        **fields,
    }


def _apply(state: _State, etype: str, event: dict | None) -> float | None:
    """Move ``state`` through one step; returns the renewal expansion on renewed steps.

    ``event`` carries the values *after* the event (plan, seats, contract_end, mrr_usd); a null
    keeps the previous value, except on ``churned``: a churn ends the contract, so the CRM's
    after-state (no plan, 0 seats, no contract end) is taken as it is. ``event=None`` (an imputed
    step with nothing known) changes only the status; an imputed renewal also moves the term end
    by one year (contracts are annual).
    """
    before_mrr = state.contract_mrr
    transition = TRANSITIONS[etype]
    if transition.to is not None:
        state.status = transition.to
    if event is not None and etype == "churned":
        state.plan, state.seats, state.contract_end = (
            event["plan"],
            event["seats"],
            event["contract_end"],
        )
    elif event is not None:
        if event["plan"] is not None:
            state.plan = event["plan"]
        if event["seats"] is not None:
            state.seats = event["seats"]
        if event["mrr_usd"] is not None:
            state.contract_mrr = float(event["mrr_usd"])
        if event["contract_end"] is not None:
            state.contract_end = event["contract_end"]
    elif etype == "renewed" and state.contract_end is not None:
        state.contract_end = _add_year(state.contract_end)
    if state.paying:
        state.ever_paid = True
    expansion = None
    if etype == "renewal_opened" and state.window_opened_mrr is None:
        state.window_opened_mrr = state.contract_mrr
    elif etype == "renewed":
        opened = state.window_opened_mrr if state.window_opened_mrr is not None else before_mrr
        expansion = round(state.contract_mrr - opened, 2)
        state.window_opened_mrr = None
    elif etype in ("churned", "reactivated", "subscribed"):
        state.window_opened_mrr = None
    return expansion


def _add_year(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


def replay_account(account_id: str, events: Iterable[dict]) -> Iterator[dict]:
    """Replay one account's events (already in replay order); yield one row per step."""
    state = _State()
    step = 0
    for event in events:
        etype = event["event_type"]
        if etype not in TRANSITIONS:
            continue  # staging only lets contract event types through; stay safe anyway
        if etype == "account_created" and state.status is not None:
            continue  # a second "created" for a live account says nothing new
        # Impute until the event is legal. Usually one chain; a second round only when the first
        # answered the term rule (e.g. "reactivated" after the term end also needs "churned").
        for _ in range(3):
            allowed, condition = required_statuses(event, state)
            chain = missing_steps(state.status, allowed)
            if not chain:
                break
            rule = condition or _rule_text(etype)
            evidence = (
                f"{etype} on {event['effective_at']:%Y-%m-%d} (event {event['event_id']}) "
                f"while the status was {state.status or 'none (no account_created)'}: {rule}"
            )
            for missing in chain:
                # A subscription we never saw start is best described by its first known state
                # (the successor's plan, seats, MRR, term); other steps only change the status.
                known = event if missing in STARTS_CONTRACT else None
                _apply(state, missing, known)
                step += 1
                yield _step_row(
                    account_id,
                    state,
                    step=step,
                    valid_from=event["effective_at"],
                    event_id=f"imputed:{event['event_id']}:{missing}",
                    event_type=missing,
                    recorded_at=None,
                    imputed=True,
                    imputed_evidence=evidence,
                )
        expansion = _apply(state, etype, event)
        step += 1
        yield _step_row(
            account_id,
            state,
            step=step,
            valid_from=event["effective_at"],
            event_id=event["event_id"],
            event_type=etype,
            recorded_at=event["recorded_at"],
            renewal_expansion_usd=expansion,
        )


def build_history(events: pl.DataFrame) -> pl.DataFrame:
    """Status history (one row per step, validity ``[valid_from, valid_to)``) from CRM events.

    ``events`` holds the contract columns of ``stg_account_events``, one row per event_id.
    """
    ordered = events.select(EVENT_COLUMNS).sort(
        ["account_id", "effective_at", "recorded_at", "event_id"], nulls_last=True
    )
    rows: list[dict] = []
    for (account_id,), group in ordered.group_by(["account_id"], maintain_order=True):
        rows.extend(replay_account(str(account_id), group.iter_rows(named=True)))
    if not rows:
        return HISTORY_SCHEMA.to_frame()
    history = pl.from_dicts(rows, schema=HISTORY_SCHEMA)
    return history.with_columns(
        pl.col("valid_from").shift(-1).over("account_id", order_by="step").alias("valid_to")
    ).sort("account_id", "step")
