"""Pipelines are found, not listed: each folder declares everything about itself (issue #29).

The registry (``pacific_assets/registry.py``) walks the package for ``pipeline.py``; these tests
hold every discovered pipeline to its declaration (owners, SLA, schedules named the same way),
and build a sixth pipeline in a temporary package to show that one folder is enough
(docs/adding-a-pipeline.md).
"""

from __future__ import annotations

import importlib

import pytest

from pacific_assets.definitions import defs
from pacific_assets.operations.sensors import asset_directory, oncall_by_pipeline
from pacific_assets.operations.sla import sla_of
from pacific_assets.pipeline_folders import pipeline_packages
from pacific_assets.registry import discover

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
