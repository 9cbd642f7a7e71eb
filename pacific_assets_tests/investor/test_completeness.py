"""The completeness record, without Spark: presence, outages, filings, freshness and checks."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import polars as pl
import pytest

from pacific_assets.investor.completeness import (
    STATUS_SCHEMA,
    InstanceFacts,
    assess,
    format_keys,
    period_verdicts,
    status_frame,
)
from pacific_assets.investor.inputs import MONTHLY, WEEKLY, deps_for, required_keys
from pacific_assets_tests.investor.fixture import OCT, WEEK, write_fixture
from pacific_assets_tests.investor.stubs import run_stub, upstream_stubs

AFTER_CLOSE = dt.datetime(2025, 12, 1, 6, tzinfo=dt.UTC)


def _by_input(verdicts) -> dict:
    return {v.table.table: v for v in verdicts}


def test_format_keys_collapses_consecutive_days() -> None:
    keys = ["2025-10-03", "2025-10-01", "2025-10-02", "2025-10-07", "x"]
    assert format_keys(keys) == "2025-10-01..2025-10-03, 2025-10-07, x"
    assert format_keys([f"2025-10-{d:02d}" for d in range(1, 31, 2)], limit=3).endswith(
        "and 12 more"
    )


def test_required_keys_per_grain() -> None:
    status = MONTHLY.inputs[0]
    keys, due = required_keys(status, MONTHLY, OCT, dt.date(2025, 12, 1))
    assert (keys[0], keys[-1], len(keys), due) == ("2025-10-01", "2025-10-31", 31, True)
    keys, _ = required_keys(status, MONTHLY, OCT, dt.date(2025, 10, 4))
    assert keys == ["2025-10-01", "2025-10-02", "2025-10-03"]  # only the days due so far
    growth = WEEKLY.growth
    assert required_keys(growth, WEEKLY, WEEK, dt.date(2025, 10, 12)) == (["2025-10-06"], False)
    assert required_keys(growth, WEEKLY, WEEK, dt.date(2025, 10, 13)) == (["2025-10-06"], True)


def test_deps_use_the_right_partition_mappings() -> None:
    mappings = {d.asset_key.to_user_string(): d.partition_mapping for d in deps_for(MONTHLY)}
    assert isinstance(mappings["engagement_hours"], dg.TimeWindowPartitionMapping)
    assert isinstance(mappings["unit_profit"], dg.IdentityPartitionMapping)
    assert isinstance(mappings["stg_accounts"], dg.AllPartitionMapping)
    weekly = {d.asset_key.to_user_string(): d.partition_mapping for d in deps_for(WEEKLY)}
    assert isinstance(weekly["account_growth"], dg.IdentityPartitionMapping)
    assert "unit_profit" not in weekly


def test_complete_fixture_is_complete(lake) -> None:
    write_fixture(lake)
    verdicts = assess(lake, MONTHLY, [OCT], AFTER_CLOSE)
    assert all(v.is_ok for v in verdicts), [(v.table.table, v.reason) for v in verdicts]
    frame = status_frame(verdicts, AFTER_CLOSE)
    assert frame.schema == STATUS_SCHEMA
    assert frame["rollup_key"].unique().to_list() == ["investor_rollup__2025-10-01"]
    assert period_verdicts(verdicts)[OCT].is_complete


def test_every_kind_of_problem_is_named(lake) -> None:
    write_fixture(
        lake,
        skip={
            "engagement_hours": {"2025-10-14", "2025-10-15", "2025-10-16"},
            "unit_profit": {"2025-10-01"},
        },
        outage_days=[dt.date(2025, 10, 7)],
    )
    lake.write_partitions(
        "profit_reconciliation",
        "month_start",
        ["2025-10-01"],
        lake.read("profit_reconciliation").with_columns(
            pl.lit("no_filing").alias("status"),
            pl.lit("no filing for 2025-10 has landed yet: not reconciled").alias("status_reason"),
        ),
    )
    verdicts = _by_input(assess(lake, MONTHLY, [OCT], AFTER_CLOSE))
    hours = verdicts["engagement_hours"]
    assert hours.status == "missing"
    assert hours.reason == "missing 3 of 31 partitions: 2025-10-14..2025-10-16"
    assert verdicts["unit_profit"].status == "missing"
    completeness = verdicts["engagement_completeness"]
    assert completeness.status == "incomplete"
    assert completeness.reason == (
        "flagged incomplete: 2025-10-07 (clicks far below the weekday/hour baseline)"
    )
    recon = verdicts["profit_reconciliation"]
    assert recon.status == "mismatch"
    assert recon.reason.startswith("no accountant filing yet (accountant review needed)")
    verdict = period_verdicts(list(verdicts.values()))[OCT]
    assert not verdict.is_complete
    assert verdict.absent_inputs == frozenset({"unit_profit"})
    assert verdict.incomplete_inputs == (
        "engagement_hours, engagement_completeness, unit_profit, profit_reconciliation"
    )


def test_open_period_needs_only_what_is_due(lake) -> None:
    write_fixture(lake, skip={"engagement_hours": {"2025-10-20"}})
    mid = dt.datetime(2025, 10, 10, 9, tzinfo=dt.UTC)
    verdicts = _by_input(assess(lake, MONTHLY, [OCT], mid))
    assert verdicts["engagement_hours"].status == "ok"  # Oct 20 is not due yet
    assert verdicts["unit_profit"].status == "not_due"
    assert verdicts["unit_profit"].is_ok


@pytest.fixture
def stub_graph():
    stubs = upstream_stubs()
    return stubs, dg.Definitions(assets=stubs).resolve_asset_graph()


def _stamp_lineage(lake, graph, table: str, keys: list[str]) -> None:
    """Record, as a build would, that ``table``'s partitions were built from the lake as it is."""
    import json

    from pacific_assets.orchestration.lineage import (
        LINEAGE_FILE,
        LakeState,
        asset_lineage_from_graph,
    )

    state = LakeState(lake)
    spec = asset_lineage_from_graph(graph, dg.AssetKey(table))
    for k in keys:
        inputs, summary, versions = spec.inputs_detail(state, k)
        (link,) = lake.table_dir(table).glob(f"*={k}")
        record = {"table": table, "key": k, "content": f"c-{k}", "rows": 1, "inputs": inputs,
                  "built_at": "2025-11-01T00:00:00+00:00", "read": summary,
                  "input_versions": versions}  # fmt: skip
        (link.resolve() / LINEAGE_FILE).write_text(json.dumps(record))


def _clicks(days: list[str], events: int) -> pl.DataFrame:
    return pl.DataFrame(
        {"event_date": [dt.date.fromisoformat(d) for d in days], "events": [events] * len(days)}
    )


def test_freshness_from_the_lake_lineage(lake, stub_graph) -> None:
    """An input partition built before what it reads changed is stale, and says which input."""
    _, graph = stub_graph
    write_fixture(lake)
    october = [f"2025-10-{d:02d}" for d in range(1, 32)]
    lake.write_partitions("stg_clicks", "event_date", october, _clicks(october, 10))
    _stamp_lineage(lake, graph, "engagement_hours", october)
    facts = InstanceFacts(dg.DagsterInstance.ephemeral(), graph, lake)
    assert facts.stale("engagement_hours", october) == ({}, True)
    late = ["2025-10-09", "2025-10-10"]
    lake.write_partitions("stg_clicks", "event_date", late, _clicks(late, 12))  # late clicks
    facts = InstanceFacts(dg.DagsterInstance.ephemeral(), graph, lake)
    stale, assessed = facts.stale("engagement_hours", october)
    assert assessed
    assert stale == {k: "its inputs changed since it was built (stg_clicks)" for k in late}
    verdicts = _by_input(assess(lake, MONTHLY, [OCT], AFTER_CLOSE, facts))
    hours = verdicts["engagement_hours"]
    assert hours.status == "stale" and hours.freshness_assessed
    assert "stale 2 partitions: 2025-10-09..2025-10-10" in hours.reason
    # Written to the lake without lineage: nothing to compare, so not called stale.
    assert verdicts["user_engagement_daily"].status == "ok"
    assert not verdicts["user_engagement_daily"].stale
    # Rebuilding the stale days (new versions whose lineage names what they read) makes them fresh.
    hours_rows = lake.read("engagement_hours").filter(pl.col("date").cast(pl.String).is_in(late))
    lake.write_partitions("engagement_hours", "date", late, hours_rows)
    _stamp_lineage(lake, graph, "engagement_hours", late)
    facts = InstanceFacts(dg.DagsterInstance.ephemeral(), graph, lake)
    assert facts.stale("engagement_hours", october) == ({}, True)


def test_latest_check_result_per_partition(lake, stub_graph) -> None:
    stubs, graph = stub_graph
    instance = dg.DagsterInstance.ephemeral()
    facts = InstanceFacts(instance, graph, lake)
    october = [f"2025-10-{d:02d}" for d in range(1, 32)]
    run_stub(stubs, instance, "engagement_hours", "2025-10-01", "2025-10-31")
    assert facts.failed_checks("engagement_hours", october) == ([], [])
    run_stub(
        stubs,
        instance,
        "engagement_hours",
        "2025-10-07",
        passed=False,
        description="volume 40% of baseline",
    )
    errors, warnings = facts.failed_checks("engagement_hours", october)
    assert errors == ["engagement_hours.volume_ok on 2025-10-07 (volume 40% of baseline)"]
    assert warnings == []
    # A later passing run for another day does not hide the failure of Oct 7 ...
    run_stub(stubs, instance, "engagement_hours", "2025-10-08")
    assert facts.failed_checks("engagement_hours", october)[0] == errors
    # ... a re-run of Oct 7 that passes does; a WARN failure is listed but does not block.
    run_stub(stubs, instance, "engagement_hours", "2025-10-07")
    run_stub(stubs, instance, "engagement_hours", "2025-10-20", passed=False, severity="WARN")
    errors, warnings = facts.failed_checks("engagement_hours", october)
    assert errors == [] and len(warnings) == 1 and "2025-10-20" in warnings[0]
    # The check outside the period is not ours to worry about.
    assert facts.failed_checks("engagement_hours", ["2025-10-01"]) == ([], [])
