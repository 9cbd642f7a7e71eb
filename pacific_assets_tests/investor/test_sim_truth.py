"""On the simulated "test" company, through every upstream pipeline: the rollup equals the truth.

The whole chain (staging, growth, engagement, profit) runs on a copy of the simulated landing
zone, then both rollup assets. Expected values are computed here from the simulator's truth
tables (never read by the assets), on the scope free of the faults that touch each KPI
(fault_manifest.json "fault_free_scope"):

- MRR, paying accounts, NRR/GRR, movements: every account and every month. For the accounts
  with a skipped CRM step the rollup can only know what growth's documented imputation
  (docs/growth.md: the skipped step takes effect at its successor; an imputed ``subscribed``
  takes the successor's plan, seats and MRR, any other imputed step carries the state over) makes
  of the landed events. That timeline is built here from the simulator's own events (the company
  regenerated from the seed) and its truth functions, never from a pipeline table;
- engagement: months without an outage day; profit: months without missing invoices.

Months with an injected outage or filings mismatch must be flagged incomplete, naming the input.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import shutil

import dagster as dg
import polars as pl
import pytest

from pacific_assets.resources import LakeResource
from pacific_assets.storage.lake import Lake
from pacific_assets_tests.declared import assert_written_as_declared
from pacific_assets_tests.knowable import knowable_timeline
from pacific_assets_tests.runs import checks_by_name, materialize_in_waves, range_tags

pytestmark = pytest.mark.spark
DATA_END = dt.datetime(2025, 12, 10, tzinfo=dt.UTC)  # the "test" profile's exclusive end
AS_OF = "2025-12-10T06:00:00Z"
MONTHS = [dt.date(2025, 9, 1), dt.date(2025, 10, 1), dt.date(2025, 11, 1)]
TARGETS = ("investor_rollup", "executive_weekly")
#: The sim_data fixture's simulation (pacific_assets_tests/conftest.py).
PROFILE, SEED = "test", 7


def _ancestors(graph, keys) -> list[dg.AssetKey]:
    seen, stack = set(), list(keys)
    while stack:
        for parent in graph.get(stack.pop()).parent_keys:
            if graph.has(parent) and parent not in seen:
                seen.add(parent)
                stack.append(parent)
    return [
        k for k in graph.toposorted_asset_keys if k in seen and k in graph.materializable_asset_keys
    ]


def _range_tags(pdef) -> dict[str, str]:
    if pdef is None:
        return {}
    keys = pdef.get_partition_keys(current_time=DATA_END)  # periods that ended with the data
    return range_tags(keys[0], keys[-1])


@pytest.fixture(scope="module")
def sim(sim_data, spark, tmp_path_factory) -> dict:
    from pacific_assets.definitions import defs

    lake = Lake(tmp_path_factory.mktemp("investor_sim") / "data")
    shutil.copytree(sim_data.landing, lake.landing)
    graph = defs.resolve_asset_graph()
    resources = {
        **defs.resources,
        "lake": LakeResource(data_root=str(lake.root), duckdb_memory_limit="1GB", duckdb_threads=2),
    }
    instance = dg.DagsterInstance.ephemeral()
    wanted = _ancestors(graph, [dg.AssetKey(t) for t in TARGETS])
    materialize_in_waves(defs, wanted, resources, instance, _range_tags)
    checks = {}
    for target in TARGETS:
        key = dg.AssetKey(target)
        result = dg.materialize(
            list(defs.assets),
            selection=[key],
            resources=resources,
            instance=instance,
            tags=_range_tags(graph.get(key).partitions_def),
            run_config={"ops": {target: {"config": {"as_of": AS_OF}}}},
        )
        assert result.success
        checks[target] = checks_by_name(result)
    manifest = json.loads((sim_data.truth / "fault_manifest.json").read_text())
    return {"lake": lake, "truth": sim_data.truth, "manifest": manifest, "checks": checks}


def _company(sim, table: str, period_col: str) -> dict[dt.date, dict]:
    rows = sim["lake"].read(table).filter(pl.col("segment") == "all")
    return {r[period_col]: r for r in rows.iter_rows(named=True)}


@pytest.fixture(scope="module")
def knowable(sim) -> dict[str, pl.DataFrame]:
    return knowable_timeline(sim["truth"], sim["manifest"], PROFILE, SEED)


def test_growth_imputes_each_skipped_step_at_its_successor(sim, knowable) -> None:
    """The pipeline's account timeline equals the documented imputation, day by day, for the
    accounts with a skipped step (and the truth for the others)."""
    cols = ["date", "account_id", "status", "mrr_usd", "is_paying"]
    mine = sim["lake"].read("account_status_daily").select(cols).sort(["date", "account_id"])
    want = knowable["status"].select(cols).sort(["date", "account_id"])
    skipped = sim["manifest"]["fault_free_scope"]["accounts_with_skipped_steps"]
    truth = pl.read_parquet(sim["truth"] / "account_status_daily.parquet").select(cols)
    # the imputation really changes the timeline of those accounts (else this proves nothing)
    assert not want.filter(pl.col("account_id").is_in(skipped)).equals(
        truth.filter(pl.col("account_id").is_in(skipped)).sort(["date", "account_id"])
    )
    diff = mine.join(want, on=["date", "account_id"], how="full", coalesce=True).filter(
        pl.col("status").ne_missing(pl.col("status_right"))
        | pl.col("is_paying").ne_missing(pl.col("is_paying_right"))
        | (pl.col("mrr_usd") - pl.col("mrr_usd_right")).abs().fill_null(1.0).gt(1e-9)
    )
    assert diff.is_empty(), diff


def _close(got, want, what: str, tol: float = 1e-6) -> None:
    assert got is not None and math.isclose(got, want, rel_tol=tol, abs_tol=tol), (
        f"{what}: {got} != {want}"
    )


def test_mrr_and_retention_equal_truth(sim, knowable) -> None:
    rollup = _company(sim, "investor_rollup", "month_start")
    status = knowable["status"]
    for month in MONTHS:
        last = (month + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
        end = status.filter(pl.col("date") == last)
        row = rollup[month]
        _close(row["mrr_usd"], end["mrr"].sum(), f"{month} mrr")
        assert row["paying_accounts"] == end["is_paying"].sum(), f"{month} paying accounts"
        if month == MONTHS[0]:
            continue  # the day before the grid is not in the truth tables
        start = status.filter(pl.col("date") == month - dt.timedelta(days=1))
        cohort = start.filter(pl.col("is_paying")).join(end, on="account_id", suffix="_end")
        _close(row["starting_mrr_usd"], start["mrr"].sum(), f"{month} opening mrr")
        _close(row["nrr"], cohort["mrr_end"].sum() / cohort["mrr"].sum(), f"{month} nrr")
        capped = cohort.select(pl.min_horizontal("mrr", "mrr_end")).to_series().sum()
        _close(row["grr"], capped / cohort["mrr"].sum(), f"{month} grr")
        churned = cohort.filter(~pl.col("is_paying_end")).height
        _close(row["logo_churn_rate"], churned / cohort.height, f"{month} logo churn")


def test_movements_equal_truth_every_month(sim, knowable) -> None:
    """The simulator's own monthly movements of the knowable timeline, for every month."""
    rollup = _company(sim, "investor_rollup", "month_start")
    expected = {r["month_start"]: r for r in knowable["growth_monthly"].iter_rows(named=True)}
    for month in MONTHS:
        for col in (
            "new_mrr_usd",
            "expansion_mrr_usd",
            "contraction_mrr_usd",
            "churned_mrr_usd",
            "reactivation_mrr_usd",
        ):
            _close(rollup[month][col], expected[month][col], f"{month} {col}")


def test_engagement_equals_truth_outside_outages(sim) -> None:
    rollup = _company(sim, "investor_rollup", "month_start")
    outage_months = {
        dt.date.fromisoformat(d).replace(day=1)
        for d in sim["manifest"]["fault_free_scope"]["outage_dates"]
    }
    users = pl.read_parquet(sim["truth"] / "engagement_users_daily.parquet").filter(
        pl.col("licensed") & (pl.col("events") > 0)
    )
    accounts = pl.read_parquet(sim["truth"] / "engagement_daily.parquet")
    clean = [m for m in MONTHS if m not in outage_months]
    assert clean
    for month in clean:
        days = ((month + dt.timedelta(days=32)).replace(day=1) - month).days
        in_month = pl.col("date").dt.month_start() == month
        u = users.filter(in_month)
        a = accounts.filter(in_month)
        row = rollup[month]
        assert row["active_users"] == u["user_id"].n_unique(), f"{month} active users"
        _close(row["avg_daily_active_users"], u.height / days, f"{month} avg dau")
        _close(row["dau_mau"], u.height / days / u["user_id"].n_unique(), f"{month} dau/mau")
        _close(row["total_hours"], a["total_hours"].sum(), f"{month} hours", tol=1e-6)
        _close(
            row["hours_per_active_user_per_day"],
            a["total_hours"].sum() / a["active_users"].sum(),
            f"{month} hours per active user per day",
        )


def test_profit_equals_truth_where_no_invoice_is_missing(sim) -> None:
    rollup = _company(sim, "investor_rollup", "month_start")
    gaps = {
        dt.date.fromisoformat(m + "-01")
        for m in sim["manifest"]["fault_free_scope"]["months_with_missing_invoices"]
    }
    truth = {
        r["month_start"]: r
        for r in pl.read_parquet(sim["truth"] / "unit_profit_monthly.parquet").iter_rows(named=True)
    }
    clean = [m for m in MONTHS if m not in gaps]
    assert clean
    for month in clean:
        row, want = rollup[month], truth[month]
        _close(
            row["recognized_revenue_usd"],
            want["recognized_revenue_usd"],
            f"{month} revenue",
            tol=1e-4,
        )
        _close(row["profit_usd"], want["profit_usd"], f"{month} profit", tol=1e-4)
        assert row["paying_subscribers"] == want["paying_subscribers"]
        _close(
            row["profit_per_subscriber_usd"],
            want["profit_usd"] / want["paying_subscribers"],
            f"{month} unit profit",
            tol=1e-4,
        )


def test_outage_and_filing_mismatch_months_are_flagged(sim) -> None:
    rollup = _company(sim, "investor_rollup", "month_start")
    scope = sim["manifest"]["fault_free_scope"]
    outage = {dt.date.fromisoformat(d).replace(day=1) for d in scope["outage_dates"]}
    mismatch = {dt.date.fromisoformat(m + "-01") for m in scope["filing_mismatch_months"]}
    assert outage and mismatch
    for month in outage:
        assert not rollup[month]["is_complete"]
        assert "engagement_completeness" in rollup[month]["incomplete_inputs"]
        assert "outage" in rollup[month]["incomplete_reason"]
        assert rollup[month]["publication_status"] == "incomplete"
    for month in mismatch:
        assert not rollup[month]["is_complete"]
        assert "profit_reconciliation" in rollup[month]["incomplete_inputs"]
        assert "filings mismatch" in rollup[month]["incomplete_reason"]
        assert rollup[month]["publication_status"] == "incomplete"
    check = sim["checks"]["investor_rollup"]["inputs_not_stale_or_incomplete"]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.ERROR
    # The outage week of the executive pack is flagged too.
    weekly = _company(sim, "executive_weekly", "week_start")
    for day in scope["outage_dates"]:
        d = dt.date.fromisoformat(day)
        week = d - dt.timedelta(days=d.weekday())
        assert (
            not weekly[week]["is_complete"]
            and "engagement_completeness" in weekly[week]["incomplete_inputs"]
        )


def test_clean_months_are_published_and_record_is_fresh(sim) -> None:
    rollup = _company(sim, "investor_rollup", "month_start")
    scope = sim["manifest"]["fault_free_scope"]
    faulty = {dt.date.fromisoformat(d).replace(day=1) for d in scope["outage_dates"]} | {
        dt.date.fromisoformat(m + "-01") for m in scope["filing_mismatch_months"]
    }
    clean = [m for m in MONTHS if m not in faulty]
    # seed 7: September (October has the outage, November the filing mismatch); without a clean
    # month the loop below would check nothing
    assert clean, f"no clean month in {MONTHS}: faults {sorted(faulty)}"
    for month in clean:
        assert rollup[month]["is_complete"], rollup[month]["incomplete_reason"]
        assert rollup[month]["publication_status"] == "published"
    status = sim["lake"].read("rollup_input_status")
    gated = status.filter(pl.col("input_grain") != "dimension")
    # Runs went through Dagster in dependency order: every input was assessed and is fresh.
    assert gated["freshness_assessed"].all()
    assert gated.filter(pl.col("status") == "stale").height == 0
    checks = sim["checks"]["investor_rollup"]
    assert checks["no_nan_or_unexplained_null"].passed
    assert checks["mrr_bridge_balances"].passed


def test_every_table_the_chain_writes_has_its_declared_columns(sim) -> None:
    """Staging, growth, engagement, profit and both rollups write exactly the columns they
    declare (pacific_assets/columns.py); the other tables are held to theirs where their own
    fixtures build them."""
    from pacific_assets.columns import declared_tables

    checked = set(assert_written_as_declared(sim["lake"]))
    not_built_here = {  # held in engagement/test_sim_data.py and experiments' tests
        "engagement_hours_by_team",
        "ab_unit_daily",
        "ab_unit_covariates",
        "experiment_results",
        "stg_experiment_assignments",
        "stg_experiment_registry",
        "quarantine",
    }
    assert set(declared_tables()) - not_built_here <= checked
