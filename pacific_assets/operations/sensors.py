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
from collections.abc import Mapping
from dataclasses import dataclass, field

import dagster as dg
from dagster import DagsterEventType

from pacific_assets.operations.alerts import Alert, deliver
from pacific_assets.operations.incidents import IncidentStore
from pacific_assets.operations.resources import OpsResource, ops_dir
from pacific_assets.operations.routing import route
from pacific_assets.orchestration import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
    freshness_states,
)
from pacific_assets.orchestration import run_partition_keys as covered_keys
from pacific_assets.pipeline_policy import SLA_CHECK_NAME, OnCall, describe_freshness
from pacific_assets.resources import LakeResource

RUN_FAILURE = "run_failure"
#: The group failures that belong to no asset are filed under (a job that targets none): the
#: platform's own, routed by the rules operations' assets carry.
PLATFORM = "operations"


@dataclass(frozen=True)
class AssetInfo:
    group: str
    op: str
    partitions_def: dg.PartitionsDefinition | None
    #: The on-call rules its pipeline declared on it (None: none declared).
    oncall: OnCall | None = None


def _text(value: object) -> str | None:
    """The text of a check's text metadata entry (None when absent or not text)."""
    return value.value if isinstance(value, dg.TextMetadataValue) else None


def asset_directory(asset_graph) -> dict[dg.AssetKey, AssetInfo]:
    """Pipeline (group), op name, partitions and on-call rules of every materializable asset."""
    out = {}
    for node in asset_graph.asset_nodes:
        if node.is_materializable:
            out[node.key] = AssetInfo(
                node.group_name or "default",
                node.assets_def.node_def.name,
                node.partitions_def,
                OnCall.on_asset(node.metadata),
            )
    return out


def oncall_by_pipeline(directory: Mapping[dg.AssetKey, AssetInfo]) -> dict[str, OnCall]:
    """Each pipeline's on-call rules, as its assets carry them."""
    return {info.group: info.oncall for info in directory.values() if info.oncall is not None}


def run_partition_keys(
    tags: Mapping[str, str], partitions_def: dg.PartitionsDefinition | None
) -> list[str] | None:
    """The partition keys a run covered for an asset, for the alert text: the range's endpoints
    when the range is not on the asset's grid (None: unpartitioned / whole asset)."""
    keys = covered_keys(tags, partitions_def)
    start, end = tags.get(ASSET_PARTITION_RANGE_START_TAG), tags.get(ASSET_PARTITION_RANGE_END_TAG)
    if keys is None and start and end:
        return [start, end]
    return keys


def describe_partitions(keys: list[str] | None) -> str:
    if not keys:
        return "-"
    return keys[0] if len(keys) == 1 else f"{keys[0]}...{keys[-1]} ({len(keys)})"


@dataclass
class RunEvents:
    """What one finished run recorded, as far as on-call cares."""

    #: Partitions materialized per asset (None in the set: an unpartitioned materialization).
    materialized: dict[dg.AssetKey, set[str | None]] = field(default_factory=dict)
    evaluations: list = field(default_factory=list)  # AssetCheckEvaluation
    #: Failed step (op name) -> the user's own error message.
    failed_steps: dict[str, str] = field(default_factory=dict)


def read_run_events(instance: dg.DagsterInstance, run_id: str) -> RunEvents:
    records = instance.get_records_for_run(
        run_id,
        of_type={
            DagsterEventType.ASSET_MATERIALIZATION,
            DagsterEventType.ASSET_CHECK_EVALUATION,
            DagsterEventType.STEP_FAILURE,
        },
    ).records
    events = RunEvents()
    for record in records:
        event = record.event_log_entry.dagster_event
        if event is None:
            continue
        if event.event_type == DagsterEventType.ASSET_MATERIALIZATION:
            events.materialized.setdefault(event.asset_key, set()).add(event.partition)
        elif event.event_type == DagsterEventType.ASSET_CHECK_EVALUATION:
            events.evaluations.append(event.event_specific_data)
        elif event.event_type == DagsterEventType.STEP_FAILURE and event.step_key:
            error = event.step_failure_data.error if event.step_failure_data else None
            events.failed_steps[event.step_key.split("[", 1)[0]] = _root_message(error)
    return events


class _RunRouter:
    """Routes the events of one run: incidents in the store, alerts for new ones."""

    def __init__(self, *, run, at, directory, lake: LakeResource, ops: OpsResource):
        self.run, self.at, self.directory, self.ops = run, at, directory, ops
        self.oncall = oncall_by_pipeline(directory)
        self.ops_dir = ops_dir(lake)
        self.store = IncidentStore(self.ops_dir)
        self.rotation = ops.rotation()
        self.run_id = run.run_id if run is not None else None
        self.by = f"run {run.run_id}" if run is not None else "freshness evaluation"
        self.alerts: list[dict] = []

    def partitions_of(self, key: dg.AssetKey) -> list[str] | None:
        info = self.directory.get(key)
        return run_partition_keys(self.run.tags, info.partitions_def if info else None)

    def resolve(self, asset: str, kind: str, partitions: list[str] | None) -> None:
        self.store.record_success(
            asset=asset, kinds={kind}, at=self.at, partitions=partitions, by=self.by
        )

    def open(
        self,
        asset: str,
        pipeline: str,
        kind: str,
        severity: str,
        summary: str,
        partitions: list[str] | None,
    ) -> None:
        """Open (or count a repeat of) an incident; alert only when it is new."""
        policy = self.oncall.get(pipeline) or self.oncall[PLATFORM]
        step = policy.step_for(kind)
        step_text = f"{step.ref}: {step.action}"
        routed = route(policy, self.at, self.rotation, severity=severity)
        incident, is_new = self.store.open_or_update(
            pipeline=pipeline,
            asset=asset,
            kind=kind,
            severity=severity,
            summary=summary,
            at=self.at,
            partitions=partitions,
            owner=routed.owner,
            action=routed.action,
            contacts=routed.contacts,
            runbook_step=step_text,
            run_id=self.run_id,
            fix_sla=policy.fix_sla,
        )
        if not is_new:
            return
        alert = Alert(
            at=self.at,
            pipeline=pipeline,
            asset=asset,
            partition=describe_partitions(partitions),
            kind=kind,
            severity=severity,
            summary=summary,
            route=routed,
            runbook_step=step_text,
            incident_id=incident.id,
            run_id=self.run_id,
        )
        mention = self.rotation.mention(routed.owner)
        self.alerts.append(deliver(alert, self.ops_dir, self.ops.slack_webhook_url, mention))

    def pipeline_of(self, key: dg.AssetKey) -> str:
        info = self.directory.get(key)
        return info.group if info else PLATFORM

    # -- the three kinds of news in a run ---------------------------------------------------
    def materializations(self, events: RunEvents, run_succeeded: bool) -> None:
        """Materialized partitions clear run-failure incidents (a job's, when it succeeded)."""
        for key, parts in events.materialized.items():
            keys = None if None in parts else sorted(p for p in parts if p is not None)
            self.resolve(key.to_user_string(), RUN_FAILURE, keys)
        if run_succeeded:
            self.resolve(f"job:{self.run.job_name}", RUN_FAILURE, None)

    def check_evaluations(self, events: RunEvents) -> None:
        """A failed check opens an incident; a passing one clears it for the run's partitions."""
        for evaluation in events.evaluations:
            key = evaluation.asset_key
            is_sla = evaluation.check_name == SLA_CHECK_NAME
            kind = f"sla:{SLA_CHECK_NAME}" if is_sla else f"check:{evaluation.check_name}"
            meta = evaluation.metadata or {}
            if is_sla:  # about "the newest due partition", whichever run evaluated it
                expected = _text(meta.get("expected_partition"))
                partitions = [expected] if expected else None
            elif evaluation.partition:
                partitions = [evaluation.partition]
            else:
                partitions = self.partitions_of(key)
            if evaluation.passed:
                self.resolve(key.to_user_string(), kind, None if is_sla else partitions)
                continue
            detail = (
                evaluation.description
                or _text(meta.get("summary"))
                or "see the check metadata in the UI"
            )
            self.open(
                key.to_user_string(),
                self.pipeline_of(key),
                kind,
                evaluation.severity.value,
                f"Check `{evaluation.check_name}` failed: {detail}",
                partitions,
            )

    def failure(self, events: RunEvents) -> None:
        """The assets whose step failed are the root cause; what they blocked is named."""
        run = self.run
        targeted = set(run.asset_selection or ())
        done = set(events.materialized)
        roots = {
            key
            for key, info in self.directory.items()
            if info.op in events.failed_steps
            and (not targeted or key in targeted)
            and key not in done
        } or (targeted - done)
        blocked = sorted(k.to_user_string() for k in targeted - done - roots)
        for key in sorted(roots, key=lambda k: k.to_user_string()):
            error = (
                events.failed_steps.get(self.directory[key].op, "") if key in self.directory else ""
            )
            summary = (
                f"Run {run.run_id[:8]} ({run.job_name}) failed to materialize it"
                + (f": {error}" if error else "")
                + (f". Blocked downstream: {', '.join(blocked[:8])}" if blocked else "")
            )
            self.open(
                key.to_user_string(),
                self.pipeline_of(key),
                RUN_FAILURE,
                "ERROR",
                summary,
                self.partitions_of(key),
            )
        if not roots:  # a run that targets no asset (an op or checks job, a crashed launch)
            errors = list(events.failed_steps.values())
            summary = f"Run {run.run_id[:8]} of job {run.job_name} failed" + (
                f": {errors[0]}" if errors else ""
            )
            self.open(f"job:{run.job_name}", PLATFORM, RUN_FAILURE, "ERROR", summary, None)


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
    events = read_run_events(instance, run.run_id)
    router = _RunRouter(run=run, at=at, directory=directory, lake=lake, ops=ops)
    router.materializations(events, run_succeeded=not failed)
    router.check_evaluations(events)
    if failed:
        router.failure(events)
    return router.alerts


FRESHNESS = "freshness"


def route_freshness(
    *,
    states: Mapping[dg.AssetKey, str],
    policies: Mapping[dg.AssetKey, dg.FreshnessPolicy],
    at: dt.datetime,
    directory: Mapping[dg.AssetKey, AssetInfo],
    lake: LakeResource,
    ops: OpsResource,
) -> list[dict]:
    """Dagster's freshness verdicts to incidents: FAIL opens (and alerts once), anything else
    resolves. State, not events: the same states give the same incidents, so re-evaluating is
    harmless and a missed evaluation is caught up by the next one."""
    router = _RunRouter(run=None, at=at, directory=directory, lake=lake, ops=ops)
    for key, state in sorted(states.items(), key=lambda kv: kv[0].to_user_string()):
        asset = key.to_user_string()
        if state == "FAIL":
            router.open(
                asset,
                router.pipeline_of(key),
                FRESHNESS,
                "ERROR",
                f"Freshness policy failed ({describe_freshness(policies.get(key))}): Dagster "
                "found no materialization of the asset recent enough for its SLA.",
                None,
            )
        elif state in ("PASS", "WARN"):
            router.resolve(asset, FRESHNESS, None)
    return router.alerts


def build_oncall_sensors(
    directory: Mapping[dg.AssetKey, AssetInfo],
    freshness_policies: Mapping[dg.AssetKey, dg.FreshnessPolicy] | None = None,
) -> list[dg.SensorDefinition]:
    """The run-failure, check-results and freshness sensors, RUNNING by default."""
    policies = dict(freshness_policies or {})

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

    @dg.sensor(
        name="oncall_freshness",
        default_status=dg.DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=60,
        description="Routes Dagster's freshness verdicts (the freshness daemon's state per "
        "asset): FAIL opens an incident and alerts its on-call route once; PASS resolves it.",
    )
    def oncall_freshness(context: dg.SensorEvaluationContext, lake: LakeResource, ops: OpsResource):
        states = freshness_states(context.instance, list(policies))
        alerts = route_freshness(
            states=states, policies=policies, at=ops.now(), directory=directory, lake=lake, ops=ops
        )
        failing = sorted(k.to_user_string() for k, s in states.items() if s == "FAIL")
        if alerts:
            context.log.info(f"{len(alerts)} freshness alert(s): {failing}")
        return dg.SkipReason(
            f"{len(failing)} asset(s) failing freshness"
            + (f": {', '.join(failing)}" if failing else "")
        )

    return [oncall_run_failure, oncall_check_results, oncall_freshness]


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
