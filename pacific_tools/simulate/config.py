"""Simulator knobs and the named profiles (test, demo, bench, replay).

Every knob has a default; a profile is a small set of overrides. ``end`` is exclusive: the
simulator produces every day in ``[start, end)``. The "test" profile is fixed-date (independent of
today) so test expectations never drift; "demo" runs from the data root's first day (a new data
root: the 1st of the month four months back) up to yesterday (UTC).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class FaultCounts:
    """Exact number of each injected fault (docs/simulator.md "Faults"). Zero turns a fault off."""

    late_clicks: int = 40  # landed > 48 h after event_ts (hours to weeks late)
    delayed_clicks: int = 20  # in a later batch but within 48 h: not late (semantic contract)
    duplicate_clicks: int = 30  # same event_id re-sent in a later batch
    outage_hours: float = 6.0  # Kafka outage window length (0 = no outage)
    skipped_renewal_opened: int = 2  # renewal_opened missing before renewed/churned
    skipped_subscribed: int = 2  # subscribed missing before its next event
    late_crm_events: int = 3  # recorded_at weeks after effective_at
    #: (min, max) days between effective_at and recorded_at of a late CRM event
    late_crm_delay_days: tuple[float, float] = (14.0, 45.0)
    missing_invoices: int = 2  # an account-month with a subscription and no invoice
    filing_mismatch_months: int = 1  # filed values differ from the true books
    #: only pick a mismatch month whose filing lands before the horizon end (replay: a wrong
    #: filing nobody sees in the window is no fault)
    filing_mismatch_in_horizon_only: bool = False
    #: daily billing exports that land ``late_billing_export_days`` days later than normal
    late_billing_exports: int = 0
    late_billing_export_days: int = 3
    #: billing lines of a closed month landed with a wrong amount, then restated by a correction
    #: file in the same folder 14-21 days later
    corrected_billing_exports: int = 0
    #: malformed rows per (source, kind); extra rows with their own keys, valid data untouched
    malformed: tuple[tuple[str, str, int], ...] = (
        ("invoice_lines", "bad_number", 2),
        ("invoice_lines", "bad_timestamp", 1),
        ("ops_expenses", "bad_number", 1),
        ("accounts", "missing_required", 1),
        ("directory_users", "bad_timestamp", 1),
        ("account_events", "broken_json", 1),
        ("experiment_assignments", "missing_required", 1),
        ("clicks", "broken_json", 2),
    )


@dataclass(frozen=True)
class SimConfig:
    """Scale and shape of the simulated company."""

    profile: str = "test"
    seed: int = 7
    start: dt.date = dt.date(2025, 9, 1)
    #: exclusive end; None = profile default
    end: dt.date | None = None
    #: accounts in total: the ones that existed before ``start`` plus the ones created in range
    accounts: int = 30
    #: share of ``accounts`` that already existed (with CRM/billing history) before ``start``
    preexisting_share: float = 0.5
    #: mean directory users per account (licensed + unlicensed); seats follow it
    users_per_account: float = 6.0
    #: mean click events per live user per day (inactive days included)
    events_per_user_day: float = 3.0
    #: multiplies events_per_user_day (the x10 benchmark)
    clicks_multiplier: float = 1.0
    #: ingest batches per day (clicks land in slots of 24 / batches_per_day hours)
    batches_per_day: int = 4
    kafka_partitions: int = 8
    #: chance that a churned customer comes back (30-180 days later)
    reactivation_p: float = 0.3
    #: multiplies the yearly churn probability at contract end (per segment: 25/12/6 %)
    churn_multiplier: float = 1.0
    schema_drift: bool = False
    faults: FaultCounts = field(default_factory=FaultCounts)
    #: write the user-level engagement truth table (big at bench scale)
    user_level_truth: bool = True

    @property
    def days(self) -> int:
        assert self.end is not None
        return (self.end - self.start).days


def _yesterday_exclusive_end() -> dt.date:
    """Demo data runs up to yesterday (UTC) inclusive, so the exclusive end is today (UTC):
    today on the project's clock (Dagster's, ``pacific_assets.clock``), which tests can move."""
    from pacific_assets import clock  # imports Dagster: only the demo profile needs it

    return clock.now().date()


#: A profile's ``start`` that means "the data root's first day": the day its grids record
#: (``pacific_assets.data_root``), else ``PACIFIC_START_DATE``, else for a new data root the 1st of
#: the month ``DEMO_MONTHS_BACK`` months back.
DATA_ROOT_START = "data root"
#: Closed months a new demo holds before the current one: 120-151 days whatever the date, so
#: `make demo` stays the same size as the calendar advances (docs/benchmarks.md "A demo window
#: that does not grow").
DEMO_MONTHS_BACK = 4


def demo_first_day(data_root: Path | None, today: dt.date) -> dt.date:
    """The first day of a demo company simulated into ``data_root`` on ``today``: a data root
    keeps the day it records, so its grids never move under it."""
    from pacific_assets.data_root import OVERRIDE_ENV, recorded_first_day

    recorded = recorded_first_day(data_root) if data_root is not None else None
    if recorded is not None:
        return recorded
    if os.environ.get(OVERRIDE_ENV):
        return dt.date.fromisoformat(os.environ[OVERRIDE_ENV])
    months = today.year * 12 + today.month - 1 - DEMO_MONTHS_BACK
    return dt.date(months // 12, months % 12 + 1, 1)


PROFILES: dict[str, dict] = {
    # tiny, fixed dates, fast: the sim_data fixture of the test suite
    "test": dict(
        accounts=50,
        preexisting_share=0.6,
        churn_multiplier=2.0,
        users_per_account=6,
        events_per_user_day=3.0,
        end=dt.date(2025, 12, 10),
        # more churn and comebacks than real life, so the tiny company shows every movement
        reactivation_p=0.9,
    ),
    # a few hundred accounts from the data root's first day (a new one: the 1st of the month four
    # months back, README "Configuration") up to yesterday
    "demo": dict(
        start=DATA_ROOT_START,
        accounts=300,
        preexisting_share=0.4,
        users_per_account=6,
        events_per_user_day=2.5,
        end=None,
        faults=FaultCounts(
            late_clicks=300,
            delayed_clicks=150,
            duplicate_clicks=400,
            skipped_renewal_opened=6,
            skipped_subscribed=5,
            late_crm_events=10,
            missing_invoices=4,
            late_billing_exports=1,
            corrected_billing_exports=1,
        ),
    ),
    # 20k accounts, ~1M users, ~30M clicks over 30 days
    "bench": dict(
        accounts=20_000,
        preexisting_share=0.9,
        users_per_account=50,
        events_per_user_day=1.0,
        end=dt.date(2025, 10, 1),
        user_level_truth=False,
        faults=FaultCounts(
            late_clicks=10_000,
            delayed_clicks=5_000,
            duplicate_clicks=20_000,
            skipped_renewal_opened=40,
            skipped_subscribed=40,
            late_crm_events=100,
            missing_invoices=30,
        ),
    ),
    # the "test" company over 35 days with hourly click batches and every fault at small counts:
    # the data a replay (release.LandingRelease) lands day by day into a live Dagster instance
    "replay": dict(
        accounts=50,
        preexisting_share=0.6,
        churn_multiplier=2.0,
        users_per_account=6,
        events_per_user_day=3.0,
        reactivation_p=0.9,
        days=35,
        batches_per_day=24,
        faults=FaultCounts(
            late_clicks=12,
            delayed_clicks=8,
            duplicate_clicks=10,
            outage_hours=4.0,
            skipped_renewal_opened=1,
            skipped_subscribed=1,
            late_crm_events=1,
            # effective ~3 weeks before it lands, so it fits a 35-day window
            late_crm_delay_days=(20.0, 22.0),
            missing_invoices=1,
            filing_mismatch_months=1,
            filing_mismatch_in_horizon_only=True,
            late_billing_exports=1,
            corrected_billing_exports=1,
        ),
    ),
}


def make_config(profile: str = "test", data_root: Path | None = None, **overrides) -> SimConfig:
    """Profile defaults, then overrides; ``days`` is accepted as a shortcut for ``end``.

    ``data_root``: where the company will land (the demo profile starts on its first day).

    A profile may give its length as ``days`` (replay): then ``end`` follows the start, and an
    explicit ``end`` override wins over the profile's ``days``.
    """
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")
    given = {k: v for k, v in overrides.items() if v is not None}
    defaults = dict(PROFILES[profile])
    if "end" in given and "days" not in given:
        defaults.pop("days", None)
    values = {**defaults, **given}
    values["profile"] = profile
    start = values.get("start", SimConfig.start)
    if start == DATA_ROOT_START:
        start = demo_first_day(data_root, _yesterday_exclusive_end())
    if isinstance(start, str):
        start = dt.date.fromisoformat(start)
    values["start"] = start
    days = values.pop("days", None)
    if days is not None:
        values["end"] = start + dt.timedelta(days=int(days))
    end = values.get("end")
    if isinstance(end, str):
        end = dt.date.fromisoformat(end)
    if end is None:
        end = _yesterday_exclusive_end()
    values["end"] = end
    if isinstance(values.get("faults"), dict):
        # a dict changes some counts of the profile's faults and keeps the others
        base = defaults.get("faults", FaultCounts())
        values["faults"] = dataclasses.replace(base, **values["faults"])
    known = {f.name for f in dataclasses.fields(SimConfig)}
    unknown = set(values) - known
    if unknown:
        raise ValueError(f"unknown simulator option(s): {', '.join(sorted(unknown))}")
    cfg = SimConfig(**values)
    if cfg.days < 3:
        raise ValueError(
            f"simulate at least 3 days (start {cfg.start}, end {cfg.end}): use --days 3 or more"
        )
    return cfg
