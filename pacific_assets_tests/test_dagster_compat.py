"""Dagster internals are used in one module only, and still do what the project relies on.

A Dagster upgrade that moves or changes a private name fails here, naming the name, instead of
in a sensor tick or an SLA check at run time. See ``pacific_assets/orchestration/dagster_compat.py``.
"""

import ast
import datetime as dt
import importlib
from pathlib import Path

import dagster as dg
import pytest

import pacific_assets
from pacific_assets.orchestration import dagster_compat as compat

PACKAGE = Path(pacific_assets.__file__).parent
COMPAT = Path(compat.__file__)
UTC = dt.UTC


def _private_imports(path: Path) -> list[tuple[int, str, str | None]]:
    """(line, module, name) of every ``dagster._*`` import in a file (None: ``import module``)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module:
            modules = [(node.module, alias.name) for alias in node.names]
        elif isinstance(node, ast.Import):
            modules = [(alias.name, None) for alias in node.names]
        else:
            continue
        for module, name in modules:
            if module.startswith(("dagster._", "dagster_shared._")):
                found.append((node.lineno, module, name))
    return found


def test_every_private_dagster_name_still_resolves() -> None:
    imports = _private_imports(COMPAT)
    assert len(imports) >= 7, "the AST scan found no private imports in dagster_compat.py"
    moved = []
    for line, module, name in imports:
        try:
            obj = importlib.import_module(module)
            if name is not None:
                getattr(obj, name)
        except (ImportError, AttributeError) as exc:
            moved.append(f"dagster_compat.py:{line}: {module}.{name} ({exc})")
    if moved:
        pytest.fail(
            f"dagster {dg.__version__} moved private names pacific_assets uses (written for "
            "1.13.27); find their new home or a public replacement and update "
            "pacific_assets/orchestration/dagster_compat.py:\n" + "\n".join(moved)
        )


def test_no_private_dagster_import_outside_the_compat_module() -> None:
    offenders = [
        f"{path.relative_to(PACKAGE.parent)}:{line}: {module}" + (f".{name}" if name else "")
        for path in sorted(PACKAGE.rglob("*.py"))
        if path != COMPAT
        for line, module, name in _private_imports(path)
    ]
    assert not offenders, (
        "Dagster internals imported outside pacific_assets/orchestration/dagster_compat.py (use the public API "
        "or add the name there with why):\n" + "\n".join(offenders)
    )


def test_freshness_types_are_what_the_public_constructors_return() -> None:
    """The SLA check reads policies with isinstance: a different type would skip every SLA."""
    cron = dg.FreshnessPolicy.cron(
        deadline_cron="0 9 3 * *", lower_bound_delta=dt.timedelta(days=28), timezone="UTC"
    )
    assert type(cron) is compat.CronFreshnessPolicy, type(cron)
    assert (cron.deadline_cron, cron.lower_bound_delta, cron.timezone) == (
        "0 9 3 * *",
        dt.timedelta(days=28),
        "UTC",
    )
    window = dg.FreshnessPolicy.time_window(
        fail_window=dt.timedelta(hours=48), warn_window=dt.timedelta(hours=36)
    )
    assert type(window) is compat.TimeWindowFreshnessPolicy, type(window)
    assert window.fail_window.to_timedelta() == dt.timedelta(hours=48)
    assert window.warn_window.to_timedelta() == dt.timedelta(hours=36)


@pytest.mark.parametrize(
    ("cron", "at", "tz", "expected"),
    [
        # October closes on 1 Nov: Profit's deadline is the 3rd, 09:00 UTC.
        ("0 9 3 * *", "2025-11-01T00:00:00+00:00", "UTC", "2025-11-03T09:00:00+00:00"),
        # Exactly on a tick: that tick ("at or after").
        ("0 9 * * 1", "2025-10-27T09:00:00+00:00", "UTC", "2025-10-27T09:00:00+00:00"),
        ("0 9 * * 1", "2025-10-27T09:00:01+00:00", "UTC", "2025-11-03T09:00:00+00:00"),
        # Local-time cron across the end of summer time (26 Oct 2025 in Berlin): 09:00 CET.
        ("0 9 * * 1", "2025-10-21T00:00:00+00:00", "Europe/Berlin", "2025-10-27T08:00:00+00:00"),
    ],
)
def test_next_cron_tick_is_the_first_tick_at_or_after(
    cron: str, at: str, tz: str, expected: str
) -> None:
    tick = compat.next_cron_tick(cron, dt.datetime.fromisoformat(at), tz)
    assert tick == dt.datetime.fromisoformat(expected)
    assert tick.utcoffset() is not None, "a naive tick would compare wrongly with aware times"


daily = dg.DailyPartitionsDefinition(start_date="2025-01-01")
weekly = dg.WeeklyPartitionsDefinition(start_date="2025-01-06", day_offset=1)


@dg.asset
def history() -> None:
    return None


@dg.asset(partitions_def=daily, deps=[history])
def facts() -> None:
    return None


@dg.asset(
    partitions_def=weekly,
    deps=[dg.AssetDep(facts, partition_mapping=dg.TimeWindowPartitionMapping())],
)
def summary() -> None:
    return None


@dg.asset(partitions_def=daily)
def measured() -> int:
    return 1


@dg.asset_check(asset=measured)
def positive(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
    bad = context.partition_key == "2025-01-02"
    return dg.AssetCheckResult(
        passed=not bad, severity=dg.AssetCheckSeverity.WARN, description="bad day" if bad else None
    )


@dg.asset(partitions_def=daily, backfill_policy=dg.BackfillPolicy.single_run())
def ranged(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"keys": ",".join(context.partition_keys)})


def test_range_tags_make_one_run_cover_the_range() -> None:
    """The demo, the planners and the sensors put a range on a run with these two tags only."""
    tags = {
        compat.ASSET_PARTITION_RANGE_START_TAG: "2025-01-02",
        compat.ASSET_PARTITION_RANGE_END_TAG: "2025-01-04",
    }
    request = dg.RunRequest(asset_selection=[ranged.key], tags=tags)
    assert request.partition_key_range == dg.PartitionKeyRange("2025-01-02", "2025-01-04")
    result = dg.materialize([ranged], instance=dg.DagsterInstance.ephemeral(), tags=tags)
    assert result.success
    seen = {
        m.partition: m.materialization.metadata["keys"].value
        for m in result.get_asset_materialization_events()
    }
    assert seen == dict.fromkeys(
        ["2025-01-02", "2025-01-03", "2025-01-04"], "2025-01-02,2025-01-03,2025-01-04"
    )


def test_run_partition_keys_reads_what_real_runs_were_tagged_with() -> None:
    """The keys a stored run covered, from the tags Dagster itself put on it."""
    instance = dg.DagsterInstance.ephemeral()
    pdef = ranged.partitions_def
    one = dg.materialize([ranged], instance=instance, partition_key="2025-01-03")
    ranged_run = dg.materialize(
        [ranged],
        instance=instance,
        tags={
            compat.ASSET_PARTITION_RANGE_START_TAG: "2025-01-02",
            compat.ASSET_PARTITION_RANGE_END_TAG: "2025-01-04",
        },
    )
    tags_of = lambda result: instance.get_run_by_id(result.run_id).tags  # noqa: E731
    assert compat.PARTITION_NAME_TAG in tags_of(one)
    assert compat.run_partition_keys(tags_of(one), pdef) == ["2025-01-03"]
    assert compat.run_partition_keys(tags_of(ranged_run), pdef) == [
        "2025-01-02",
        "2025-01-03",
        "2025-01-04",
    ]
    regions = dg.StaticPartitionsDefinition(["emea", "apac"])
    assert compat.run_partition_keys(tags_of(ranged_run), regions) is None  # another grid
    assert compat.run_partition_keys({}, pdef) is None


def test_asset_check_history_returns_stored_verdicts_newest_first() -> None:
    instance = dg.DagsterInstance.ephemeral()
    for day in ("2025-01-01", "2025-01-02"):
        result = dg.materialize(
            [measured, positive], partition_key=day, instance=instance, raise_on_error=False
        )
        assert result.success
    key = dg.AssetCheckKey(measured.key, "positive")
    status = compat.AssetCheckExecutionRecordStatus
    done = [
        r
        for r in compat.asset_check_history(instance, key, limit=10)
        if r.status in (status.SUCCEEDED, status.FAILED)
    ]
    # The completed record carries no partition in 1.13 (only the PLANNED one does): the
    # investor completeness reads the partition from the run's tags, so pin that too.
    assert [
        (instance.get_run_by_id(r.run_id).tags.get("dagster/partition"), r.status) for r in done
    ] == [("2025-01-02", status.FAILED), ("2025-01-01", status.SUCCEEDED)]
    evaluation = done[0].event.dagster_event.event_specific_data
    assert (evaluation.severity, evaluation.description) == (
        dg.AssetCheckSeverity.WARN,
        "bad day",
    )


@dg.asset(partitions_def=daily)
def versioned(context: dg.AssetExecutionContext) -> None:
    if len(context.partition_keys) == 1:
        compat.set_step_data_version(context, context.asset_key, f"v-{context.partition_key}")


def _ui_data_version(instance: dg.DagsterInstance, partition: str) -> str:
    """The data version the webserver resolves for a partition (``dataVersion(partition:)``)."""
    from dagster._core.definitions.data_version import CachingStaleStatusResolver
    from dagster._core.loader import LoadingContextForTest

    graph = dg.Definitions(assets=[versioned]).resolve_asset_graph()
    resolver = CachingStaleStatusResolver(instance, graph, LoadingContextForTest(instance))
    return resolver.get_current_data_version(versioned.key, partition).value


def test_data_version_tags_and_set_step_data_version_are_what_the_ui_reads() -> None:
    """A one-partition step's version comes from ``set_step_data_version``; a reported event's
    from ``data_version_tags``; provenance survives ``provenance_tags``; a range step still
    stamps one version on all its partitions (if Dagster fixes #34013, this says so)."""
    instance = dg.DagsterInstance.ephemeral()
    assert dg.materialize([versioned], instance=instance, partition_key="2025-01-02").success
    assert _ui_data_version(instance, "2025-01-02") == "v-2025-01-02"
    tags = {
        compat.ASSET_PARTITION_RANGE_START_TAG: "2025-01-03",
        compat.ASSET_PARTITION_RANGE_END_TAG: "2025-01-04",
    }
    assert dg.materialize([versioned], instance=instance, tags=tags).success
    stamped = {_ui_data_version(instance, k) for k in ("2025-01-03", "2025-01-04")}
    assert len(stamped) == 1, "Dagster now versions a range step's partitions one by one"
    [run_event] = instance.fetch_materializations(
        dg.AssetRecordsFilter(versioned.key, asset_partitions=["2025-01-04"]), limit=1
    ).records
    kept = compat.provenance_tags(run_event.asset_materialization)
    assert "dagster/code_version" in kept and "dagster/data_version" not in kept
    instance.report_runless_asset_event(
        dg.AssetMaterialization(
            versioned.key, partition="2025-01-04", tags={**kept, **compat.data_version_tags("d4")}
        )
    )
    assert _ui_data_version(instance, "2025-01-04") == "d4"
    [reported] = instance.fetch_materializations(
        dg.AssetRecordsFilter(versioned.key, asset_partitions=["2025-01-04"]), limit=1
    ).records
    assert compat.event_data_version(reported.asset_materialization) == "d4"
    assert compat.event_data_version(None) is None
