"""What the pipelines can know of the simulated company's accounts, from the simulator alone.

A skipped CRM step (the growth runbook's common issue) cannot be seen until its successor lands;
growth imputes it there (docs/growth.md, "Missing steps"). Tests of everything downstream of
growth (profit's subscriber counts, the investor rollup) need that timeline as the expected
value: built here from the simulator's own events and truth functions with the documented rule.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl

from pacific_tools.simulate import truth as T
from pacific_tools.simulate.company import simulate_company
from pacific_tools.simulate.config import make_config


def knowable_timeline(
    truth: Path, manifest: dict, profile: str = "test", seed: int = 7
) -> dict[str, pl.DataFrame]:
    """The account timeline and monthly movements the pipeline can know: the simulator's events
    with each skipped step imputed at its successor, as docs/growth.md defines the imputation.

    ``truth``/``manifest``: the simulation's truth folder and fault manifest, made with ``profile``
    and ``seed``. The company is regenerated from the seed exactly as the simulator made it (its
    status table is checked to be the truth's), so the expected figures come from the simulator
    alone, never from a pipeline table. Returns ``status`` (the truth's account_status_daily
    columns, plus ``mrr``: MRR while paying, else 0) and ``growth_monthly`` (the truth's
    account_growth_monthly columns)."""
    cfg = make_config(profile, seed=seed)
    # the simulator's first child seed sequence draws the company (Simulation.rng_company)
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(1)[0])
    company = simulate_company(cfg, rng)
    events = T.events_frame(company)
    truth_status = pl.read_parquet(truth / "account_status_daily.parquet")
    assert T.account_status_daily(cfg, company, events).equals(truth_status)
    skipped = manifest["crm"]["skipped_steps"]
    assert skipped, "the simulator injected no skipped CRM step"
    by_id = {r["event_id"]: r for r in events.iter_rows(named=True)}
    values = ("plan", "seats", "mrr_usd", "contract_end")
    gone = [step["missing_event_id"] for step in skipped]
    knowable = events.filter(~pl.col("event_id").is_in(gone))
    for step in skipped:
        missing, successor = by_id[step["missing_event_id"]], by_id[step["successor_event_id"]]
        account = knowable.filter(pl.col("account_id") == missing["account_id"])
        prior = account.filter(pl.col("effective_at") < missing["effective_at"]).row(-1, named=True)
        between = (pl.col("account_id") == missing["account_id"]) & pl.col(
            "effective_at"
        ).is_between(missing["effective_at"], successor["effective_at"], closed="left")
        # Without the skipped step, the events in between apply to the status before it.
        knowable = knowable.with_columns(
            status=pl.when(between).then(pl.lit(prior["status"])).otherwise(pl.col("status"))
        )
        last = account.filter(pl.col("effective_at") < successor["effective_at"]).row(
            -1, named=True
        )
        # An imputed subscribed/reactivated takes the successor's values, any other imputed step
        # carries the state in force over; it takes effect just before its successor.
        source = successor if missing["event_type"] in ("subscribed", "reactivated") else last
        at = successor["effective_at"] - dt.timedelta(microseconds=1)
        assert at.date() == successor["effective_at"].date()
        imputed = missing | {"effective_at": at, "recorded_at": None}
        imputed |= {v: source[v] for v in values}
        knowable = pl.concat([knowable, pl.DataFrame([imputed], schema=events.schema)])
    knowable = knowable.sort(["account_id", "effective_at"])
    status = T.account_status_daily(cfg, company, knowable)
    return {
        "status": status.with_columns(
            mrr=pl.when(pl.col("is_paying")).then(pl.col("mrr_usd")).otherwise(0.0)
        ),
        "growth_monthly": T.account_growth(cfg, knowable, status, "month"),
    }
