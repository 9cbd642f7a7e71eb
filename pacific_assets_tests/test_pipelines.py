"""Pipelines are found, not listed: each folder declares everything about itself (issue #29).

The registry (``pacific_assets/registry.py``) walks the package for ``pipeline.py``; these tests
hold every discovered pipeline to its declaration (owners, SLA, schedules named the same way),
and build a sixth pipeline in a temporary package to show that one folder is enough
(docs/adding-a-pipeline.md).
"""

from __future__ import annotations

import importlib
import sys
import textwrap
from pathlib import Path

import dagster as dg
import pytest

from pacific_assets.columns import COLUMN_SCHEMA
from pacific_assets.definitions import defs
from pacific_assets.operations.cadences import cadence_coverage
from pacific_assets.operations.checks import sla_targets
from pacific_assets.operations.factory import SLA_CHECKS_JOB, with_operations
from pacific_assets.operations.resources import OpsResource
from pacific_assets.operations.sensors import asset_directory, oncall_by_pipeline
from pacific_assets.operations.sla import sla_of
from pacific_assets.pipeline_folders import pipeline_packages
from pacific_assets.pipeline_policy import SLA_CHECK_NAME
from pacific_assets.registry import code_location, discover
from pacific_assets.resources import LakeResource
from pacific_assets.storage import schema

PIPELINES = discover()


@pytest.mark.parametrize("pipeline", PIPELINES, ids=lambda p: p.name)
def test_each_pipeline_declares_owners_and_an_sla(pipeline) -> None:
    """A pipeline without owners or an SLA fails here, under its own name."""
    policy = pipeline.policy
    assert policy.owners, f"pipeline {pipeline.name!r} declares no owners"
    assert policy.runbook.sla.strip(), f"pipeline {pipeline.name!r} states no SLA in its runbook"
    assert policy.queue, f"pipeline {pipeline.name!r} declares no queue for its failures"
    graph = defs.resolve_asset_graph()
    mine = [n for n in graph.asset_nodes if n.group_name == pipeline.name]
    assert mine, f"pipeline {pipeline.name!r} declares no asset"
    for node in mine:
        assert sorted(node.owners) == sorted(policy.owners), (pipeline.name, node.key)
        if policy.freshness is not None and node.is_materializable:
            # an asset is exempt from its pipeline's SLA only by its own declared exception
            name = node.key.to_user_string()
            assert (sla_of(node) is None) == (
                name in pipeline.asset_slas and pipeline.asset_slas[name] is None
            ), name


@pytest.mark.parametrize("pipeline", PIPELINES, ids=lambda p: p.name)
def test_each_pipeline_names_its_schedules_and_sensors_the_same_way(pipeline) -> None:
    """``<pipeline>/schedules.py`` exports ``SCHEDULES`` (and ``SENSORS``, ``JOBS`` if any):
    exactly what the pipeline declares."""
    module = importlib.import_module(f"pacific_assets.{pipeline.name}.schedules")
    for kind in ("schedules", "sensors", "jobs"):
        declared = {d.name for d in getattr(pipeline.defs, kind) or []}
        exported = {d.name for d in getattr(module, kind.upper(), [])}
        assert declared == exported, (pipeline.name, kind)


def test_every_asset_of_the_code_location_belongs_to_a_discovered_pipeline() -> None:
    names = {p.name for p in PIPELINES}
    assert {p.rsplit(".", 1)[-1] for p in pipeline_packages()} == names
    graph = defs.resolve_asset_graph()
    strays = [n.key.to_user_string() for n in graph.asset_nodes if n.group_name not in names]
    assert not strays, f"assets of no pipeline (no owners, no SLA, no on-call): {strays}"
    assert set(oncall_by_pipeline(asset_directory(graph))) == names


def test_each_pipelines_own_sla_checks_run_in_the_sla_checks_job() -> None:
    """A pipeline's own SLA check (engagement's newest click) is judged by the SLA sensor and run
    by its job like the generated ones: the code location hands the judges to operations."""
    job = defs.get_repository_def().get_job(SLA_CHECKS_JOB)
    in_job = set(job.asset_layer.asset_graph.asset_check_keys)
    own = {key for p in PIPELINES for key in p.sla_verdicts}
    assert own, "no pipeline declares an SLA check of its own"
    assert own <= in_job, sorted(str(k) for k in own - in_job)


# -- a sixth pipeline, in a temporary package ---------------------------------------------------
_RUNBOOK = """\
# Runbook — Support tickets

## SLA

Yesterday's tickets by 08:00 UTC.

## On-call

Queued for the support-analytics team in working hours.

## Common issues

- The helpdesk export is late.

## First steps

- **Support 1**: Check the helpdesk export landed.
- **Support 2**: Re-run the day.
"""

_COLUMNS = """\
import polars as pl

from pacific_assets.columns import Column, declare

SUPPORT_TICKETS_DAILY = declare(
    "support_tickets_daily",
    Column("date", pl.Date, "the day the tickets were opened", False),
    Column("tickets", pl.Int64, "tickets opened that day", False),
)
"""

_SCHEDULES = """\
from pacific_assets.orchestration.automation import cadence_schedule

support_daily_schedule = cadence_schedule(
    "support_daily_schedule", ["support_tickets_daily"], "0 3 * * *", "Yesterday's tickets."
)
SCHEDULES = [support_daily_schedule]
"""

_PIPELINE = """\
import datetime as dt
from pathlib import Path

import dagster as dg

from pacific_assets.completeness_source import CompletenessSource
from pacific_assets.orchestration.partitions import daily
from pacific_assets.pipeline_policy import Cadence, PipelinePolicy
from pacific_assets.registry import Pipeline
from pacific_assets.runbooks import load_runbook

from . import columns  # noqa: F401  (declares the table)
from .schedules import SCHEDULES


@dg.asset(partitions_def=daily, group_name="support")
def support_tickets_daily() -> None:
    pass


@dg.asset_check(asset=support_tickets_daily)
def tickets_not_negative() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=True)


PIPELINE = Pipeline(
    name="support",
    defs=dg.Definitions(
        assets=[support_tickets_daily], asset_checks=[tickets_not_negative], schedules=SCHEDULES
    ),
    policy=PipelinePolicy(
        runbook=load_runbook("support", Path(__file__).parent),
        owners=("team:support-analytics",),
        kinds=frozenset({"duckdb", "parquet"}),
        freshness=dg.FreshnessPolicy.time_window(fail_window=dt.timedelta(hours=32)),
        oncall_mode="queue",
        oncall_roles=(),
        queue="team:support-analytics",
        step_kinds={"Support 1": "check:*", "Support 2": "*"},
    ),
    completeness=CompletenessSource.presence(),
    cadences=(Cadence("daily support", "daily", "support_tickets_daily"),),
)
"""


@pytest.fixture
def toy_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """``toyco`` with one pipeline folder, ``support`` (and a folder without ``pipeline.py``)."""
    root = tmp_path / "toyco"
    folder = root / "support"
    folder.mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "not_a_pipeline").mkdir()
    (root / "not_a_pipeline" / "__init__.py").write_text("")
    (folder / "__init__.py").write_text('"""Support tickets."""\n')
    (folder / "columns.py").write_text(_COLUMNS)
    (folder / "schedules.py").write_text(_SCHEDULES)
    (folder / "pipeline.py").write_text(_PIPELINE)
    (folder / "support.md").write_text(textwrap.dedent(_RUNBOOK))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "toyco"
    # the toy's declarations leave the process's registries as they were
    schema._DECLARED.pop("support_tickets_daily", None)
    for name in [m for m in sys.modules if m == "toyco" or m.startswith("toyco.")]:
        del sys.modules[name]


def test_a_new_pipeline_folder_is_discovered_with_everything_it_declares(toy_package) -> None:
    (support,) = discover(toy_package)
    assert support.name == "support"
    location = with_operations(
        code_location(
            [support], dg.Definitions(resources={"lake": LakeResource(), "ops": OpsResource()})
        )
    )
    graph = location.resolve_asset_graph()
    node = graph.get(dg.AssetKey("support_tickets_daily"))
    # owners and freshness from its policy, the runbook in the UI description
    assert list(node.owners) == ["team:support-analytics"]
    assert node.freshness_policy is not None
    assert "Runbook — Support tickets" in (node.description or "")
    # its schedule, covering its declared cadence
    assert [s.name for s in location.schedules] == ["support_daily_schedule"]
    assert cadence_coverage(location.schedules, support.cadences) == {
        "daily support": ["support_daily_schedule"]
    }
    # its own check, and the SLA check operations generates from the declaration alone
    assert {k.name for k in node.check_keys} == {"tickets_not_negative", SLA_CHECK_NAME}
    assert [t.table for t in sla_targets(graph)] == ["support_tickets_daily"]
    # the column schema the UI shows
    columns = node.metadata[COLUMN_SCHEMA].schema.columns
    assert [(c.name, c.type) for c in columns] == [("date", "DATE"), ("tickets", "BIGINT")]
    # on-call routing reads its rules from the graph
    oncall = oncall_by_pipeline(asset_directory(graph))
    assert oncall["support"].queue == "team:support-analytics"
    assert oncall["support"].step_for("check:tickets_not_negative").ref == "Support 1"
