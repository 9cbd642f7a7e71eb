"""On the simulated "test" company: the pipeline recovers the ground truth.

Truth (truth/engagement_daily.parquet) is engagement before any fault; the landed clicks carry
late, delayed, duplicate and malformed clicks and one Kafka outage. After ingestion, de-dup and
sessions, every day without an outage must equal the truth exactly; outage days must be flagged.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil

import dagster as dg
import polars as pl
import pytest

from pacific_assets.engagement.assets import ASSETS
from pacific_assets.engagement.checks import build_newest_event_check
from pacific_assets.staging.assets import STAGING_ASSETS
from pacific_assets_tests.declared import assert_written_as_declared
from pacific_assets_tests.engagement.helpers import resources
from pacific_assets_tests.runs import range_tags

START, END = "2025-09-01", "2025-12-09"
MEASURES = [
    "licensed_users",
    "active_users",
    "active_licensed_users",
    "sessions",
    "events",
    "late_events",
]


@pytest.fixture(scope="module")
def sim_lake(sim_data, tmp_path_factory):
    """A private copy of the simulated landing zone, staged and run through engagement once."""
    from pacific_assets.storage.lake import Lake

    lake = Lake(tmp_path_factory.mktemp("eng_sim") / "data")
    shutil.copytree(sim_data.landing, lake.landing)
    tags = range_tags(START, END)
    directory = next(a for a in STAGING_ASSETS if a.key.path == ["stg_directory_users"])
    instance = dg.DagsterInstance.ephemeral()
    assert dg.materialize(
        [directory], resources=resources(lake), instance=instance, tags=tags
    ).success
    assert dg.materialize(
        ASSETS, selection=["raw_clicks"], resources=resources(lake), instance=instance
    ).success
    daily = [a.key for a in ASSETS if a.key.path != ["raw_clicks"]]
    result = dg.materialize(
        ASSETS, selection=daily, resources=resources(lake), instance=instance, tags=tags
    )
    assert result.success
    lake.checks = {
        (e.asset_key.to_user_string(), e.check_name): e
        for e in result.get_asset_check_evaluations()
    }
    return lake


def _faults(sim_data) -> dict:
    return json.loads((sim_data.truth / "fault_manifest.json").read_text())


def test_engagement_equals_truth_outside_outages(sim_lake, sim_data):
    truth = pl.read_parquet(sim_data.truth / "engagement_daily.parquet")
    mine = sim_lake.read("engagement_hours")
    outage_days = {dt.date.fromisoformat(d) for d in _faults(sim_data)["clicks"]["outage"]["dates"]}
    assert outage_days, "the test profile injects an outage"
    keep = ~pl.col("date").is_in(sorted(outage_days))
    truth, mine = truth.filter(keep), mine.filter(keep)
    joined = truth.join(mine, on=["date", "account_id"], how="full", suffix="_got", coalesce=True)
    assert joined.height == truth.height == mine.height
    for col in MEASURES:
        diff = joined.filter(pl.col(col) != pl.col(f"{col}_got"))
        assert diff.height == 0, (col, diff.head(5))
    assert (joined["total_hours"] - joined["total_hours_got"]).abs().max() < 1e-9
    dau = mine.group_by("date").agg(pl.col("active_licensed_users").sum()).sort("date")
    assert dau["active_licensed_users"].sum() > 0
    # every late event the simulator injected is counted (none of them fell into the outage)
    late_truth = int(truth["late_events"].sum())
    assert late_truth > 0 and int(mine["late_events"].sum()) == late_truth


def test_outage_days_flagged_and_nothing_else(sim_lake, sim_data):
    outage = _faults(sim_data)["clicks"]["outage"]
    completeness = sim_lake.read("engagement_completeness").sort("date")
    flagged = completeness.filter(pl.col("outage_hours").is_not_null())
    assert [str(d) for d in flagged["date"]] == outage["dates"]
    start_hour = int(outage["start"][11:13])
    assert flagged["outage_hours"].item().startswith(f"{start_hour:02d}")
    assert not flagged["is_complete"].item()
    hours = sim_lake.read("engagement_hours")
    on_outage = hours.filter(pl.col("date").cast(pl.String).is_in(outage["dates"]))
    assert on_outage.height and not on_outage["is_complete"].any()
    assert on_outage["incomplete_reason"].str.starts_with("outage suspected").all()
    assert hours.filter(~pl.col("date").cast(pl.String).is_in(outage["dates"]))["is_complete"].all()
    assert not sim_lake.checks[("engagement_completeness", "no_kafka_outage")].passed


def test_dedup_and_malformed_on_simulated_batches(sim_lake, sim_data):
    faults = _faults(sim_data)
    stg = sim_lake.read("stg_clicks")
    assert stg["event_id"].n_unique() == stg.height
    assert int((stg["copies"] - 1).sum()) == faults["counts"]["duplicate_clicks"]
    q = sim_lake.read("quarantine").filter(pl.col("source") == "clicks")
    broken = {(m["file"], m["row"]) for m in faults.get("malformed", []) if m["source"] == "clicks"}
    assert set(q.select("file", "row_number").iter_rows()) == broken


def test_freshness_check_uses_the_clock(sim_lake):
    newest = sim_lake.read("stg_clicks")["event_ts"].max()
    stale = build_newest_event_check(lambda: newest + dt.timedelta(hours=48, minutes=1))
    fresh = build_newest_event_check(lambda: newest + dt.timedelta(hours=47))
    verdicts = {}
    for name, check in (("stale", stale), ("fresh", fresh)):
        result = dg.materialize(
            [*ASSETS, check],
            selection=dg.AssetSelection.checks(check),
            resources=resources(sim_lake),
            instance=dg.DagsterInstance.ephemeral(),
        )
        (evaluation,) = result.get_asset_check_evaluations()
        verdicts[name] = evaluation.passed
    assert verdicts == {"stale": False, "fresh": True}


def test_engagement_tables_have_their_declared_columns(sim_lake):
    """Every engagement table (and the quarantine of broken messages) holds exactly its
    declared columns on the simulated company (pacific_assets/engagement/columns.py)."""
    checked = assert_written_as_declared(sim_lake)
    assert {
        "stg_clicks",
        "user_engagement_daily",
        "engagement_hours",
        "engagement_hours_by_team",
        "engagement_completeness",
    } <= set(checked)
