"""The fault manifest says exactly what is in the landed files (counts and keys, read back)."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict

import polars as pl
import pytest

from pacific_assets import contracts as K
from pacific_assets.storage.lake import Lake
from pacific_assets_tests.simulate import landing_reader as R


@pytest.fixture(scope="module")
def manifest(sim_data: Lake) -> dict:
    return json.loads((sim_data.truth / "fault_manifest.json").read_text())


@pytest.fixture(scope="module")
def clicks(sim_data: Lake) -> pl.DataFrame:
    frame = R.valid(sim_data.landing, K.CLICKS)
    batch = frame["_file"].str.extract(r"batch-(\d+)\.jsonl").cast(pl.Int64)
    return frame.with_columns(batch.alias("batch"))


def test_every_fault_is_injected_at_least_once(manifest: dict) -> None:
    counts = manifest["counts"]
    assert counts == {
        "late_clicks": 40,
        "delayed_clicks": 20,
        "duplicate_clicks": 30,
        "outage_lost_clicks": counts["outage_lost_clicks"],
        "skipped_crm_steps": 4,
        "late_crm_events": 3,
        "missing_invoices": 2,
        "late_billing_exports": 0,  # off in the test profile (its data stays as it was)
        "corrected_billing_exports": 0,
        "filing_mismatches": 1,
        "malformed_rows": 10,
        "schema_drift_files": 0,
    }
    assert counts["outage_lost_clicks"] > 0
    assert manifest["clicks"]["unfilled_quotas"] == {"late": 0, "delayed": 0, "dup": 0}


def test_duplicate_clicks_match_the_files(clicks: pl.DataFrame, manifest: dict) -> None:
    dup = clicks.group_by("event_id").agg(pl.len().alias("n"), pl.col("batch").sort())
    dup = dup.filter(pl.col("n") > 1)
    listed = {d["event_id"]: d for d in manifest["clicks"]["duplicates"]}
    assert dup.height == manifest["counts"]["duplicate_clicks"] == len(listed)
    for event_id, n, batches in dup.iter_rows():
        assert n == 2
        entry = listed[event_id]
        assert [f"batch-{b:08d}.jsonl" for b in batches] == [
            entry["first_batch"],
            entry["duplicate_batch"],
        ]
        assert batches[0] < batches[1]  # always re-sent in a *later* batch


def test_late_clicks_match_the_files(clicks: pl.DataFrame, manifest: dict) -> None:
    first = clicks.sort("batch", "partition", "offset").unique("event_id", keep="first")
    late = first.filter(pl.col("landed_at") - pl.col("event_ts") > pl.duration(hours=48))
    listed = {x["event_id"] for x in manifest["clicks"]["late"]}
    assert set(late["event_id"]) == listed
    assert late.height == manifest["counts"]["late_clicks"]
    lag_h = (late["landed_at"] - late["event_ts"]).dt.total_hours()
    assert lag_h.min() > 48 and lag_h.max() <= 21 * 24 + 6  # hours to weeks late
    # late events land in a later ingest date than they happened
    assert (late["landed_at"].dt.date() > late["event_ts"].dt.date()).all()
    delayed = {x["event_id"] for x in manifest["clicks"]["delayed"]}
    d = first.filter(pl.col("event_id").is_in(list(delayed)))
    assert d.height == len(delayed) == manifest["counts"]["delayed_clicks"]
    assert ((d["landed_at"] - d["event_ts"]).dt.total_hours() >= 3).all()


def test_outage_window_has_no_clicks_and_loses_exactly_the_recorded_count(
    sim_data: Lake, clicks: pl.DataFrame, manifest: dict
) -> None:
    outage = manifest["clicks"]["outage"]
    start, end = R.parse_ts(outage["start"]), R.parse_ts(outage["end"])
    inside = clicks.filter((pl.col("event_ts") >= start) & (pl.col("event_ts") < end))
    assert inside.height == 0
    truth = pl.read_parquet(sim_data.truth / "engagement_daily.parquet")
    unique = clicks.unique("event_id").with_columns(pl.col("event_ts").dt.date().alias("date"))
    landed = unique.group_by("date").len()
    truth_by_day = truth.group_by("date").agg(pl.col("events").sum())
    both = truth_by_day.join(landed, on="date", how="left").with_columns(pl.col("len").fill_null(0))
    gap = both.filter(pl.col("events") != pl.col("len"))
    lost = {dt.date.fromisoformat(k): v for k, v in outage["lost_events_by_date"].items()}
    assert {d: e - n for d, e, n in gap.select("date", "events", "len").iter_rows()} == lost
    assert sum(lost.values()) == manifest["counts"]["outage_lost_clicks"]
    assert sorted(str(d) for d in lost) == manifest["fault_free_scope"]["outage_dates"]


def test_click_manifest_lists_every_batch(sim_data: Lake, clicks: pl.DataFrame) -> None:
    lines = (sim_data.landing / "clickstream" / "_manifest.jsonl").read_text().splitlines()
    entries = [json.loads(x) for x in lines]
    files = sorted(R.files(sim_data.landing, K.CLICKS))
    assert [e["batch"] for e in entries] == [p.name for p in files]  # arrival order
    by_file = {p.name: p for p in files}
    stats = clicks.group_by("_file").agg(
        pl.col("event_ts").dt.date().cast(pl.String).unique().sort().alias("dates"), pl.len()
    )
    stats = {f.rsplit("/", 1)[1]: (d, n) for f, d, n in stats.iter_rows()}
    for e in entries:
        path = by_file[e["batch"]]
        assert path.parent.name == f"ingest_date={e['ingest_date']}"
        assert e["rows"] == len(path.read_text().splitlines())
        assert e["event_dates"] == stats[e["batch"]][0]
        assert R.parse_ts(e["landed_at"]).date().isoformat() == e["ingest_date"]
    # landed_at of every row is its batch's landing time, never before the event
    assert (clicks["landed_at"] >= clicks["event_ts"]).all()


def test_malformed_rows_are_exactly_the_listed_ones(sim_data: Lake, manifest: dict) -> None:
    found = []
    for source in K.SOURCES.values():
        for rec in R.read(sim_data.landing, source):
            if rec.values is None:
                found.append((source.name, rec.rel, rec.row))
    listed = [(m["source"], m["file"], m["row"]) for m in manifest["malformed"]]
    assert sorted(found) == sorted(listed)
    assert len(listed) == manifest["counts"]["malformed_rows"]
    kinds = Counter(m["kind"] for m in manifest["malformed"])
    assert set(kinds) == {"bad_number", "bad_timestamp", "missing_required", "broken_json"}


def test_skipped_crm_steps_are_missing_and_their_successors_landed(
    sim_data: Lake, manifest: dict
) -> None:
    events = R.valid(sim_data.landing, K.ACCOUNT_EVENTS)
    ids = set(events["event_id"])
    skipped = manifest["crm"]["skipped_steps"]
    assert len(skipped) == manifest["counts"]["skipped_crm_steps"]
    assert {s["missing_event_type"] for s in skipped} == {"renewal_opened", "subscribed"}
    for s in skipped:
        assert s["missing_event_id"] not in ids
        assert s["successor_event_id"] in ids
        history = events.filter(pl.col("account_id") == s["account_id"]).sort("effective_at")
        before = history.filter(pl.col("effective_at") < R.parse_ts(s["successor_effective_at"]))[
            "event_type"
        ].to_list()
        if s["missing_event_type"] == "subscribed":
            # detectable: no subscription ever recorded before the successor
            assert "subscribed" not in before and "reactivated" not in before
        else:
            # detectable: the term closes without its renewal window
            assert s["successor_event_type"] in ("renewed", "churned")
            last_close = max(
                (i for i, t in enumerate(before) if t in ("subscribed", "renewed", "reactivated")),
                default=-1,
            )
            assert "renewal_opened" not in before[last_close + 1 :]


def test_late_crm_events_land_weeks_after_they_took_effect(sim_data: Lake, manifest: dict) -> None:
    events = R.valid(sim_data.landing, K.ACCOUNT_EVENTS)
    lag = events.with_columns(
        (pl.col("recorded_at") - pl.col("effective_at")).dt.total_days().alias("lag_days")
    )
    late = lag.filter(pl.col("lag_days") >= 7)
    assert set(late["event_id"]) == {x["event_id"] for x in manifest["crm"]["late_events"]}
    assert late.height == manifest["counts"]["late_crm_events"]
    assert (late["lag_days"] >= 14).all()
    # each lands in the folder of the day it was recorded
    assert (late["_folder"] == late["recorded_at"].dt.date().cast(pl.String)).all()


def test_missing_invoices_are_absent_for_a_paying_account_month(
    sim_data: Lake, manifest: dict
) -> None:
    lines = R.valid(sim_data.landing, K.INVOICE_LINES)
    status = pl.read_parquet(sim_data.truth / "account_status_daily.parquet")
    missing = manifest["billing"]["missing_invoices"]
    assert len(missing) == manifest["counts"]["missing_invoices"]
    for m in missing:
        assert m["invoice_id"] not in set(lines["invoice_id"])
        start = dt.date.fromisoformat(m["service_start"])
        # the account was paying on that day, and no landed line covers it
        day = status.filter((pl.col("account_id") == m["account_id"]) & (pl.col("date") == start))
        assert day["is_paying"].to_list() == [True]
        covering = lines.filter(
            (pl.col("account_id") == m["account_id"])
            & (pl.col("service_start") <= start)
            & (pl.col("service_end") > start)
            & (pl.col("status") != "void")
        )
        assert covering.height == 0
    months = sorted({k for m in missing for k in m["revenue_gap_by_month"]})
    assert manifest["fault_free_scope"]["months_with_missing_invoices"] == months


def test_one_filing_month_disagrees_with_the_books(sim_data: Lake, manifest: dict) -> None:
    filings = R.valid(sim_data.landing, K.FILINGS)
    truth = pl.read_parquet(sim_data.truth / "unit_profit_monthly.parquet")
    truth = truth.with_columns(pl.col("month_start").dt.strftime("%Y-%m").alias("month"))
    joined = filings.join(truth, on="month")
    assert joined.height == truth.filter(pl.col("is_complete_month")).height == filings.height
    wrong = joined.filter(
        ((pl.col("revenue_usd") - pl.col("recognized_revenue_usd")).abs() > 0.006)
        | ((pl.col("expenses_usd") - pl.col("total_expenses_usd")).abs() > 0.006)
    )
    (mismatch,) = manifest["filings"]["mismatches"]
    assert wrong["month"].to_list() == [mismatch["month"]]
    row = wrong.row(0, named=True)
    assert row["revenue_usd"] == mismatch["filed_revenue_usd"]
    assert round(row["recognized_revenue_usd"], 2) == mismatch["true_revenue_usd"]
    assert mismatch["month"] not in manifest["fault_free_scope"]["months_with_missing_invoices"]


def test_fault_free_scope_names_every_affected_key(manifest: dict) -> None:
    scope = manifest["fault_free_scope"]
    accounts = defaultdict(list)
    for s in manifest["crm"]["skipped_steps"]:
        accounts[s["account_id"]].append(s["missing_event_type"])
    assert scope["accounts_with_skipped_steps"] == sorted(accounts)
    assert scope["filing_mismatch_months"] == [
        m["month"] for m in manifest["filings"]["mismatches"]
    ]
