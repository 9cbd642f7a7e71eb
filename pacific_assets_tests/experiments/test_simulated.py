"""The whole experiment chain on simulated companies, judged against the simulator's truth.

A few small companies (fixed seeds) go through staging -> click ingestion -> engagement ->
ab_unit_daily -> experiment_results. The simulator plants three experiments (truth/experiments):
a real +10% effect on sessions, a null experiment, and a broken 65/35 allocation registered as
50/50. Claims are judged over all seeds (a binomial bound for rates), never on one lucky seed;
the rates themselves are tested with hundreds of seeds on the statistics layer (test_stats.py).

The last test lands a late click for an old day and follows it through the same late-data path
as engagement: ingestion registers the batch, the engagement late-data sensor re-runs that day,
and ab_unit_daily's automation condition re-runs the same day of ab_unit_daily.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from scipy import stats as sps

from pacific_assets.engagement.landing import ClickLanding
from pacific_assets.engagement.sensors import clicks_late_data_sensor
from pacific_assets.experiments.ab_unit_daily import ab_unit_daily
from pacific_assets.experiments.pseudonymize import pseudonymize
from pacific_assets.simulate import simulate
from pacific_assets.storage.lake import Lake
from pacific_assets_tests.experiments.pipeline import (
    PSEUDONYM_KEY,
    chain_resources,
    execute_subset,
    project_defs,
    run_chain,
)

#: Small companies: more accounts than the "test" profile (so the 65/35 allocation has the
#: units to be detected), fewer clicks per user and one ingest batch a day (so each run is fast).
SIM = dict(profile="test", days=60, accounts=60, events_per_user_day=1.5, batches_per_day=1)
SEEDS = (11, 12, 13, 14)
BINOMIAL_ALPHA = 0.001
FIRST_DAY = dt.date(2025, 9, 1)


def consistent(hits: int, k: int, p: float) -> bool:
    return sps.binomtest(hits, k, p).pvalue > BINOMIAL_ALPHA


def monday(d: dt.date) -> dt.date:
    return d - dt.timedelta(days=d.weekday())


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    """Per seed: the data root, the truth, the final-week primary results and the SRM check.

    The first seed runs on a persistent instance, kept for the late-data test."""
    out = {}
    with dg.instance_for_test() as persistent:
        for i, seed in enumerate(SEEDS):
            root = tmp_path_factory.mktemp(f"sim{seed}") / "data"
            summary = simulate(root, seed=seed, **SIM)
            last_day = dt.date.fromisoformat(summary.end) - dt.timedelta(days=1)
            instance = persistent if i == 0 else dg.DagsterInstance.ephemeral()
            runs = run_chain(root, instance, FIRST_DAY, last_day)
            srm_check = next(
                e
                for e in runs[-1].get_asset_check_evaluations()
                if e.check_name == "sample_ratio_mismatch"
            )
            truth = pl.read_parquet(root / "truth" / "experiments.parquet")
            results = Lake(root).read("experiment_results")
            final = results.join(
                truth.select(
                    "experiment_id",
                    "kind",
                    "true_relative_effect",
                    pl.col("end_date")
                    .map_elements(lambda d: monday(d - dt.timedelta(days=1)), return_dtype=pl.Date)
                    .alias("week_start"),
                ),
                on=["experiment_id", "week_start"],
            ).filter(pl.col("is_primary_metric"))
            out[seed] = dict(
                root=root, instance=instance, final=final, srm=srm_check, last_day=last_day
            )
        yield out


def by_kind(simulated, kind: str) -> list[dict]:
    rows = []
    for run in simulated.values():
        rows += run["final"].filter(pl.col("kind") == kind).to_dicts()
    assert len(rows) == len(SEEDS), kind
    return rows


def test_true_effect_inside_the_95_interval(simulated):
    rows = by_kind(simulated, "true_effect")
    hits = sum(r["rel_ci_low"] <= r["true_relative_effect"] <= r["rel_ci_high"] for r in rows)
    assert consistent(hits, len(rows), 0.95), [(r["rel_ci_low"], r["rel_ci_high"]) for r in rows]
    assert all(r["metric"] == "sessions" and r["test"] == "welch_t" for r in rows)


def test_null_experiment_significant_at_a_5_rate(simulated):
    rows = by_kind(simulated, "null") + by_kind(simulated, "broken_allocation")  # no effect
    hits = sum(r["p_value"] < 0.05 for r in rows)
    assert consistent(hits, len(rows), 0.05), [r["p_value"] for r in rows]


def test_broken_allocation_flagged_by_srm_every_time(simulated):
    for seed, run in simulated.items():
        flagged = set(run["final"].filter(pl.col("srm_flagged"))["experiment_id"])
        assert flagged == {"EXP-003-pricing-page"}, seed
        assert not run["srm"].passed
        assert "EXP-003-pricing-page" in run["srm"].metadata["flagged_experiments"].value


def test_cuped_narrows_the_interval(simulated):
    for kind in ("true_effect", "broken_allocation"):  # the user experiments
        for r in by_kind(simulated, kind):
            assert r["cuped_ci_high"] - r["cuped_ci_low"] < r["ci_high"] - r["ci_low"], kind
            assert r["cuped_variance_reduction"] > 0


def _late_click_plan(lake: Lake, last_day: dt.date) -> tuple[str, str, dt.date]:
    """A user in the real-effect experiment and an old day inside the experiment."""
    units = lake.read("stg_experiment_assignments").filter(
        pl.col("experiment_id") == "EXP-001-onboarding-checklist"
    )
    user = units.sort("assigned_at")["unit_id"][0]
    directory = lake.read("stg_directory_users").filter(pl.col("user_id") == user)
    account = directory.sort("export_date")["account_id"][-1]
    registry = lake.read("stg_experiment_registry").filter(
        pl.col("experiment_id") == "EXP-001-onboarding-checklist"
    )
    day = registry["start_date"].item() + dt.timedelta(days=5)
    assert day < registry["end_date"].item() and day < last_day - dt.timedelta(days=10)
    return user, account, day


def test_late_click_reruns_the_affected_ab_unit_daily_day(simulated):
    run = simulated[SEEDS[0]]
    root: Path = run["root"]
    instance: dg.DagsterInstance = run["instance"]
    lake = Lake(root)
    defs = project_defs()
    resources = chain_resources(root)

    # Both triggers have seen everything so far (the sensor consumes the existing manifest;
    # the automation condition's first evaluation only sets its baseline).
    sensor_ctx = dict(instance=instance, definitions=defs, resources={"lake": resources["lake"]})
    first = clicks_late_data_sensor(dg.build_sensor_context(**sensor_ctx))
    automation = dg.evaluate_automation_conditions(
        defs=defs, instance=instance, asset_selection=dg.AssetSelection.assets(ab_unit_daily)
    )
    assert automation.total_requested == 0

    user, account, day = _late_click_plan(lake, run["last_day"])
    unit = pseudonymize(PSEUDONYM_KEY, [user])[0]
    before = lake.read("ab_unit_daily", [day.isoformat()])
    row = before.filter(pl.col("unit_id") == unit).sort("experiment_id").row(0, named=True)
    untouched = lake.read("ab_unit_daily").filter(pl.col("date") != day)

    # Three clicks of that user on that day land two weeks later: a late batch.
    landing = ClickLanding(lake.landing)
    at = dt.datetime.combine(day, dt.time(23, 0), tzinfo=dt.UTC)
    clicks = [
        dict(
            event_id=f"late-{i}",
            user_id=user,
            account_id=account,
            event_ts=(at + dt.timedelta(minutes=5 * i)).isoformat().replace("+00:00", "Z"),
            sent_at=None,
            page="home",
            action="click",
        )
        for i in range(3)
    ]
    landing.write_batch(landing.next_batch_number(), clicks, at + dt.timedelta(days=14))

    # Ingestion registers it; the engagement late-data sensor requests exactly that day.
    assert dg.materialize(
        list(defs.assets), selection=["raw_clicks"], resources=resources, instance=instance
    ).success
    tick = clicks_late_data_sensor(dg.build_sensor_context(cursor=first.cursor, **sensor_ctx))
    (request,) = tick.run_requests
    subset = request.asset_graph_subset
    requested = {
        key.to_user_string(): subset.get_partitions_subset(key).get_partition_keys()
        for key in subset.asset_keys
    }
    assert requested["stg_clicks"] == requested["user_engagement_daily"] == [day.isoformat()]
    # Run the part of the request ab_unit_daily depends on (the completeness/hours assets it
    # also requests, for that day and the same weekday in later weeks, are engagement's tests).
    execute_subset(
        root, instance, {k: requested[k] for k in ("stg_clicks", "user_engagement_daily")}
    )

    # ab_unit_daily follows: its automation condition requests that day, and only that day.
    automation = dg.evaluate_automation_conditions(
        defs=defs,
        instance=instance,
        asset_selection=dg.AssetSelection.assets(ab_unit_daily),
        cursor=automation.cursor,
    )
    assert automation.get_requested_partitions(ab_unit_daily.key) == {day.isoformat()}
    execute_subset(root, instance, {"ab_unit_daily": [day.isoformat()]})

    after = lake.read("ab_unit_daily", [day.isoformat()])
    for experiment in set(after.filter(pl.col("unit_id") == unit)["experiment_id"]):
        was = before.filter((pl.col("unit_id") == unit) & (pl.col("experiment_id") == experiment))
        now = after.filter((pl.col("unit_id") == unit) & (pl.col("experiment_id") == experiment))
        assert now["events"].item() == was["events"].item() + 3
        assert now["late_events"].item() == was["late_events"].item() + 3
        assert now["active_users"].item() == 1
    assert row["experiment_id"] == "EXP-001-onboarding-checklist"
    # the user's account, where it is an experiment unit, counts the clicks too
    acct_before = before.filter(pl.col("unit_id") == account)
    acct_after = after.filter(pl.col("unit_id") == account)
    assert acct_after["events"].to_list() == [e + 3 for e in acct_before["events"]]
    # every other unit that day, and every other day, is as it was
    others = ~pl.col("unit_id").is_in([unit, account])
    assert after.filter(others).equals(before.filter(others))  # bit for bit
    assert lake.read("ab_unit_daily").filter(pl.col("date") != day).equals(untouched)
    # and nothing more is pending
    again = dg.evaluate_automation_conditions(
        defs=defs,
        instance=instance,
        asset_selection=dg.AssetSelection.assets(ab_unit_daily),
        cursor=automation.cursor,
    )
    assert again.total_requested == 0
