"""A tick that would outlast Dagster's timeout stops first, saying which and why.

Dagster cuts a sensor (or schedule) evaluation off after 60 s with a bare timeout. Every planner
evaluation and the SLA sensor carry a budget (``automation.TickBudget``: half of Dagster's
timeout, or ``PACIFIC_TICK_BUDGET_SECONDS``); past it they raise an error naming the evaluation,
the seconds spent and what it was doing. Here the budget is 0 s, so the first check fails; each
evaluation goes through Dagster's public ``evaluate_tick`` on a real instance.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import pytest

from pacific_assets.definitions import defs
from pacific_assets.orchestration import partitions
from pacific_assets.orchestration.automation import TICK_BUDGET_ENV
from pacific_assets.orchestration.dagster_compat import moved_clock
from pacific_assets.resources import LakeResource
from pacific_assets_tests.lakes import land_as_of, mark_built

REPO = defs.get_repository_def()
FIRST = dt.date.fromisoformat(partitions.START_DATE)
NOW = dt.datetime.combine(FIRST + dt.timedelta(days=10), dt.time(9), dt.UTC)


@pytest.fixture
def data_root(tmp_path: Path) -> Path:
    """Ten days of a company, landed and built (as test_not_landed.py builds its lakes)."""
    land_as_of(tmp_path, FIRST, NOW)
    graph = REPO.asset_graph
    for key in graph.materializable_asset_keys:
        pdef = graph.get(key).partitions_def
        keys = pdef.get_partition_keys(current_time=NOW) if pdef else ["current"]
        mark_built(tmp_path, key.to_user_string(), keys)
    return tmp_path


def _messages(error: BaseException) -> str:
    """The error and its causes, as the UI shows them (Dagster wraps the user's error)."""
    out = []
    while error is not None:
        out.append(str(error))
        error = error.__cause__
    return " | ".join(out)


def _resources(data_root: Path) -> dict:
    return {**defs.resources, "lake": LakeResource(data_root=str(data_root))}


def _sensor_tick(name: str, data_root: Path, instance: dg.DagsterInstance) -> dg.SensorResult:
    with (
        moved_clock(lambda: NOW),
        dg.build_sensor_context(
            instance=instance, resources=_resources(data_root), repository_def=REPO
        ) as context,
    ):
        return REPO.get_sensor_def(name).evaluate_tick(context)


def test_a_keeper_over_its_budget_fails_naming_itself_and_the_time(
    data_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """(Fails if ``keeper_sensor`` gives its planner no budget.)"""
    with dg.instance_for_test() as instance:
        _sensor_tick("landing_sensor", data_root, instance)  # within the default budget
        monkeypatch.setenv(TICK_BUDGET_ENV, "0")
        with pytest.raises(Exception) as failed:
            _sensor_tick("landing_sensor", data_root, instance)
    text = _messages(failed.value)
    assert "landing_sensor stopped after " in text, text
    assert "over its budget of 0 s (Dagster stops a sensor at 60 s)" in text, text
    assert "while evaluating stg_" in text, text


def test_the_sla_sensor_over_its_budget_fails_naming_itself(
    data_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """(Fails if ``sla_checks_sensor`` does not check its budget between SLA targets.)"""
    monkeypatch.setenv(TICK_BUDGET_ENV, "0")
    with dg.instance_for_test() as instance, pytest.raises(Exception) as failed:
        _sensor_tick("sla_checks_sensor", data_root, instance)
    text = _messages(failed.value)
    assert "sla_checks_sensor stopped after " in text, text
    assert "while judging the SLA of " in text, text


def test_a_schedule_over_its_budget_fails_naming_itself(
    data_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """(Fails if ``cadence_schedule`` gives its planner no budget.)"""
    monkeypatch.setenv(TICK_BUDGET_ENV, "0")
    schedule = REPO.get_schedule_def("staging_daily_schedule")
    with (
        dg.instance_for_test() as instance,
        moved_clock(lambda: NOW),
        dg.build_schedule_context(
            instance=instance,
            resources=_resources(data_root),
            scheduled_execution_time=NOW,
            repository_def=REPO,
        ) as context,
        pytest.raises(Exception) as failed,
    ):
        schedule.evaluate_tick(context)
    text = _messages(failed.value)
    assert "staging_daily_schedule stopped after " in text, text
    assert "(Dagster stops a schedule at 60 s)" in text, text
