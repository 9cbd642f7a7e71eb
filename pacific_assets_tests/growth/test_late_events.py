"""A late CRM event rebuilds its day and every later growth partition — and nothing before it.

Real path end to end: JSONL landed in the CRM export folder -> the staging asset
``stg_account_events`` -> growth assets, all materialized in one (ephemeral) Dagster instance;
the sensor is evaluated with ``dg.build_sensor_context`` against that instance.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from pacific_assets.growth.assets import (
    DAILY,
    HISTORY,
    MONTHLY,
    WEEKLY,
    account_growth,
    account_growth_monthly,
    account_status_daily,
    account_status_history,
)
from pacific_assets.growth.sensors import growth_late_crm_events
from pacific_assets.resources import LakeResource
from pacific_assets.staging.assets import STAGING_ASSETS
from pacific_assets.storage.lake import Lake
from pacific_assets_tests.growth.fixtures import (
    event,
    land_events,
    materialize,
    materialize_growth,
    terms,
)

STG = next(a for a in STAGING_ASSETS if a.key == dg.AssetKey("stg_account_events"))
ON_TIME = [
    event("A1", "A", "account_created", "2025-09-01"),
    event("A2", "A", "subscribed", "2025-09-02", **terms("growth", 10, "2026-09-02", 500.0)),
    event("B1", "B", "account_created", "2025-09-03"),
    event("B2", "B", "subscribed", "2025-09-04", **terms("starter", 4, "2026-09-04", 100.0)),
    event("B3", "B", "seats_changed", "2025-10-08", **terms("starter", 6, "2026-09-04", 150.0)),
]
LATE_TERMS = terms("growth", 14, "2026-09-02", 700.0)
#: Effective Wednesday 2025-09-24, recorded two weeks later: lands in the 2025-10-08 export.
LATE = event("A3", "A", "seats_changed", "2025-09-24", recorded="2025-10-08T10:00", **LATE_TERMS)


@pytest.fixture
def instance() -> dg.DagsterInstance:
    """A real instance (in-memory event log): materializations and their storage ids."""
    return dg.DagsterInstance.ephemeral()


def definitions(lake_resource: LakeResource) -> dg.Definitions:
    return dg.Definitions(
        assets=[STG, account_status_history, account_status_daily, account_growth,
                account_growth_monthly],
        sensors=[growth_late_crm_events],
        resources={"lake": lake_resource},
    )  # fmt: skip


def evaluate(defs: dg.Definitions, instance: dg.DagsterInstance, cursor: str | None):
    context = dg.build_sensor_context(
        instance=instance,
        cursor=cursor,
        definitions=defs,
        resources={"lake": defs.resources["lake"]},
    )
    return growth_late_crm_events(context)


def requested(result) -> dict[str, list[str] | None]:
    """Asset -> requested partition keys (None for the unpartitioned history)."""
    (request,) = result.run_requests
    subset = request.asset_graph_subset
    out: dict[str, list[str] | None] = {
        k.to_user_string(): sorted(s.get_partition_keys())
        for k, s in subset.partitions_subsets_by_asset_key.items()
    }
    out.update({k.to_user_string(): None for k in subset.non_partitioned_asset_keys})
    return out


def days(first: str, last: str) -> list[str]:
    return [d.isoformat() for d in pl.date_range(pl.date(*map(int, first.split("-"))),
                                                 pl.date(*map(int, last.split("-"))), eager=True)]  # fmt: skip


def test_late_event_requests_its_day_and_every_later_partition_only(
    tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    root = tmp_path / "data"
    lake, res = Lake(root), LakeResource(data_root=str(root))
    defs = definitions(res)
    # -- the pipeline is up to date through 10-12 (Sunday) --------------------------------------------
    land_events(lake, ON_TIME)
    materialize([STG], res, instance, "2025-09-01", "2025-10-12")
    materialize_growth(res, "2025-09-01", "2025-10-12", instance)
    first = evaluate(defs, instance, cursor=None)
    assert not first.run_requests, "staging older than the growth runs is already included"
    assert first.cursor

    # -- the late event is exported on 10-08 and staged ------------------------------------------
    before = lake.read(DAILY).sort("date", "account_id")
    weeks_before = lake.read(WEEKLY).sort("week_start")
    land_events(lake, [LATE])
    materialize([STG], res, instance, "2025-10-08", "2025-10-08")
    result = evaluate(defs, instance, cursor=first.cursor)
    assert requested(result) == {
        HISTORY: None,
        DAILY: days("2025-09-24", "2025-10-12"),  # the effective day .. the newest built day
        WEEKLY: ["2025-09-22", "2025-09-29", "2025-10-06"],
        MONTHLY: ["2025-09-01"],  # October is not closed in this instance
    }
    (request,) = result.run_requests
    assert request.tags["pacific/earliest_effective"] == "2025-09-24"

    # -- run exactly what was requested; nothing before 09-24 changes ---------------------------
    materialize([account_status_history], res, instance)
    materialize([account_status_daily], res, instance, "2025-09-24", "2025-10-12")
    materialize([account_growth], res, instance, "2025-09-22", "2025-10-06")
    materialize([account_growth_monthly], res, instance, "2025-09-01", "2025-09-01")
    after = lake.read(DAILY).sort("date", "account_id")
    early = pl.col("date") < pl.date(2025, 9, 24)
    assert after.filter(early).equals(before.filter(early))
    a_late = after.filter((pl.col("account_id") == "A") & ~early)
    assert a_late["mrr_usd"].unique().to_list() == [700.0]  # status carries forward
    weeks = lake.read(WEEKLY).sort("week_start")
    assert weeks.filter(pl.col("week_start") < pl.date(2025, 9, 22)).equals(
        weeks_before.filter(pl.col("week_start") < pl.date(2025, 9, 22))
    )
    late_week = weeks.filter(pl.col("week_start") == pl.date(2025, 9, 22)).row(0, named=True)
    assert (late_week["expansion_mrr_usd"], late_week["seats_added"]) == (200.0, 4)

    # ... and the partial rebuild equals a rebuild from scratch with all events
    fresh_root = tmp_path / "fresh"
    fresh, fresh_res = Lake(fresh_root), LakeResource(data_root=str(fresh_root))
    land_events(fresh, [*ON_TIME, LATE])
    materialize([STG], fresh_res, dg.DagsterInstance.ephemeral(), "2025-09-01", "2025-10-12")
    materialize_growth(fresh_res, "2025-09-01", "2025-10-12")
    for table, key in ((DAILY, ["date", "account_id"]), (WEEKLY, ["week_start"]),
                       (MONTHLY, ["month_start"])):  # fmt: skip
        assert lake.read(table).sort(key).equals(fresh.read(table).sort(key)), table

    # -- nothing new staged: nothing to do ---------------------------------------------------------
    again = evaluate(defs, instance, cursor=result.cursor)
    assert not again.run_requests

    # -- an on-time event after the newest built day (10-12) is left to the schedules -----------
    land_events(lake, [event("C1", "C", "account_created", "2025-10-14")])
    materialize([STG], res, instance, "2025-10-13", "2025-10-14")
    later = evaluate(defs, instance, cursor=again.cursor)
    assert not later.run_requests
    assert "after the newest built day" in later.skip_reason.skip_message
