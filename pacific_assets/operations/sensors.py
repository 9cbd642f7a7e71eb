"""On-call routing sensors: run failures and failed asset checks become incidents and alerts.

Two run-status sensors read what each finished run recorded (materializations, check
evaluations, step failures) — the run-failure sensor for failed runs, the check-results sensor
for successful ones (checks do not fail runs) — and hand it to ``handle_run``:

- a failed step → a ``run_failure`` incident for the assets it should have produced (the
  assets blocked downstream are named in the alert, not paged separately);
- a failed check → a ``check:<name>`` (or ``sla:newest_expected_partition``) incident;
- a new incident → one alert, routed by ``routing.route`` (page vs working-hours queue);
- a materialization / passing check → clears the partitions of the matching open incidents,
  resolving them when nothing is left.

Both sensors are RUNNING by default and watch every job of the code location. They are built
from the merged definitions (``operations.factory``), which is how they know each asset's
pipeline, op and partitions.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

import dagster as dg
from dagster import DagsterEventType

from pacific_assets.operations.alerts import Alert, deliver
from pacific_assets.operations.incidents import IncidentStore
from pacific_assets.operations.policies import POLICIES, SLA_CHECK_NAME
from pacific_assets.operations.resources import OpsResource, ops_dir
from pacific_assets.operations.routing import route
from pacific_assets.resources import LakeResource

RUN_FAILURE = "run_failure"
_PARTITION = "dagster/partition"
_RANGE_START = "dagster/asset_partition_range_start"
_RANGE_END = "dagster/asset_partition_range_end"


@dataclass(frozen=True)
class AssetInfo:
    group: str
    op: str
    partitions_def: dg.PartitionsDefinition | None


def asset_directory(asset_graph) -> dict[dg.AssetKey, AssetInfo]:
    """Pipeline (group), op name and partitions of every materializable asset."""
    out = {}
    for node in asset_graph.asset_nodes:
        if node.is_materializable:
            out[node.key] = AssetInfo(
                node.group_name or "default", node.assets_def.node_def.name, node.partitions_def
            )
    return out


def run_partition_keys(
    tags: Mapping[str, str], partitions_def: dg.PartitionsDefinition | None
) -> list[str] | None:
    """The partition keys a run covered for an asset (None: unpartitioned / whole asset)."""
    if _PARTITION in tags:
        return [tags[_PARTITION]]
    start, end = tags.get(_RANGE_START), tags.get(_RANGE_END)
    if not (start and end):
        return None
    if partitions_def is not None:
        try:
            return list(
                partitions_def.get_partition_keys_in_range(dg.PartitionKeyRange(start, end))
            )
        except Exception:  # keys of another grid: keep the range's endpoints
            pass
    return [start, end]


def describe_partitions(keys: list[str] | None) -> str:
    if not keys:
        return "-"
    return keys[0] if len(keys) == 1 else f"{keys[0]}...{keys[-1]} ({len(keys)})"


def handle_run(
    *,
    instance: dg.DagsterInstance,
    run: dg.DagsterRun,
    failed: bool,
    at: dt.datetime,
    directory: Mapping[dg.AssetKey, AssetInfo],
    lake: LakeResource,
    ops: OpsResource,
) -> list[dict]:
    """Turn one finished run into incident updates and alerts; returns the alerts delivered."""
    store_dir = ops_dir(lake)
    store = IncidentStore(store_dir)
    rotation = ops.rotation()
    records = instance.get_records_for_run(
        run.run_id,
        of_type={
            DagsterEventType.ASSET_MATERIALIZATION,
            DagsterEventType.ASSET_CHECK_EVALUATION,
            DagsterEventType.STEP_FAILURE,
        },
    ).records
    materialized: dict[dg.AssetKey, set[str | None]] = defaultdict(set)
    evaluations = []
    failed_steps: dict[str, str] = {}
    for record in records:
        event = record.event_log_entry.dagster_event
        if event is None:
            continue
        if event.event_type == DagsterEventType.ASSET_MATERIALIZATION:
            materialized[event.asset_key].add(event.partition)
        elif event.event_type == DagsterEventType.ASSET_CHECK_EVALUATION:
            evaluations.append(event.event_specific_data)
        elif event.event_type == DagsterEventType.STEP_FAILURE and event.step_key:
            error = event.step_failure_data.error if event.step_failure_data else None
            failed_steps[event.step_key.split("[", 1)[0]] = _root_message(error)

    by = f"run {run.run_id}"
    for key, parts in materialized.items():
        keys = None if None in parts else sorted(p for p in parts if p is not None)
        store.record_success(
            asset=key.to_user_string(), kinds={RUN_FAILURE}, at=at, partitions=keys, by=by
        )
    if not failed:  # a job-level failure (no asset) resolves when the job next succeeds
        store.record_success(
            asset=f"job:{run.job_name}", kinds={RUN_FAILURE}, at=at, partitions=None, by=by
        )

    def _open(
        asset: str,
        info: AssetInfo | None,
        kind: str,
        severity: str,
        summary: str,
        partitions: list[str] | None,
    ) -> dict | None:
        pipeline = info.group if info else "operations"
        policy = POLICIES.get(pipeline) or POLICIES["staging"]
        step = policy.step_for(kind)
        routed = route(pipeline, at, rotation, severity=severity)
        incident, is_new = store.open_or_update(
            pipeline=pipeline,
            asset=asset,
            kind=kind,
            severity=severity,
            summary=summary,
            at=at,
            partitions=partitions,
            owner=routed.owner,
            action=routed.action,
            contacts=routed.contacts,
            runbook_step=f"{step.ref}: {step.action}",
            run_id=run.run_id,
        )
        if not is_new:
            return None
        alert = Alert(
            at=at,
            pipeline=pipeline,
            asset=asset,
            partition=describe_partitions(partitions),
            kind=kind,
            severity=severity,
            summary=summary,
            route=routed,
            runbook_step=f"{step.ref}: {step.action}",
            incident_id=incident.id,
            run_id=run.run_id,
        )
        return deliver(alert, store_dir, ops.slack_webhook_url, rotation.mention(routed.owner))

    alerts: list[dict] = []
    for evaluation in evaluations:
        asset = evaluation.asset_key.to_user_string()
        info = directory.get(evaluation.asset_key)
        is_sla = evaluation.check_name == SLA_CHECK_NAME
        kind = f"sla:{SLA_CHECK_NAME}" if is_sla else f"check:{evaluation.check_name}"
        meta = evaluation.metadata or {}
        if is_sla:
            expected = getattr(meta.get("expected_partition"), "value", None)
            partitions = [expected] if expected else None
        elif evaluation.partition:
            partitions = [evaluation.partition]
        else:
            partitions = run_partition_keys(run.tags, info.partitions_def if info else None)
        if evaluation.passed:
            store.record_success(
                asset=asset, kinds={kind}, at=at, partitions=None if is_sla else partitions, by=by
            )
            continue
        summary_value = getattr(meta.get("summary"), "value", None)
        summary = (
            f"Check `{evaluation.check_name}` failed: "
            f"{evaluation.description or summary_value or 'see the check metadata in the UI'}"
        )
        alert = _open(asset, info, kind, evaluation.severity.value, summary, partitions)
        if alert:
            alerts.append(alert)

    if failed:
        targeted = set(run.asset_selection or ())
        got = set(materialized)
        roots = {
            key
            for key, info in directory.items()
            if info.op in failed_steps and (not targeted or key in targeted) and key not in got
        }
        if not roots:
            roots = targeted - got
        blocked = sorted(k.to_user_string() for k in targeted - got - roots)
        for key in sorted(roots, key=lambda k: k.to_user_string()):
            info = directory.get(key)
            error = failed_steps.get(info.op, "") if info else ""
            summary = (
                f"Run {run.run_id[:8]} ({run.job_name}) failed to materialize it"
                + (f": {error}" if error else "")
                + (f". Blocked downstream: {', '.join(blocked[:8])}" if blocked else "")
            )
            partitions = run_partition_keys(run.tags, info.partitions_def if info else None)
            alert = _open(key.to_user_string(), info, RUN_FAILURE, "ERROR", summary, partitions)
            if alert:
                alerts.append(alert)
        if not roots:  # a run that targets no asset (an op job, a crashed launch)
            summary = f"Run {run.run_id[:8]} of job {run.job_name} failed" + (
                f": {next(iter(failed_steps.values()))}" if failed_steps else ""
            )
            alert = _open(f"job:{run.job_name}", None, RUN_FAILURE, "ERROR", summary, None)
            if alert:
                alerts.append(alert)
    return alerts


def build_oncall_sensors(
    directory: Mapping[dg.AssetKey, AssetInfo],
) -> list[dg.SensorDefinition]:
    """The run-failure sensor and the check-results sensor, RUNNING by default."""

    @dg.run_failure_sensor(
        name="oncall_run_failure",
        default_status=dg.DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=30,
        description="Routes failed runs per the runbooks (page vs working-hours queue), opens "
        "incidents and alerts (Slack or <data_root>/ops/alerts.jsonl).",
    )
    def oncall_run_failure(
        context: dg.RunFailureSensorContext, lake: LakeResource, ops: OpsResource
    ):
        at = _run_end_time(context.instance, context.dagster_run, ops)
        alerts = handle_run(
            instance=context.instance,
            run=context.dagster_run,
            failed=True,
            at=at,
            directory=directory,
            lake=lake,
            ops=ops,
        )
        for alert in alerts:
            context.log.info(
                f"{alert['action']} {alert['owner']}: {alert['asset']} "
                f"{alert['partition']} ({alert['kind']})"
            )

    @dg.run_status_sensor(
        name="oncall_check_results",
        run_status=dg.DagsterRunStatus.SUCCESS,
        default_status=dg.DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=30,
        description="Routes failed asset checks (checks never fail a run) and resolves incidents "
        "when assets materialize or checks pass again.",
    )
    def oncall_check_results(
        context: dg.RunStatusSensorContext, lake: LakeResource, ops: OpsResource
    ):
        at = _run_end_time(context.instance, context.dagster_run, ops)
        handle_run(
            instance=context.instance,
            run=context.dagster_run,
            failed=False,
            at=at,
            directory=directory,
            lake=lake,
            ops=ops,
        )

    return [oncall_run_failure, oncall_check_results]


def _root_message(error) -> str:
    """The user's own exception message (Dagster wraps it in a step-execution error)."""
    while error is not None and error.cause is not None:
        error = error.cause
    lines = (error.message if error else "step failed").strip().splitlines()
    return lines[0][:300] if lines else ""


def _run_end_time(
    instance: dg.DagsterInstance, run: dg.DagsterRun, ops: OpsResource
) -> dt.datetime:
    """When the run ended (routing follows the failure's time, even if the daemon catches up).

    A frozen ops clock (tests, demos on simulated history) stands in for every time.
    """
    if ops.frozen_now:
        return ops.now()
    record = instance.get_run_record_by_id(run.run_id)
    end = record.end_time if record else None
    return dt.datetime.fromtimestamp(end, dt.UTC) if end else ops.now()
