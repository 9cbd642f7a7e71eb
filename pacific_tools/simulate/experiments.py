"""Three experiments with known truth: a real effect, a null, and a broken allocation (SRM).

The true effect is applied in the click model as a multiplier on the daily activity probability of
treated users from their assignment day until the experiment's end. Because every per-day
engagement quantity (sessions, events, hours) is "activity probability x what an active day looks
like", the expected value of each of them per unit-day (zero days included) rises by exactly
``true_relative_effect`` in treatment; an active day itself looks the same in both arms.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

from pacific_tools.simulate.config import SimConfig


@dataclass(frozen=True)
class Experiment:
    experiment_id: str
    kind: str  # true_effect | null | broken_allocation
    unit_type: str  # user | account
    primary_metric: str
    true_relative_effect: float
    registered_weights: tuple[float, float]  # control, treatment (what the registry says)
    actual_weights: tuple[float, float]  # what the allocator really did
    start_offset: float  # fraction of the horizon
    start_day_shift: int


EXPERIMENTS = (
    Experiment(
        "EXP-001-onboarding-checklist",
        "true_effect",
        "user",
        "sessions",
        0.10,
        (0.5, 0.5),
        (0.5, 0.5),
        0.25,
        0,
    ),
    Experiment(
        "EXP-002-dashboard-layout", "null", "account", "hours", 0.0, (0.5, 0.5), (0.5, 0.5), 0.25, 4
    ),
    Experiment(
        "EXP-003-pricing-page",
        "broken_allocation",
        "user",
        "sessions",
        0.0,
        (0.5, 0.5),
        (0.65, 0.35),
        0.25,
        8,
    ),
)
VARIANTS = ("control", "treatment")


def window(cfg: SimConfig, exp: Experiment) -> tuple[dt.date, dt.date]:
    """[start_date, end_date) of an experiment: a quarter into the horizon, <= 6 weeks long."""
    start = cfg.start + dt.timedelta(days=int(cfg.days * exp.start_offset) + exp.start_day_shift)
    length = max(3, min(42, int(cfg.days * 0.45)))
    end = min(start + dt.timedelta(days=length), cfg.end)
    return start, end


@dataclass
class Assignments:
    registry: pl.DataFrame
    assignments: pl.DataFrame  # experiment_id, unit_type, unit_id, variant, assigned_at(us int)
    truth: pl.DataFrame
    #: per user: first boosted day index, end day index (exclusive), multiplier
    boost_from: np.ndarray
    boost_to: np.ndarray
    boost_mult: np.ndarray


def assign(
    cfg: SimConfig,
    rng: np.random.Generator,
    user_created_us: np.ndarray,
    user_deact_us: np.ndarray,
    user_account: np.ndarray,
    user_ids: list[str] | pl.Series,
    account_created_us: np.ndarray,
    account_ids: list[str] | pl.Series,
) -> Assignments:
    """Exact-proportion random allocation (shuffle, then split) of every eligible unit."""
    start_us = _us(cfg.start)
    n_users = len(user_created_us)
    boost_from = np.full(n_users, 1 << 30, dtype=np.int64)
    boost_to = np.zeros(n_users, dtype=np.int64)
    boost_mult = np.ones(n_users)
    reg_rows, truth_rows, frames = [], [], []
    for exp in EXPERIMENTS:
        s, e = window(cfg, exp)
        s_us, e_us = _us(s), _us(e)
        if exp.unit_type == "user":
            alive = (user_created_us < e_us) & (user_deact_us > s_us)
            units = np.nonzero(alive)[0]
            created = user_created_us[units]
            ids = pl.Series(user_ids).gather(units)
        else:
            # accounts with at least one user alive in the window (someone could see the change)
            alive = (user_created_us < e_us) & (user_deact_us > s_us)
            units = np.unique(user_account[alive])
            created = account_created_us[units]
            ids = pl.Series(account_ids).gather(units)
        n = len(units)
        order = rng.permutation(n)
        n_control = round(n * exp.actual_weights[0])
        variant = np.ones(n, dtype=np.int8)
        variant[order[:n_control]] = 0
        jitter = rng.integers(0, 300_000_000, size=n)
        assigned = np.maximum(s_us + jitter, created)
        frames.append(
            pl.DataFrame(
                {
                    "experiment_id": exp.experiment_id,
                    "unit_type": exp.unit_type,
                    "unit_id": ids,
                    "variant": pl.Series(VARIANTS).gather(variant),
                    "assigned_at": assigned,
                }
            )
        )
        if exp.true_relative_effect and exp.unit_type == "user":
            treated = units[variant == 1]
            boost_from[treated] = (assigned[variant == 1] - start_us) // 86_400_000_000
            boost_to[treated] = (e_us - start_us) // 86_400_000_000
            boost_mult[treated] = 1.0 + exp.true_relative_effect
        reg_rows.append(
            dict(
                experiment_id=exp.experiment_id,
                unit_type=exp.unit_type,
                variants="|".join(VARIANTS),
                weights="|".join(f"{w:g}" for w in exp.registered_weights),
                start_date=s,
                end_date=e,
                primary_metric=exp.primary_metric,
            )
        )
        truth_rows.append(
            dict(
                experiment_id=exp.experiment_id,
                kind=exp.kind,
                metric=exp.primary_metric,
                true_relative_effect=exp.true_relative_effect,
                unit_type=exp.unit_type,
                start_date=s,
                end_date=e,
                registered_control_weight=exp.registered_weights[0],
                actual_control_weight=exp.actual_weights[0],
                units=n,
                control_units=n_control,
                treatment_units=n - n_control,
                srm_expected=exp.kind == "broken_allocation",
            )
        )
    return Assignments(
        registry=pl.DataFrame(reg_rows),
        assignments=pl.concat(frames).with_columns(pl.col("assigned_at").cast(pl.Int64)),
        truth=pl.DataFrame(truth_rows),
        boost_from=boost_from,
        boost_to=boost_to,
        boost_mult=boost_mult,
    )


def _us(d: dt.date) -> int:
    return int(dt.datetime(d.year, d.month, d.day, tzinfo=dt.UTC).timestamp()) * 1_000_000
