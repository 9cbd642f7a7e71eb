"""A late click batch for three days, under the keeper sensor: the A/B tables rebuild those days
and the covariates of the units whose pre-period holds them, nothing else (issue #30).

A small simulated company goes through the real chain (staging, click ingestion, engagement,
recognized revenue, the A/B tables and the weekly results) on a real Dagster instance. Then one
batch lands holding clicks of an experiment user on three old days; ingestion registers it and
the engagement chain rebuilds those days (as ``clicks_late_data_sensor`` does, tested in
engagement/test_late_data_sensor.py). ``experiments_follow_facts`` is then evaluated through
Dagster's public ``evaluate_tick``, with Dagster's clock moved to the morning after the batch
landed, and what it requests is run, until it requests nothing (``runs.drive_sensor``).

What it must have rebuilt is derived here from the late days alone, not from the pipeline:
``ab_unit_daily`` exactly the late days; ``ab_unit_covariates`` exactly the built assignment days
D+1..D+14 of each late day D (the units whose 14-day pre-period holds D); ``experiment_results``
the built weeks from the first late day's week on (results are cumulative). The lake it leaves
equals a one-shot rebuild of the same tables.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from pacific_assets.engagement.landing import ClickLanding
from pacific_assets.experiments.ab_unit_daily import PRE_PERIOD_DAYS
from pacific_assets.experiments.schedules import experiments_follow_facts
from pacific_assets.lineage import LakeState
from pacific_assets.storage.lake import Lake
from pacific_assets_tests.experiments.pipeline import (
    CHAIN,
    chain_resources,
    execute_subset,
    project_defs,
    run_chain,
)
from pacific_assets_tests.runs import drive_sensor, range_tags
from pacific_tools.simulate import simulate

SIM = dict(profile="test", days=60, accounts=60, events_per_user_day=1.5, batches_per_day=1)
SEED = 11
FIRST_DAY = dt.date(2025, 9, 1)
#: The chain of test_simulated.py, plus the revenue the A/B tables read (a missing revenue day
#: would hold every unit day back: the keeper waits for what a partition reads).
REVENUE = ("stg_invoice_lines", "invoice_lines_current", "recognized_revenue_daily")
EXPERIMENT = "EXP-001-onboarding-checklist"
AB_TABLES = ("ab_unit_daily", "ab_unit_covariates", "experiment_results")
LATE_CLICKS_PER_DAY = 3


def _defs(root: Path) -> dg.Definitions:
    """The code location with its schedules (when a partition is due) and the keeper sensor,
    over this data root."""
    defs = project_defs()
    return dg.Definitions(
        assets=list(defs.assets or []),
        schedules=list(defs.schedules or []),
        sensors=[experiments_follow_facts],
        resources=chain_resources(root),
    )


def _execute(root: Path, defs: dg.Definitions, instance: dg.DagsterInstance):
    def execute(assets: list[str], first: str | None, last: str | None):
        return dg.materialize(
            list(defs.assets or []),
            selection=assets,
            resources=chain_resources(root),
            instance=instance,
            tags=range_tags(first, last) if first and last else {},
        )

    return execute


@pytest.fixture(scope="module")
def company(tmp_path_factory):
    """The simulated company built in one shot, its instance, the late days and their user."""
    root = tmp_path_factory.mktemp("late_ab") / "data"
    simulate(root, seed=SEED, **SIM)
    lake = Lake(root)
    horizon = LakeState(lake).horizon()
    assert horizon is not None
    last_day = horizon - dt.timedelta(days=1)
    with dg.instance_for_test() as instance:
        run_chain(root, instance, FIRST_DAY, last_day, assets=CHAIN + REVENUE)
        yield dict(root=root, lake=lake, instance=instance, last_day=last_day)


def _late_plan(lake: Lake, last_day: dt.date) -> tuple[str, str, list[dt.date]]:
    """An early user of the real-effect experiment and three days it has rows on, a week apart
    (from its second week, so the first week's results stay as they are), at least three days
    before the newest delivered day (late, not just recent)."""
    units = lake.read("stg_experiment_assignments").filter(pl.col("experiment_id") == EXPERIMENT)
    user = units.sort("assigned_at")["unit_id"][0]
    assigned = units.sort("assigned_at")["assigned_at"][0].date()
    directory = lake.read("stg_directory_users").filter(pl.col("user_id") == user)
    account = directory.sort("export_date")["account_id"][-1]
    registry = lake.read("stg_experiment_registry").filter(pl.col("experiment_id") == EXPERIMENT)
    end = registry["end_date"].item() or last_day
    days = [assigned + dt.timedelta(days=9 + 7 * i) for i in range(3)]
    assert days[-1] < min(end, last_day - dt.timedelta(days=3)), (days, end, last_day)
    return user, account, days


def _land_late_batch(lake: Lake, user: str, account: str, days: list[dt.date], at: dt.datetime):
    landing = ClickLanding(lake.landing)
    clicks = [
        dict(
            event_id=f"late-{day}-{i}",
            user_id=user,
            account_id=account,
            event_ts=f"{day}T22:{10 * i:02d}:00Z",
            sent_at=None,
            page="home",
            action="click",
        )
        for day in days
        for i in range(LATE_CLICKS_PER_DAY)
    ]
    landing.write_batch(landing.next_batch_number(), clicks, at)


def _monday(d: dt.date) -> dt.date:
    return d - dt.timedelta(days=d.weekday())


def _frame(lake: Lake, table: str) -> pl.DataFrame:
    frame = lake.read(table)
    return frame.sort(frame.columns)


def test_a_late_batch_for_three_days_rebuilds_those_days_and_their_units(company, tmp_path):
    root, lake, instance = company["root"], company["lake"], company["instance"]
    last_day: dt.date = company["last_day"]
    defs = _defs(root)
    # the morning after the newest delivered day: every partition of it is due and built
    now = dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time(9), dt.UTC)
    execute = _execute(root, defs, instance)

    # over the lake as built in one shot, the keeper has nothing to do
    assert drive_sensor(defs, "experiments_follow_facts", now, instance, execute) == {}

    user, account, days = _late_plan(lake, last_day)
    keys = [d.isoformat() for d in days]
    # landed on the newest delivered day: no new day is delivered, only old days change
    _land_late_batch(lake, user, account, days, now - dt.timedelta(hours=10))
    assert LakeState(lake).horizon() == last_day + dt.timedelta(days=1)
    ingested = dg.materialize(
        list(defs.assets or []),
        selection=["raw_clicks"],
        resources=chain_resources(root),
        instance=instance,
    )
    assert ingested.success
    execute_subset(root, instance, {"stg_clicks": keys, "user_engagement_daily": keys})

    built_days = set(lake.partition_keys("ab_unit_daily"))
    built_assignment_days = set(lake.partition_keys("ab_unit_covariates"))
    built_weeks = set(lake.partition_keys("experiment_results"))
    rebuilt = drive_sensor(defs, "experiments_follow_facts", now, instance, execute)
    rebuilt = {table: sorted(ks or []) for table, ks in rebuilt.items()}

    covering = {
        (d + dt.timedelta(days=i)).isoformat() for d in days for i in range(1, PRE_PERIOD_DAYS + 1)
    }
    first_week = _monday(days[0]).isoformat()
    assert set(keys) <= built_days
    assert rebuilt == {
        "ab_unit_daily": keys,
        "ab_unit_covariates": sorted(covering & built_assignment_days),
        "experiment_results": sorted(w for w in built_weeks if w >= first_week),
    }
    print(
        f"late days {keys}: rebuilt {len(rebuilt['ab_unit_daily'])}/{len(built_days)} days of "
        f"ab_unit_daily, {len(rebuilt['ab_unit_covariates'])}/{len(built_assignment_days)} "
        f"assignment days of ab_unit_covariates, {len(rebuilt['experiment_results'])}/"
        f"{len(built_weeks)} weeks of experiment_results"
    )

    # and what it left is what a one-shot rebuild of the same tables gives
    fresh_root = tmp_path / "fresh"
    shutil.copytree(root, fresh_root, symlinks=True)
    fresh = Lake(fresh_root)
    for table in AB_TABLES:
        shutil.rmtree(fresh.lake / table)
    days_range = (min(built_days), max(built_days))
    weeks_range = (min(built_weeks), max(built_weeks))
    with dg.instance_for_test() as scratch:
        for assets, (first, last) in (
            (["ab_unit_daily", "ab_unit_covariates"], days_range),
            (["experiment_results"], weeks_range),
        ):
            assert dg.materialize(
                list(defs.assets or []),
                selection=assets,
                resources=chain_resources(fresh_root),
                instance=scratch,
                tags=range_tags(first, last),
            ).success
    for table in AB_TABLES:
        assert _frame(lake, table).equals(_frame(fresh, table)), table
