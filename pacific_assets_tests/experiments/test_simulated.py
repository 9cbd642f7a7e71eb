"""The whole experiment chain on simulated companies, judged against the simulator's truth.

A few small companies (fixed seeds) go through staging -> click ingestion -> engagement ->
ab_unit_daily + ab_unit_covariates -> experiment_results. The simulator plants three experiments (truth/experiments):
a real +10% effect on sessions, a null experiment, and a broken 65/35 allocation registered as
50/50. "Every time" claims (SRM flagged, CUPED narrower) are judged on every seed.

Rates (interval coverage, false positives) need many independent experiments for a binomial bound
with teeth, and a whole chain per seed is too slow for hundreds of seeds. So one larger company
gets replicate experiments planted in its landing zone next to the simulator's: its accounts are
shuffled into disjoint groups of about ``GROUP_USERS`` users; per group, one experiment keeps the
real-effect experiment's own assignments (a random subset of both arms: the true effect is still
the simulator's +10%), and one re-randomizes the broken experiment's users 50/50 (an A/A test:
true effect 0). Disjoint groups of accounts make the replicates independent. They go through the
same real chain; the rates are judged with a binomial test (alpha 0.001) over ~40 replicates, so
an estimator whose coverage is 0.6 or whose false-positive rate is 0.3 fails (power > 0.99).
The statistics layer itself is tested with K = 400 synthetic seeds (test_stats.py).

The last test lands a late click for an old day and follows it through the same late-data path
as engagement: ingestion registers the batch, the engagement late-data sensor re-runs that day
(ticked through Dagster's evaluate_tick), and the planner finds exactly that day of ab_unit_daily
stale, plus the covariates of the units assigned in the 14 days after it (test_late_data.py drives
the experiments' keeper sensor itself).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import numpy as np
import polars as pl
import pytest
from scipy import stats as sps

from pacific_assets.automation import Planner
from pacific_assets.dagster_compat import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
    moved_clock,
)
from pacific_assets.engagement.landing import ClickLanding
from pacific_assets.experiments.ab_unit_daily import PRE_PERIOD_DAYS
from pacific_assets.experiments.pseudonymize import pseudonymize
from pacific_assets.storage.lake import Lake
from pacific_assets_tests.experiments.pipeline import (
    PSEUDONYM_KEY,
    chain_resources,
    execute_subset,
    project_defs,
    run_chain,
)
from pacific_tools.simulate import simulate

#: Small companies: more accounts than the "test" profile (so the 65/35 allocation has the
#: units to be detected), fewer clicks per user and one ingest batch a day (so each run is fast).
SIM = dict(profile="test", days=60, accounts=60, events_per_user_day=1.5, batches_per_day=1)
SEEDS = (11, 12, 13, 14)
BINOMIAL_ALPHA = 0.001
FIRST_DAY = dt.date(2025, 9, 1)
#: The company the replicate experiments are planted in: ten times the accounts of SIM.
REPLICATE_SIM = {**SIM, "accounts": 600}
REPLICATE_SEED = 21
#: Users per replicate experiment (about 35 per arm): ~40 replicates of each kind.
GROUP_USERS = 70
#: Fewer replicates than this and the binomial bound would let a broken estimator through.
MIN_REPLICATES = 30
TRUE_EFFECT_PARENT = "EXP-001-onboarding-checklist"
AA_PARENT = "EXP-003-pricing-page"


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
            final = _final_week(Lake(root).read("experiment_results"), truth)
            out[seed] = dict(
                root=root, instance=instance, final=final, srm=srm_check, last_day=last_day
            )
        yield out


def _final_week(results: pl.DataFrame, truth: pl.DataFrame) -> pl.DataFrame:
    """Each experiment's primary-metric row of the week holding its last day, with its truth."""
    last_week = pl.col("end_date").map_elements(
        lambda d: monday(d - dt.timedelta(days=1)), return_dtype=pl.Date
    )
    return results.join(
        truth.select(
            "experiment_id", "kind", "true_relative_effect", last_week.alias("week_start")
        ),
        on=["experiment_id", "week_start"],
    ).filter(pl.col("is_primary_metric"))


def _landed_csvs(folder: Path, required: list[str]) -> pl.DataFrame:
    """Every CSV landed under ``folder``, as strings; rows missing a required field left out."""
    frames = [pl.read_csv(f, infer_schema=False) for f in sorted(folder.rglob("*.csv"))]
    return pl.concat(frames, how="diagonal").drop_nulls(required)


def plant_replicates(root: Path, rng: np.random.Generator) -> pl.DataFrame:
    """Add the replicate experiments to the landing zone (registry + assignments); returns their
    truth (experiment_id, kind, true_relative_effect, end_date)."""
    landing = root / "landing" / "experiments"
    registry = pl.read_csv(landing / "registry.csv", infer_schema=False)
    assignments = _landed_csvs(
        landing / "assignments", ["experiment_id", "unit_type", "unit_id", "variant", "assigned_at"]
    )
    users = _landed_csvs(root / "landing" / "directory" / "users", ["user_id", "account_id"])
    account_of = users.select("user_id", "account_id").unique("user_id", keep="first")
    truth = pl.read_parquet(root / "truth" / "experiments.parquet")
    planted, rows, regs = [], [], []
    for parent, kind in ((TRUE_EFFECT_PARENT, "true_effect"), (AA_PARENT, "null")):
        parent_truth = truth.row(by_predicate=pl.col("experiment_id") == parent, named=True)
        units = assignments.filter(pl.col("experiment_id") == parent).join(
            account_of, left_on="unit_id", right_on="user_id"
        )
        accounts = sorted(units["account_id"].unique())
        order = rng.permutation(len(accounts))
        sizes = dict(units.group_by("account_id").len().iter_rows())
        groups, current, n = [], [], 0
        for i in order:
            current.append(accounts[i])
            n += sizes[accounts[i]]
            if n >= GROUP_USERS:
                groups.append(current)
                current, n = [], 0
        for g, members in enumerate(groups):
            eid = f"{parent}-replicate-{g:03d}"
            part = units.filter(pl.col("account_id").is_in(members)).sort("unit_id")
            if kind == "null":  # an A/A test: a fresh exact 50/50 split of the same users
                treated = rng.permutation(part.height) < part.height // 2
                part = part.with_columns(
                    variant=pl.Series(np.where(treated, "treatment", "control"))
                )
            rows.append(part.select(assignments.columns).with_columns(experiment_id=pl.lit(eid)))
            regs.append(
                registry.filter(pl.col("experiment_id") == parent).with_columns(
                    experiment_id=pl.lit(eid), weights=pl.lit("0.5|0.5")
                )
            )
            planted.append(
                dict(
                    experiment_id=eid,
                    kind=kind,
                    true_relative_effect=parent_truth["true_relative_effect"],
                    end_date=parent_truth["end_date"],
                )
            )
    pl.concat([registry, *regs]).write_csv(landing / "registry.csv", null_value="")
    new = pl.concat(rows).with_columns(day=pl.col("assigned_at").str.slice(0, 10))
    for (day,), part in new.partition_by("day", as_dict=True).items():
        folder = landing / "assignments" / f"date={day}"
        folder.mkdir(exist_ok=True)
        part.drop("day").write_csv(folder / "replicates.csv")
    return pl.DataFrame(planted)


@pytest.fixture(scope="module")
def replicated(tmp_path_factory) -> pl.DataFrame:
    """The larger company with the replicates, through the real chain: final-week rows."""
    root = tmp_path_factory.mktemp("replicates") / "data"
    summary = simulate(root, seed=REPLICATE_SEED, **REPLICATE_SIM)
    truth = plant_replicates(root, np.random.default_rng(REPLICATE_SEED))
    last_day = dt.date.fromisoformat(summary.end) - dt.timedelta(days=1)
    run_chain(root, dg.DagsterInstance.ephemeral(), FIRST_DAY, last_day)
    return _final_week(Lake(root).read("experiment_results"), truth)


def replicates(replicated: pl.DataFrame, kind: str) -> list[dict]:
    rows = replicated.filter(pl.col("kind") == kind).to_dicts()
    assert len(rows) >= MIN_REPLICATES, f"{len(rows)} {kind} replicates: too few for a bound"
    return rows


def test_true_effect_inside_the_95_interval_at_a_95_rate(replicated):
    rows = replicates(replicated, "true_effect")
    assert all(r["metric"] == "sessions" and r["test"] == "welch_t" for r in rows)
    assert all(r["true_relative_effect"] == pytest.approx(0.10) for r in rows)
    hits = sum(r["rel_ci_low"] <= r["true_relative_effect"] <= r["rel_ci_high"] for r in rows)
    print(f"true effect inside the 95% interval: {hits}/{len(rows)} replicates")
    assert consistent(hits, len(rows), 0.95), (
        f"coverage {hits}/{len(rows)}",
        [(r["rel_ci_low"], r["rel_ci_high"]) for r in rows],
    )


def test_null_experiment_significant_at_a_5_rate(replicated):
    rows = replicates(replicated, "null")
    assert all(r["true_relative_effect"] == 0.0 for r in rows)
    hits = sum(r["p_value"] < 0.05 for r in rows)
    print(f"A/A replicates significant at 5%: {hits}/{len(rows)}")
    assert consistent(hits, len(rows), 0.05), (
        f"{hits}/{len(rows)} significant",
        [r["p_value"] for r in rows],
    )


def by_kind(simulated, kind: str) -> list[dict]:
    rows = []
    for run in simulated.values():
        rows += run["final"].filter(pl.col("kind") == kind).to_dicts()
    assert len(rows) == len(SEEDS), kind
    return rows


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

    # The keeper sensors decide from the lake's lineage (pacific_assets/automation.py). The
    # engagement late-data sensor is ticked here through Dagster's public evaluate_tick on the
    # run's own instance, the clock moved to the night after the last day (before that day's
    # schedules), and what it requests for the late day is run (the daemon path:
    # pacific_assets_tests/operations/test_daemon_replay.py).
    night = dt.datetime.combine(run["last_day"] + dt.timedelta(days=1), dt.time(1), dt.UTC)

    def tick(sensor: str) -> list[dg.RunRequest]:
        with (
            moved_clock(lambda: night),
            dg.build_sensor_context(
                instance=instance, definitions=defs, resources=resources
            ) as context,
        ):
            return list(defs.resolve_sensor_def(sensor).evaluate_tick(context).run_requests or [])

    def requested(requests: list[dg.RunRequest], table: str) -> list[str]:
        """The days of ``table`` the requests ask for (one request may hold it)."""
        holding = [r for r in requests if dg.AssetKey(table) in (r.asset_selection or [])]
        assert len(holding) <= 1, holding
        if not holding:
            return []
        first = dt.date.fromisoformat(holding[0].tags[ASSET_PARTITION_RANGE_START_TAG])
        last = dt.date.fromisoformat(holding[0].tags[ASSET_PARTITION_RANGE_END_TAG])
        return [(first + dt.timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]

    def stale(table: str) -> set[str]:
        planner = Planner(lake, defs.resolve_asset_graph(), now=night)
        return {k for k, why in planner.asset(table).needs.items() if why == "stale"}

    assert requested(tick("clicks_late_data_sensor"), "stg_clicks") == []
    assert stale("stg_clicks") == stale("ab_unit_daily") == set()

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

    # Ingestion registers it: exactly that day of stg_clicks is stale, then what reads it.
    assert dg.materialize(
        list(defs.assets), selection=["raw_clicks"], resources=resources, instance=instance
    ).success
    # The engagement late-data sensor re-runs exactly that day, one layer per tick.
    assert requested(tick("clicks_late_data_sensor"), "stg_clicks") == [day.isoformat()]
    execute_subset(root, instance, {"stg_clicks": [day.isoformat()]})
    assert requested(tick("clicks_late_data_sensor"), "user_engagement_daily") == [day.isoformat()]
    execute_subset(root, instance, {"user_engagement_daily": [day.isoformat()]})

    # ab_unit_daily follows that day alone (a row holds its own day's metrics), and the
    # covariates of the units assigned in the 14 days after it: their pre-period holds it
    covering = {(day + dt.timedelta(days=i)).isoformat() for i in range(1, PRE_PERIOD_DAYS + 1)}
    assert stale("ab_unit_daily") == {day.isoformat()}
    assert stale("ab_unit_covariates") == covering & set(lake.partition_keys("ab_unit_covariates"))
    cov_before = lake.read("ab_unit_covariates")
    execute_subset(
        root,
        instance,
        {
            "ab_unit_daily": [day.isoformat()],
            "ab_unit_covariates": sorted(stale("ab_unit_covariates")),
        },
    )

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
    # every other day is as it was, bit for bit
    keys = ["date", "experiment_id", "unit_id"]
    later = lake.read("ab_unit_daily").filter(pl.col("date") != day).sort(keys)
    assert later.equals(untouched.sort(keys))
    # the covariates moved only for units whose pre-period (the 14 days before assignment) holds
    # the late day, and there they count the late clicks
    unit_keys = ["experiment_id", "unit_id"]
    cov_after = lake.read("ab_unit_covariates").sort(unit_keys)
    cov_before = cov_before.sort(unit_keys)
    assert cov_after.select(unit_keys).equals(cov_before.select(unit_keys))
    pre = [c for c in cov_after.columns if c.startswith("pre_")]
    moved = pl.any_horizontal(*[cov_after[c].ne_missing(cov_before[c]) for c in pre])
    holds_day = (pl.col("assignment_date") > day) & (
        pl.col("assignment_date") <= day + dt.timedelta(days=PRE_PERIOD_DAYS)
    )
    assert cov_after.filter(moved).equals(cov_after.filter(moved & holds_day)), (
        "a pre-period covariate moved for a unit whose pre-period does not hold the late day"
    )
    assert cov_after.filter(moved).height > 0  # the simulated company has such a unit
    assert (
        cov_after.filter(moved)["pre_events"].sum()
        == cov_before.filter(moved)["pre_events"].sum() + 3 * cov_after.filter(moved).height
    )
    # and nothing more is pending
    assert stale("ab_unit_daily") == stale("ab_unit_covariates") == set()
    assert requested(tick("clicks_late_data_sensor"), "user_engagement_daily") == []
