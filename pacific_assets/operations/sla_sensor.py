"""Runs an SLA check exactly when its verdict would change.

An SLA check's verdict depends on the lake (is the partition there, complete?) and the clock (has
its deadline passed?). Every materialization run already evaluates the checks of the assets it
builds; what no run triggers is a deadline passing with nothing built — the failure an SLA exists
for. So this sensor (every minute) computes each check's verdict now, compares it with the
latest verdict Dagster recorded for that check, and runs exactly the checks whose verdict
differs: an SLA miss pages within a minute of its deadline, and a quiet day runs nothing. Like
every decision here it reads state, not a cursor: a fresh instance runs each check once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import dagster as dg

from pacific_assets.operations.checks import SlaTarget, evaluate
from pacific_assets.orchestration import (
    AssetCheckExecutionRecordStatus,
    TickBudget,
    asset_check_history,
    clock,
    digest,
)
from pacific_assets.pipeline_policy import SLA_CHECK_NAME
from pacific_assets.resources import LakeResource

#: A pipeline's own SLA check and how to judge it now, ``(lake, now) -> verdict`` (declared in
#: its ``pipeline.py``, ``Pipeline.sla_verdicts``; handed in by the code location).
Judges = Mapping[dg.AssetCheckKey, Callable[..., tuple]]


_FINISHED = (AssetCheckExecutionRecordStatus.SUCCEEDED, AssetCheckExecutionRecordStatus.FAILED)


def _recorded(instance: dg.DagsterInstance, key: dg.AssetCheckKey) -> tuple | None:
    """(passed, severity, description) of the latest stored verdict, None if never evaluated.
    The newest record is nearly always a finished one: fetched alone first (each record read is
    a deserialization, for every SLA target every minute), the four before it only if not."""
    records = asset_check_history(instance, key, limit=1)
    if records and records[0].status not in _FINISHED:
        records = asset_check_history(instance, key, limit=5)
    for record in records:
        if record.status not in _FINISHED:
            continue
        if record.event is None:
            return None
        ev = record.event.dagster_event.event_specific_data
        return (ev.passed, ev.severity if not ev.passed else None, ev.description)
    return None


def _verdict(result: dg.AssetCheckResult) -> tuple:
    return (result.passed, result.severity if not result.passed else None, result.description)


def current_verdicts(
    lake,
    targets: list[SlaTarget],
    now,
    own: Judges | None = None,
    budget: TickBudget | None = None,
) -> dict[dg.AssetCheckKey, tuple]:
    """The verdict every SLA check would give now: the generated ones of ``targets``, and the
    pipelines' ``own`` by their judges. ``budget``: checked between targets."""
    out = {}
    for t in targets:
        if budget is not None:
            budget.check(lambda t=t: f"judging the SLA of {t.key.to_user_string()}")
        out[dg.AssetCheckKey(t.key, SLA_CHECK_NAME)] = _verdict(evaluate(t, lake, now))
    for key, judge in (own or {}).items():
        out[key] = judge(lake, now)
    return out


def build_sla_checks_sensor(
    job, targets: list[SlaTarget], own: Judges | None = None
) -> dg.SensorDefinition:
    @dg.sensor(
        name="sla_checks_sensor",
        job=job,
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Runs each SLA check (newest expected partition, newest click within 48 h) "
        "when its verdict would differ from the one Dagster recorded: at a deadline, when a "
        "partition appears or goes missing. Quiet periods run nothing.",
    )
    def sla_checks_sensor(context: dg.SensorEvaluationContext, lake: LakeResource):
        budget = TickBudget("sla_checks_sensor", "sensor")
        now = clock.now()
        changed = []
        for key, verdict in sorted(
            current_verdicts(lake.lake, targets, now, own, budget).items(),
            key=lambda kv: str(kv[0]),
        ):
            recorded = _recorded(context.instance, key)
            if recorded is None or recorded[: len(verdict)] != verdict:
                changed.append((key, verdict))
        if not changed:
            return dg.SkipReason("every SLA check's recorded verdict is current")
        return dg.RunRequest(
            run_key=f"sla:{digest(f'{k}:{v}' for k, v in changed)}",
            asset_check_keys=[k for k, _ in changed],
            tags={"pacific/trigger": "sla_checks_sensor", "pacific/why": "verdict changed"},
        )

    return sla_checks_sensor
