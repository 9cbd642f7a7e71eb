"""Profit on the simulated company, compared with the simulator's ground truth.

Scope (docs/semantic-contract.md "ground truth is compared on the scope free of faults for that
pipeline"): every complete month that has no injected billing fault (``fault_free_scope.
months_with_missing_invoices``). Tolerance: half a cent on money, exact on counts. The truth sums
the very same decimal amounts that landed in the CSV files, in a different order and with a
different engine, so the only legitimate difference is floating-point rounding (about 1e-9 $ on
these sums); half a cent is far below the smallest real error (an invoice line or an expense is
dollars), so any semantic difference fails.

Two tests: one runs the real staging assets and takes account statuses from the truth (profit's
own correctness, independent of growth's imputation); the other runs the whole chain staging →
growth → profit.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from pacific_assets.dagster_compat import ASSET_PARTITION_RANGE_END_TAG as END_TAG
from pacific_assets.dagster_compat import ASSET_PARTITION_RANGE_START_TAG as START_TAG
from pacific_assets.profit.settings import ProfitSettings
from pacific_assets.resources import LakeResource
from pacific_assets.storage.lake import Lake
from pacific_assets_tests.knowable import knowable_timeline
from pacific_assets_tests.runs import checks_by_name, range_tags
from pacific_tools.demo import grid_waves, wave_runs

PROFIT = [
    "invoice_lines_current",
    "recognized_revenue_daily",
    "cash_collected_daily",
    "profit_expenses",
    "unit_profit",
    "account_unit_economics",
    "profit_reconciliation",
]
STAGING = ["stg_invoice_lines", "stg_ops_expenses", "stg_salaries", "stg_filings"]
MONEY = [
    "cash_collected_usd",
    "recognized_revenue_usd",
    "opex_usd",
    "capex_amortization_usd",
    "salaries_usd",
    "total_expenses_usd",
    "profit_usd",
]
COUNTS = ["paying_subscribers", "licensed_seats"]
HALF_CENT = 0.005
#: The reconciliation tolerance of docs/profit.md (``PACIFIC_RECONCILIATION_TOLERANCE``): 0.5 %.
TOLERANCE = 0.005


def _defs(lake_resource: LakeResource) -> dg.Definitions:
    """The real code location with the lake pointed at the test's data root."""
    from pacific_assets.definitions import defs

    return dg.Definitions(
        assets=list(defs.assets or []),
        asset_checks=list(defs.asset_checks or []),
        resources={
            **(defs.resources or {}),
            "lake": lake_resource,
            "profit_settings": ProfitSettings(),
        },
    )


def _missing(defs: dg.Definitions, names: list[str]) -> list[str]:
    graph = defs.resolve_asset_graph()
    return [
        n
        for n in names
        if not graph.has(dg.AssetKey(n)) or not graph.get(dg.AssetKey(n)).is_materializable
    ]


def _closure(graph, targets: list[str], stop: set[str]) -> set[dg.AssetKey]:
    """Materializable assets the targets need, not walking past ``stop``."""
    todo, seen = [dg.AssetKey(t) for t in targets], set()
    while todo:
        key = todo.pop()
        if key in seen or key.to_user_string() in stop:
            continue
        seen.add(key)
        todo.extend(graph.get(key).parent_keys)
    return {k for k in seen if graph.get(k).is_materializable}


def _range_tags(pdef, start: dt.date, end: dt.date) -> dict[str, str]:
    """The partitions whose whole window lies in [start, end) (complete weeks and months only)."""
    if pdef is None:
        return {}
    lo = dt.datetime.combine(start, dt.time(), dt.UTC)
    hi = dt.datetime.combine(end, dt.time(), dt.UTC)
    keys = [
        k
        for k in pdef.get_partition_keys()
        if pdef.time_window_for_partition_key(k).start >= lo
        and pdef.time_window_for_partition_key(k).end <= hi
    ]
    return range_tags(keys[0], keys[-1])


def _run_in_waves(
    defs: dg.Definitions, keys: set[dg.AssetKey], start: dt.date, end: dt.date
) -> dict[str, dg.AssetCheckEvaluation]:
    """Materialize ``keys`` parents-first, one range run per (wave, partition grid); returns the
    check evaluations of all runs by check name."""
    job = defs.resolve_implicit_global_asset_job_def()
    graph = defs.resolve_asset_graph()
    instance = dg.DagsterInstance.ephemeral()
    checks = {}
    for pdef, wave in grid_waves(defs, keys):
        tags = _range_tags(pdef, start, end)
        first, last = tags.get(START_TAG), tags.get(END_TAG)
        lake = defs.resources["lake"]
        for group, first_last in wave_runs(graph, lake, pdef, wave, first, last):
            result = job.execute_in_process(
                instance=instance,
                asset_selection=group,
                tags=range_tags(*first_last) if first_last else {},
            )
            assert result.success, [k.to_user_string() for k in group]
            checks |= checks_by_name(result)
    return checks


def _copy_landing(sim: Lake, root: Path) -> Lake:
    """A data root of the test's own with the simulated landing zone (clicks left out)."""
    shutil.copytree(sim.landing, root / "landing", ignore=shutil.ignore_patterns("clickstream"))
    shutil.copytree(sim.truth, root / "truth")
    return Lake(root)


def _paying_at(status: pl.DataFrame, day: dt.date) -> pl.DataFrame:
    return status.filter((pl.col("date") == day) & pl.col("is_paying"))


def _assert_matches_truth(
    lake: Lake,
    checks: dict[str, dg.AssetCheckEvaluation],
    status: pl.DataFrame,
    crm_faulty: frozenset[str] = frozenset(),
) -> list[dt.date]:
    """``status``: the account statuses profit can know (the truth's, or for the whole chain the
    simulator's timeline with growth's documented imputation, pacific_assets_tests.knowable).
    ``crm_faulty``: accounts whose CRM history has an injected skipped step. Their status can
    only be known from the step's successor (growth imputes it there), so a billing gap on days
    before that is invisible."""
    manifest = json.loads((lake.truth / "fault_manifest.json").read_text())
    faulty = set(manifest["fault_free_scope"]["months_with_missing_invoices"])
    truth = pl.read_parquet(lake.truth / "unit_profit_monthly.parquet")
    ours = {r["month_start"]: r for r in lake.read("unit_profit").iter_rows(named=True)}
    gaps = lake.read("account_unit_economics").filter(pl.col("uninvoiced_paying_days") > 0)
    found = {(f"{r['month_start']:%Y-%m}", r["account_id"]) for r in gaps.iter_rows(named=True)}
    injected = {
        (m, x["account_id"])
        for x in manifest["billing"]["missing_invoices"]
        for m in x["revenue_gap_by_month"]
    }
    compared = []
    for t in truth.filter(pl.col("is_complete_month")).iter_rows(named=True):
        month, row = t["month_start"], ours[t["month_start"]]
        key = f"{month:%Y-%m}"
        # Every injected missing invoice is reported for the months it left unbilled, and the
        # month is marked incomplete: never silently published.
        expected_gaps = {g for g in injected if g[0] == key and g[1] not in crm_faulty}
        assert expected_gaps <= found, (key, expected_gaps - found)
        if expected_gaps:
            assert row["is_complete"] is False, key
        if key in faulty:
            continue
        for c in MONEY:
            assert row[c] == pytest.approx(t[c], abs=HALF_CENT), (key, c)
        assert row["accounts_with_uninvoiced_days"] == 0, key
        # Subscribers and seats: the accounts paying at the end of the month's last day.
        last_day = t["status_as_of"]
        paying = _paying_at(status, last_day)
        ours_paying = _paying_at(
            lake.read("account_status_daily", [last_day.isoformat()]), last_day
        )
        assert set(ours_paying["account_id"]) == set(paying["account_id"]), key
        assert row["paying_subscribers"] == paying.height, key
        assert row["licensed_seats"] == paying["seats"].sum(), key
        compared.append(month)
    assert compared, "no fault-free complete month to compare"

    # The injected filing mismatch is caught with the right variance (computed − filed).
    rec = {
        f"{r['month_start']:%Y-%m}": r
        for r in lake.read("profit_reconciliation").iter_rows(named=True)
    }
    mismatches = manifest["filings"]["mismatches"]
    assert mismatches, "the simulator injected no filing mismatch"
    for m in mismatches:
        r = rec[m["month"]]
        assert r["status"] == "mismatch"
        assert r["filed_revenue_usd"] == pytest.approx(m["filed_revenue_usd"], abs=1e-9)
        # The manifest rounds the true figures to cents: allow that plus our half cent.
        expected = m["true_revenue_usd"] - m["filed_revenue_usd"]
        assert r["revenue_variance_usd"] == pytest.approx(expected, abs=0.01)
        expected = m["true_expenses_usd"] - m["filed_expenses_usd"]
        assert r["expenses_variance_usd"] == pytest.approx(expected, abs=0.01)
        # The reason names each figure outside the tolerance with both amounts, and only those.
        reason = r["status_reason"]
        off = []
        for what in ("revenue", "expenses"):
            true, filed = m[f"true_{what}_usd"], m[f"filed_{what}_usd"]
            if abs(true - filed) > TOLERANCE * abs(filed):
                off.append(what)
                said = re.search(rf"{what} computed \$([\d,.]+) vs filed \$([\d,.]+)", reason)
                assert said, reason
                computed, filed_said = (float(x.replace(",", "")) for x in said.groups())
                assert computed == pytest.approx(true, abs=0.01), reason
                assert filed_said == pytest.approx(filed, abs=0.005), reason
            else:
                assert f"{what} computed" not in reason, reason
        assert off, f"the injected mismatch of {m['month']} is within the tolerance: {m}"
        # and the reconciliation check fails (ERROR) naming the month.
        check = checks["reconciled_with_filings"]
        assert not check.passed and check.severity == dg.AssetCheckSeverity.ERROR
        assert f"{m['month']} MISMATCH: {reason}" in check.description, check.description
    # Every complete month's status, derived by hand: our books are the truth less the revenue
    # the injected missing invoices leave out (the only billing faults this seed injects); the
    # filing is the truth rounded to cents, or the manifest's filed figures in a mismatch month.
    assert not manifest["billing"]["late_exports"] and not manifest["billing"]["corrections"]
    gap_by_month: dict[str, float] = {}
    for x in manifest["billing"]["missing_invoices"]:
        for m, usd in x["revenue_gap_by_month"].items():
            gap_by_month[m] = gap_by_month.get(m, 0.0) + usd
    wrong = {m["month"]: m for m in mismatches}
    expected = {}
    for t in truth.filter(pl.col("is_complete_month")).iter_rows(named=True):
        key = f"{t['month_start']:%Y-%m}"
        books = {
            "revenue": t["recognized_revenue_usd"] - gap_by_month.get(key, 0.0),
            "expenses": t["total_expenses_usd"],
        }
        filed = {
            w: wrong[key][f"filed_{w}_usd"] if key in wrong else round(t[_TRUTH[w]], 2)
            for w in books
        }
        off = any(abs(books[w] - filed[w]) > TOLERANCE * abs(filed[w]) for w in books)
        expected[key] = "mismatch" if off else "reconciled"
    assert {k: rec[k]["status"] for k in expected} == expected
    # seed 7: September's gap (US$43.33) is within the tolerance, October's is not
    assert "reconciled" in expected.values(), f"no complete month reconciles: {expected}"
    return compared


_TRUTH = {"revenue": "recognized_revenue_usd", "expenses": "total_expenses_usd"}


def _sim_window(lake: Lake) -> tuple[dt.date, dt.date]:
    manifest = json.loads((lake.truth / "fault_manifest.json").read_text())
    return dt.date.fromisoformat(manifest["start"]), dt.date.fromisoformat(
        manifest["end_exclusive"]
    )


def test_profit_on_staged_simulation_matches_truth(sim_data: Lake, tmp_path: Path) -> None:
    """Real staging, account statuses from the truth: profit's own semantics against the truth."""
    lake = _copy_landing(sim_data, tmp_path / "data")
    resource = LakeResource(data_root=str(lake.root), duckdb_memory_limit="1GB", duckdb_threads=2)
    defs = _defs(resource)
    assert not _missing(defs, STAGING + PROFIT)
    status = pl.read_parquet(lake.truth / "account_status_daily.parquet").with_columns(
        pl.lit(False).alias("imputed")
    )
    lake.write_partitions(
        "account_status_daily", "date", sorted({d.isoformat() for d in status["date"]}), status
    )
    start, end = _sim_window(lake)
    graph = defs.resolve_asset_graph()
    keys = _closure(graph, PROFIT, stop={"account_status_daily", "engagement_hours"})
    checks = _run_in_waves(defs, keys, start, end)
    _assert_matches_truth(lake, checks, status)
    # with the truth's statuses the counts are the truth's own
    truth = pl.read_parquet(lake.truth / "unit_profit_monthly.parquet")
    for t in truth.filter(pl.col("is_complete_month")).iter_rows(named=True):
        paying = _paying_at(status, t["status_as_of"])
        assert (t["paying_subscribers"], t["licensed_seats"]) == (
            paying.height,
            paying["seats"].sum(),
        )


def test_staging_growth_profit_chain_matches_truth(sim_data: Lake, tmp_path: Path) -> None:
    """The whole chain as deployed: staging → growth (account statuses) → profit."""
    lake = _copy_landing(sim_data, tmp_path / "data")
    resource = LakeResource(data_root=str(lake.root), duckdb_memory_limit="1GB", duckdb_threads=2)
    defs = _defs(resource)
    assert not _missing(defs, ["account_status_daily", *STAGING, *PROFIT])
    start, end = _sim_window(lake)
    graph = defs.resolve_asset_graph()
    keys = _closure(graph, PROFIT, stop={"engagement_hours"})
    checks = _run_in_waves(defs, keys, start, end)
    manifest = json.loads((lake.truth / "fault_manifest.json").read_text())
    _assert_matches_truth(
        lake,
        checks,
        knowable_timeline(lake.truth, manifest)["status"],  # sim_data: profile "test", seed 7
        frozenset(manifest["fault_free_scope"]["accounts_with_skipped_steps"]),
    )
