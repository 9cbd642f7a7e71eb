"""Growth on the simulated company against the simulator's ground truth.

The landed CRM exports (with their injected faults: skipped steps, late events, a malformed row)
go through the real staging asset and the growth assets. Then:

- every injected skipped step is detected (recall 100%) and nothing else is imputed;
- weekly and monthly movements equal the truth exactly on the accounts without an injected
  fault. The truth files cover all accounts, so the clean-scope truth is recomputed with the
  simulator's own truth functions on the clean accounts' events — after checking that the same
  functions on all accounts reproduce the truth files exactly;
- end-of-week statuses equal the truth (faulted accounts: except while their missing step hid
  the true status).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from pacific_assets.resources import LakeResource
from pacific_assets.staging.assets import STAGING_ASSETS
from pacific_assets.storage.lake import Lake
from pacific_assets_tests.growth.fixtures import keys_within, materialize, materialize_growth

STG = next(a for a in STAGING_ASSETS if a.key == dg.AssetKey("stg_account_events"))
STATUS_COLUMNS = ["status", "plan", "seats", "mrr_usd", "contract_end", "is_paying"]
COMPARED = [
    "new_accounts", "churned_accounts", "renewed_accounts", "reactivated_accounts",
    "seats_added", "seats_removed", "new_mrr_usd", "expansion_mrr_usd", "contraction_mrr_usd",
    "churned_mrr_usd", "reactivation_mrr_usd", "net_change_accounts", "net_new_mrr_usd",
    "renewing_accounts", "renewal_expansion_usd",
]  # fmt: skip


class Sim:
    """The simulated company run through staging and growth twice: all accounts, clean only."""

    def __init__(self, sim_data: Lake, tmp: Path):
        self.truth = sim_data.truth
        self.manifest = json.loads((sim_data.truth / "fault_manifest.json").read_text())
        self.first = self.manifest["start"]
        self.last = (
            dt.date.fromisoformat(self.manifest["end_exclusive"]) - dt.timedelta(days=1)
        ).isoformat()
        self.faulted = set(self.manifest["fault_free_scope"]["accounts_with_skipped_steps"])
        # all accounts: staged by the real staging asset from the landed JSONL
        root = tmp / "all"
        root.mkdir(parents=True)
        (root / "landing").symlink_to(sim_data.landing)
        self.all = Lake(root)
        resource = LakeResource(data_root=str(root))
        materialize([STG], resource, dg.DagsterInstance.ephemeral(), self.first, self.last)
        materialize_growth(resource, self.first, self.last)
        # clean accounts only: the same staged rows without the faulted accounts
        self.clean = Lake(tmp / "clean")
        staged = self.all.read("stg_account_events")
        self.clean.write_partitions(
            "stg_account_events",
            "export_date",
            self.all.partition_keys("stg_account_events"),
            staged.filter(~pl.col("account_id").is_in(sorted(self.faulted))),
        )
        materialize_growth(LakeResource(data_root=str(self.clean.root)), self.first, self.last)

    def truth_table(self, name: str) -> pl.DataFrame:
        return pl.read_parquet(self.truth / f"{name}.parquet")


@pytest.fixture(scope="module")
def sim(sim_data: Lake, tmp_path_factory: pytest.TempPathFactory) -> Sim:
    return Sim(sim_data, tmp_path_factory.mktemp("growth_sim"))


def clean_truth(sim: Sim, grain: str) -> pl.DataFrame:
    """The simulator's truth functions on the clean accounts' true events."""
    from pacific_tools.simulate import make_config
    from pacific_tools.simulate import truth as T
    from pacific_tools.simulate.company import simulate_company
    from pacific_tools.simulate.run import Simulation

    m = sim.manifest
    cfg = make_config(m["profile"], seed=m["seed"], start=m["start"], end=m["end_exclusive"])
    company = simulate_company(cfg, Simulation(cfg, Path("unused"), lambda _: None).rng_company)
    events = T.events_frame(company)
    status = T.account_status_daily(cfg, company, events)
    name = "account_growth_weekly" if grain == "week" else "account_growth_monthly"
    # the reconstruction reproduces the truth files exactly ...
    assert T.account_growth(cfg, events, status, grain).equals(sim.truth_table(name))
    # ... so the same functions on the clean accounts give the clean-scope truth
    keep = ~pl.col("account_id").is_in(sorted(sim.faulted))
    return T.account_growth(cfg, events.filter(keep), status.filter(keep), grain)


def test_every_skipped_step_is_detected_and_nothing_else(sim: Sim) -> None:
    history = sim.all.read("account_status_history")
    found = {
        (r["account_id"], r["event_type"], r["event_id"].split(":")[1])
        for r in history.filter("imputed").iter_rows(named=True)
    }
    injected = {
        (s["account_id"], s["missing_event_type"], s["successor_event_id"])
        for s in sim.manifest["crm"]["skipped_steps"]
    }
    assert injected, "the simulated company should have skipped steps to find"
    assert found == injected  # recall 100%, and no imputation on clean accounts


@pytest.mark.parametrize("grain,table,key", [("week", "account_growth", "week_start"),
                                             ("month", "account_growth_monthly", "month_start")])  # fmt: skip
def test_movements_equal_the_truth_on_clean_accounts(
    sim: Sim, grain: str, table: str, key: str
) -> None:
    import pacific_assets.partitions as P

    pdef = P.weekly if grain == "week" else P.monthly
    closed = [dt.date.fromisoformat(k) for k in keys_within(pdef, sim.first, sim.last)]
    expected = clean_truth(sim, grain).filter(pl.col(key).is_in(closed)).select(key, *COMPARED)
    mine = sim.clean.read(table).sort(key).select(key, *COMPARED)
    assert mine[key].to_list() == closed
    assert expected.height == len(closed)
    for column in COMPARED:
        got, want = mine[column].to_list(), expected[column].to_list()
        if mine.schema[column] == pl.Float64:
            assert got == pytest.approx(want, abs=1e-6), column
        else:
            assert got == want, column
    # not a vacuous comparison: the company moves
    assert sum(mine["new_accounts"]) > 0 and sum(mine["churned_accounts"]) > 0
    assert sum(mine["expansion_mrr_usd"]) > 0 and sum(mine["renewed_accounts"]) > 0


def test_end_of_week_statuses_equal_the_truth(sim: Sim) -> None:
    """Every Sunday, every account: clean accounts exactly; a faulted account differs only on
    Sundays between its missing step and the successor that revealed it."""
    truth = sim.truth_table("account_status_daily").filter(pl.col("date").dt.weekday() == 7)
    mine = sim.all.read("account_status_daily").filter(pl.col("date").dt.weekday() == 7)
    joined = truth.join(mine, on=["date", "account_id"], how="full", suffix="_mine")
    assert joined.filter(pl.col("date").is_null() | pl.col("date_mine").is_null()).is_empty()
    differs = pl.any_horizontal(pl.col(c).ne_missing(pl.col(f"{c}_mine")) for c in STATUS_COLUMNS)
    bad = joined.filter(differs)
    hidden = {
        s["account_id"]: (
            dt.datetime.fromisoformat(s["missing_effective_at"]).date(),
            dt.datetime.fromisoformat(s["successor_effective_at"]).date(),
        )
        for s in sim.manifest["crm"]["skipped_steps"]
    }
    unexplained = [
        r
        for r in bad.iter_rows(named=True)
        if not (
            r["account_id"] in hidden
            and hidden[r["account_id"]][0] <= r["date"] < hidden[r["account_id"]][1]
        )
    ]
    assert unexplained == []
    assert mine.height > 100
