"""The only module that imports Dagster internals (``dagster._*``); checked against 1.13.27.

Everything else uses the public API (``import dagster as dg``). Each name below is here because
the installed Dagster has no public name that does the same job; its docstring or comment says
what it is for and which public API was checked. ``pacific_assets_tests/test_dagster_compat.py``
imports every name below and exercises it, and fails with a message naming the name if an
upgrade moved or changed it. It also fails if a ``dagster._`` import appears anywhere else.

Checked, and public (so NOT here): ``dg.DagsterEventType``, ``dg.FreshnessPolicy.cron`` /
``.time_window`` (constructors), ``dg.PartitionKeyRange``, ``dg.AssetRecordsFilter``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import dagster as dg

try:
    from dagster._core.definitions.data_version import (
        CODE_VERSION_TAG,
        DATA_VERSION_IS_USER_PROVIDED_TAG,
        DATA_VERSION_TAG,
        INPUT_DATA_VERSION_TAG_PREFIX,
        INPUT_EVENT_POINTER_TAG_PREFIX,
    )
    from dagster._core.definitions.freshness import (
        CronFreshnessPolicy,
        TimeWindowFreshnessPolicy,
    )
    from dagster._core.execution.backfill import BulkActionsFilter, BulkActionStatus
    from dagster._core.storage.asset_check_execution_record import (
        AssetCheckExecutionRecord,
        AssetCheckExecutionRecordStatus,
    )
    from dagster._core.storage.tags import (
        ASSET_PARTITION_RANGE_END_TAG,
        ASSET_PARTITION_RANGE_START_TAG,
        PARTITION_NAME_TAG,
    )
    from dagster._time import get_current_datetime
    from dagster._utils.schedules import get_next_cron_tick
except ImportError as exc:  # pragma: no cover - only on a Dagster upgrade
    raise ImportError(
        f"dagster {dg.__version__} moved a private name pacific_assets relies on ({exc}); "
        "pacific_assets/orchestration/dagster_compat.py was written for dagster 1.13.27. Find the name's new "
        "home (or a public replacement) and update that module only; "
        "pacific_assets_tests/test_dagster_compat.py lists what each name must do."
    ) from exc

__all__ = [
    "ASSET_PARTITION_RANGE_END_TAG",
    "ASSET_PARTITION_RANGE_START_TAG",
    "NO_COMPUTE_LOGS_YAML",
    "PARTITION_NAME_TAG",
    "REPLAY_INSTANCE_YAML",
    "AssetCheckExecutionRecordStatus",
    "CronFreshnessPolicy",
    "TimeWindowFreshnessPolicy",
    "asset_check_history",
    "backfill_targets",
    "dagster_now",
    "data_version_tags",
    "event_data_version",
    "freshness_states",
    "moved_clock",
    "next_cron_tick",
    "provenance_tags",
    "replay_daemons",
    "run_partition_keys",
    "set_step_data_version",
]

# CronFreshnessPolicy / TimeWindowFreshnessPolicy: the concrete types behind
# ``dg.FreshnessPolicy.cron`` / ``dg.FreshnessPolicy.time_window``. The SLA check and the runbook
# read a policy back (deadline cron, timezone, windows), which needs ``isinstance`` on the concrete
# type; dagster (top level and ``dagster.preview``) exports only the abstract FreshnessPolicy.

# ASSET_PARTITION_RANGE_START_TAG / ASSET_PARTITION_RANGE_END_TAG: the run tags that make one run
# cover a range of partitions (how a single-run backfill runs; the demo, the planners and the
# sensors write and read them). Checked: dagster exports neither, nor any other public name for
# them; ``dg.RunRequest`` takes a ``partition_key`` only, a range has to be given as these tags.

# PARTITION_NAME_TAG: the run tag of a one-partition run (``dagster/partition``), also private.


def run_partition_keys(
    tags: dict[str, str] | Any, partitions_def: dg.PartitionsDefinition | None
) -> list[str] | None:
    """The partition keys a run covered for an asset of ``partitions_def``, read from the run's
    tags; None when they do not say which (no partition tag, a range on another grid, an
    unpartitioned asset): the run speaks for the whole asset. The one reader of these tags (the
    planner, the on-call sensors and the rollup's completeness record use it)."""
    if PARTITION_NAME_TAG in tags:
        return [tags[PARTITION_NAME_TAG]]
    start, end = tags.get(ASSET_PARTITION_RANGE_START_TAG), tags.get(ASSET_PARTITION_RANGE_END_TAG)
    if not (start and end) or partitions_def is None:
        return None
    try:
        return list(partitions_def.get_partition_keys_in_range(dg.PartitionKeyRange(start, end)))
    except Exception:
        return None


# -- data versions: what the UI shows as a partition's version ----------------------------------
# DATA_VERSION_TAG & co.: the event tags Dagster reads a partition's data version and provenance
# from (``dagster/data_version``, ``dagster/data_version_is_user_provided``, ``dagster/code_version``,
# ``dagster/input_data_version/<asset>``, ``dagster/input_event_pointer/<asset>``). The webserver's
# ``dataVersion(partition:)`` / ``dataVersionByPartition`` resolve to the tag of the partition's
# latest materialization (``CachingStaleStatusResolver.get_current_data_version``). Checked:
# ``dg.AssetMaterialization(tags=...)`` is public and accepts these tags, but dagster exports no
# name for them and no ``data_version=`` argument on a materialization event; ``Output`` /
# ``MaterializeResult(data_version=)`` give every partition of a range step one version
# (dagster-io/dagster#34013, #18649), so a range step's partitions need their own events.


def data_version_tags(version: str) -> dict[str, str]:
    """The tags that make ``version`` a materialization's data version, given by us (as
    ``MaterializeResult(data_version=)`` marks it), for a ``dg.AssetMaterialization``."""
    return {DATA_VERSION_TAG: version, DATA_VERSION_IS_USER_PROVIDED_TAG: "true"}


def event_data_version(event: dg.AssetMaterialization | None) -> str | None:
    """The data version the UI shows for a stored materialization (None: it carries none)."""
    return None if event is None else (event.tags or {}).get(DATA_VERSION_TAG)


def provenance_tags(event: dg.AssetMaterialization) -> dict[str, str]:
    """The provenance tags Dagster put on a step's materialization (code version, each input's
    data version and event pointer): kept on an event that restates the partition's version, so
    Dagster's own staleness reads the same inputs."""
    prefixes = (CODE_VERSION_TAG, INPUT_DATA_VERSION_TAG_PREFIX, INPUT_EVENT_POINTER_TAG_PREFIX)
    return {k: v for k, v in (event.tags or {}).items() if k.startswith(prefixes)}


def set_step_data_version(
    context: dg.AssetExecutionContext, asset_key: dg.AssetKey, version: str
) -> None:
    """Make ``version`` the data version of the step's own materialization of ``asset_key``.

    Why here: ``AssetExecutionContext.set_data_version`` is a method of a public class but not
    marked ``@public`` (absent from the API docs; Dagster Pipes uses it). Public alternative
    checked: ``MaterializeResult(data_version=)``, which every asset body would have to build
    from a version only the lake's write knows; and it gives a range step's partitions one
    version (dagster-io/dagster#34013), like this method.
    """
    context.set_data_version(asset_key, dg.DataVersion(version))


# AssetCheckExecutionRecordStatus: the status of a stored check execution (SUCCEEDED / FAILED /
# PLANNED), see ``asset_check_history``. No public enum; ``dg.AssetCheckResult`` is only the
# in-run result, not the stored record.


def dagster_now() -> dt.datetime:
    """Dagster's current time (aware UTC): the project's clock (``pacific_assets.orchestration.clock``).

    Why private: schedules, sensor intervals, partition grids and the freshness daemon all read
    this function, and Dagster's own tests (and our replay harness) move it; reading it is the
    only way the project's "now" moves with Dagster's. Public API checked: ``dg`` exports no
    clock; ``context.scheduled_execution_time`` exists only in schedules.
    """
    return get_current_datetime()


def next_cron_tick(cron: str, at_or_after: dt.datetime, timezone: str | None) -> dt.datetime:
    """The first tick of ``cron`` at or after ``at_or_after``: a cron freshness deadline.

    Why private: it is the arithmetic Dagster's own cron freshness policy and schedules use (its
    DST handling and vendored croniter), so the SLA check's due date and the policy agree.
    Checked: croniter is not a dependency of dagster 1.13 (vendored under ``dagster._vendored``)
    nor of this project; no public dagster function returns a cron tick. A
    ``dg.TimeWindowPartitionsDefinition`` on the deadline cron would, but only as a misuse (a
    made-up start date and key format for every policy).
    """
    return get_next_cron_tick(cron, at_or_after, timezone)


def asset_check_history(
    instance: dg.DagsterInstance, check_key: dg.AssetCheckKey, limit: int
) -> Sequence[AssetCheckExecutionRecord]:
    """Stored executions of one asset check, newest first (status, partition, run, evaluation).

    Why private: the investor rollup's completeness record needs every recent verdict per
    partition, not only the latest. Public ``dg.DagsterInstance`` checked: ``fetch_materializations``
    / ``fetch_observations`` cover no check evaluations, and there is no public check-history
    method (``get_latest_asset_check_evaluation_record`` is neither public nor a history).
    """
    return instance.event_log_storage.get_asset_check_execution_history(check_key, limit=limit)


def backfill_targets(instance: dg.DagsterInstance) -> dict[str, set[str] | None]:
    """Asset -> partition keys that requested (running) asset backfills still have to build.

    Why private: the planner must not request what a backfill launched from the UI is about to
    build. Public API checked: ``DagsterInstance`` has no public backfill query; runs a backfill
    already launched carry tags (read through public ``get_runs``), but its remaining partitions
    exist only in the backfill record.
    """
    out: dict[str, set[str] | None] = {}
    backfills = instance.get_backfills(
        filters=BulkActionsFilter(statuses=[BulkActionStatus.REQUESTED])
    )
    for backfill in backfills:
        data = backfill.asset_backfill_data
        if data is None:
            continue
        remaining = data.target_subset - data.materialized_subset
        for akpk in remaining.iterate_asset_partitions():
            table = akpk.asset_key.to_user_string()
            keys = out.setdefault(table, set())
            if keys is not None:
                keys.add(akpk.partition_key or "current")
    return out


def freshness_states(
    instance: dg.DagsterInstance, keys: Sequence[dg.AssetKey]
) -> dict[dg.AssetKey, str]:
    """The freshness daemon's latest verdict per asset: "PASS", "WARN", "FAIL" or "UNKNOWN".

    Why private: ``DagsterInstance.get_freshness_state_records`` is what the UI reads, but it is
    not marked public; the public ``AutomationCondition.freshness_failed`` needs a preview-level
    custom sensor to act on (routing an alert is not a materialization). Keys never evaluated are
    absent.
    """
    records = instance.get_freshness_state_records(list(keys))
    return {key: record.freshness_state.value for key, record in records.items()}


# -- the replay harness: Dagster's own daemons, in process, under a clock we move -----------------
# Why private: the replay (``pacific_tools.replay``) must do what the daemon does — evaluate every
# running schedule and sensor (and the asset, backfill and freshness daemons) at a simulated
# instant and execute what they request — for weeks of simulated time in minutes. The public API
# checked: ``dg.build_sensor_context`` / ``build_schedule_context`` evaluate one definition but
# neither keeps tick state, applies run keys, launches runs nor evaluates freshness; ``dagster
# dev`` runs the real daemon but only on the wall clock. Dagster's own daemon tests use exactly
# these iteration functions under a moved clock.

#: Steps' stdout/stderr are not captured: the local capture starts a ``tail`` and two watcher
#: processes per step (a replay runs thousands of steps); the event log is complete without it.
NO_COMPUTE_LOGS_YAML = """\
compute_logs:
  module: dagster._core.storage.noop_compute_log_manager
  class: NoOpComputeLogManager
"""

#: A replay instance: runs execute synchronously in the daemon's process, in the order requested.
REPLAY_INSTANCE_YAML = (
    """\
# Written by pacific_tools.replay: a real, persistent SQLite instance whose runs execute
# synchronously inside the (in-process) daemon iterations, so the replay is deterministic.
telemetry:
  enabled: false
"""
    + NO_COMPUTE_LOGS_YAML
    + """\
run_coordinator:
  module: dagster._core.run_coordinator
  class: DefaultRunCoordinator
run_launcher:
  module: dagster._core.launcher.sync_in_memory_run_launcher
  class: SyncInMemoryRunLauncher
"""
)


@contextmanager
def moved_clock(now: Callable[[], dt.datetime]) -> Iterator[None]:
    """Dagster's clock (and so the project's, ``pacific_assets.orchestration.clock``) reads ``now()``."""
    import logging
    from unittest import mock

    # Events logged during a run take their timestamp from the log record's creation time
    # (``EventLogEntry.timestamp = record.created``): records are stamped on the moved clock too,
    # so materializations happen at the simulated instant (freshness, the replay's timeline).
    original = logging.getLogRecordFactory()

    def stamped(*args, **kwargs):
        record = original(*args, **kwargs)
        t = now().timestamp()
        record.created, record.msecs = t, (t - int(t)) * 1000
        return record

    logging.setLogRecordFactory(stamped)
    try:
        with (
            mock.patch("dagster._time._mockable_get_current_datetime", side_effect=lambda: now()),
            mock.patch(
                "dagster._time._mockable_get_current_timestamp",
                side_effect=lambda: now().timestamp(),
            ),
        ):
            yield
    finally:
        logging.setLogRecordFactory(original)


class _Shared:
    """The replay's instance, handed to every sensor/schedule evaluation instead of a new one
    opened from its ref (opening SQLite storage costs ~0.25 s per evaluation); never closed by
    them."""

    def __init__(self, instance: dg.DagsterInstance):
        self.__dict__["_instance"] = instance

    def __getattr__(self, name: str):
        return getattr(self._instance, name)

    def __enter__(self) -> dg.DagsterInstance:
        return self._instance

    def __exit__(self, *exc) -> bool:
        return False


class DaemonTicker:
    """One code location loaded in process and Dagster's daemon iterations over it."""

    def __init__(self, instance: dg.DagsterInstance, module_name: str, working_directory: str):
        import dagster._daemon  # noqa: F401  (imports the daemon package in its working order)
        from dagster._core.remote_origin import InProcessCodeLocationOrigin
        from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
        from dagster._core.workspace.context import WorkspaceProcessContext
        from dagster._core.workspace.load_target import InProcessWorkspaceLoadTarget
        from dagster._daemon.asset_daemon import AssetDaemon
        from dagster._daemon.freshness import FreshnessDaemon

        self.instance = instance
        origin = InProcessCodeLocationOrigin(
            LoadableTargetOrigin(module_name=module_name, working_directory=working_directory),
            location_name=module_name.split(".")[0],
        )
        self.context = WorkspaceProcessContext(instance, InProcessWorkspaceLoadTarget(origin))
        self._asset_daemon = AssetDaemon(
            settings=instance.get_auto_materialize_settings(), pre_sensor_interval_seconds=30
        )
        self._freshness = FreshnessDaemon()

    def close(self) -> None:
        self.context.__exit__(None, None, None)

    def _repositories(self) -> Iterator:
        """The loaded code locations' repositories, as the daemons see them."""
        for location in self.context.create_request_context().code_locations:
            yield from location.get_repositories().values()

    def stop_all_except(self, keep: set[str]) -> list[str]:
        """Stop every schedule and sensor not named in ``keep`` (what a user does in the UI
        during an incident); returns the names stopped."""
        stopped = []
        for repo in self._repositories():
            for schedule in repo.get_schedules():
                if schedule.name not in keep:
                    self.instance.stop_schedule(
                        schedule.get_remote_origin_id(), schedule.selector_id, schedule
                    )
                    stopped.append(schedule.name)
            for sensor in repo.get_sensors():
                if sensor.name not in keep:
                    self.instance.stop_sensor(
                        sensor.get_remote_origin_id(), sensor.selector_id, sensor
                    )
                    stopped.append(sensor.name)
        return stopped

    def sensors_next_due(self) -> dict[str, dt.datetime]:
        """Each running sensor's next evaluation instant: its last tick plus its minimum interval,
        the elapsed time the sensor daemon waits for (``is_under_min_interval``)."""
        out = {}
        for repo in self._repositories():
            for sensor in repo.get_sensors():
                state = self.instance.get_instigator_state(
                    sensor.get_remote_origin_id(), sensor.selector_id
                )
                if state is None or not state.is_running or state.instigator_data is None:
                    continue
                # SensorInstigatorData's fields, read as the daemon's get_elapsed reads them
                data = state.instigator_data
                last = max(data.last_tick_timestamp or 0, data.last_tick_start_timestamp or 0)
                if last and sensor.min_interval_seconds:
                    out[sensor.name] = dt.datetime.fromtimestamp(last, dt.UTC) + dt.timedelta(
                        seconds=sensor.min_interval_seconds
                    )
        return out

    def tick(self, logger) -> None:
        """One pass of every daemon at the current (moved) time, runs executed as requested."""
        from dagster._daemon.backfill import execute_backfill_iteration
        from dagster._daemon.sensor import execute_sensor_iteration
        from dagster._scheduler.scheduler import launch_scheduled_runs

        def drain(gen) -> None:
            for error in gen:
                if error is not None and hasattr(error, "message"):
                    logger.error(error.message)

        drain(launch_scheduled_runs(self.context, logger, dagster_now(), iteration_times={}))
        drain(execute_sensor_iteration(self.context, logger, None, None))
        self._asset_daemon._run_iteration_impl(
            self.context, threadpool_executor=None, amp_tick_futures={}, debug_crash_flags={}
        )
        for _ in range(100):  # a backfill needs one iteration per wave of runs
            if not self.instance.get_backfills(
                filters=BulkActionsFilter(statuses=[BulkActionStatus.REQUESTED])
            ):
                break
            drain(execute_backfill_iteration(self.context, logger))
        drain(self._freshness.run_iteration(self.context))


@contextmanager
def _reused_sqlite_engines() -> Iterator[None]:
    """Dagster's SQLite storages build a new SQLAlchemy engine for every connection and inspect
    the schema on every instigator read; a replay makes ~10^5 such calls (two thirds of an idle
    tick, measured with py-spy). Within the replay: one engine per database (statements
    compiled once per engine) whose connections stay open in a pool, and the schema facts
    remembered per storage (the replay's instance is migrated once, at creation). The
    instance is a throwaway: its connections skip fsync (``synchronous=OFF``; a replay's wall
    time was two thirds SQLite commits and WAL checkpoints waiting on the disk). Same
    statements, same transactions, same records; only durability against a power cut is
    given up."""
    import functools
    from unittest import mock

    import sqlalchemy
    from dagster._core.storage.event_log.sqlite import sqlite_event_log
    from dagster._core.storage.runs.sqlite import sqlite_run_storage
    from dagster._core.storage.schedules import sql_schedule_storage
    from dagster._core.storage.schedules.sqlite import sqlite_schedule_storage
    from dagster._core.storage.sql import create_engine as dagster_create_engine

    dispose = sqlalchemy.engine.Engine.dispose

    engines: dict[tuple, sqlalchemy.engine.Engine] = {}

    def unsynced(dbapi_connection, _record) -> None:
        dbapi_connection.execute("PRAGMA synchronous=OFF")

    def create_engine(conn_string, **kwargs):
        key = (conn_string, repr(sorted(kwargs.items(), key=lambda kv: kv[0])))
        if key in engines:
            engines[key] = engines.pop(key)  # the most recently used last
            return engines[key]
        if len(engines) >= 64:  # every run has a database of its own: keep the recent ones
            dispose(engines.pop(next(iter(engines))))
        # A pool keeps connections open (Dagster's NullPool opens one per statement, re-reads
        # the schema and, closing the last one, checkpoints and deletes the WAL); the pool
        # rolls back a connection it takes back, so every use starts a fresh transaction.
        pooled = {
            **kwargs,
            "poolclass": sqlalchemy.pool.QueuePool,
            "pool_size": 2,
            "max_overflow": -1,
            "connect_args": {**kwargs.get("connect_args", {}), "check_same_thread": False},
        }
        engine = dagster_create_engine(conn_string, **pooled)
        sqlalchemy.event.listen(engine, "connect", unsynced)
        engines[key] = engine
        return engine

    def remembered(method):
        @functools.wraps(method)
        def wrapper(self, *args):
            memo = self.__dict__.setdefault("_pacific_schema_facts", {})
            key = (method.__name__, *(a for a in args if isinstance(a, str)))
            if key not in memo:
                memo[key] = method(self, *args)
            return memo[key]

        return wrapper

    storage = sql_schedule_storage.SqlScheduleStorage
    patches = (
        [
            # the event log disposes its engine after every connection: kept until the replay ends
            mock.patch.object(sqlalchemy.engine.Engine, "dispose", lambda self, close=True: None),
        ]
        + [
            mock.patch.object(module, "create_engine", create_engine)
            for module in (sqlite_event_log, sqlite_run_storage, sqlite_schedule_storage)
        ]
        + [
            mock.patch.object(storage, name, remembered(getattr(storage, name)))
            for name in (
                "has_instigators_table",
                "_has_instigators_table",
                "has_secondary_index_table",
                "has_built_index",
                "_has_asset_daemon_asset_evaluations_table",
            )
        ]
    )
    for patch in patches:
        patch.start()
    try:
        yield
    finally:
        for patch in reversed(patches):
            patch.stop()
        for engine in engines.values():
            dispose(engine)


@contextmanager
def _remembered_resource_schemas() -> Iterator[None]:
    """Every sensor evaluation builds its resources, and every ``ConfigurableResource`` built
    infers its config schema from its class again: a third of a sensor evaluation's time in a
    replay (cProfile). The schema is a function of the class and the fields left out, so within
    the replay it is inferred once per (class, fields left out)."""
    import functools
    from unittest import mock

    from dagster._config.pythonic_config import resource

    infer = resource.infer_schema_from_config_class
    schemas: dict[tuple, object] = {}

    @functools.wraps(infer)
    def remembered(model_cls, description=None, fields_to_omit=None, default=None):
        if default is not None:
            return infer(model_cls, description, fields_to_omit, default)
        key = (model_cls, description, frozenset(fields_to_omit or ()))
        if key not in schemas:
            schemas[key] = infer(model_cls, description, fields_to_omit)
        return schemas[key]

    with mock.patch.object(resource, "infer_schema_from_config_class", remembered):
        yield


@contextmanager
def replay_daemons(
    instance: dg.DagsterInstance, module_name: str, working_directory: str
) -> Iterator[DaemonTicker]:
    """The daemons of ``module_name`` over ``instance``; evaluations share the instance."""
    import random

    from dagster._core.instance import instance as instance_module

    random.seed(0)  # the daemons shuffle instigators with ``random``: one order per run
    original = instance_module.DagsterInstance.from_ref
    instance_module.DagsterInstance.from_ref = staticmethod(lambda _ref: _Shared(instance))
    with _reused_sqlite_engines(), _remembered_resource_schemas():
        ticker = DaemonTicker(instance, module_name, working_directory)
        try:
            yield ticker
        finally:
            ticker.close()
            instance_module.DagsterInstance.from_ref = original
