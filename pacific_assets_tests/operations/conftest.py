"""Fixtures for the operations tests: a small graph shaped like the real pipelines.

The toy assets write real Parquet partitions through the real Lake, so the SLA checks, sensors
and incident store run on real data paths; only the metric arithmetic is left out (each pipeline
tests its own). A file ``fail_<asset>`` in the data root makes that asset raise, so failures are
deterministic and work in any process.
"""

import datetime as dt
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from pacific_assets.operations.factory import with_operations
from pacific_assets.operations.resources import OpsResource
from pacific_assets.orchestration.partitions import daily, monthly, weekly
from pacific_assets.registry import discover
from pacific_assets.resources import LakeResource

ROTATION = {
    "start_week": "2025-09-01",
    "roles": {
        "profit_bi": ["ana", "ben", "cleo"],
        "engagement_de": ["dev1", "dev2"],
        "engagement_swe_contact": ["swe1", "swe2", "swe3"],
        "investor_de": ["inv1", "inv2"],
    },
    "overrides": [{"week_start": "2025-11-24", "role": "profit_bi", "person": "zoe"}],
}


def _write(lake: LakeResource, table: str, col: str, keys: list[str], **extra) -> None:
    dates = [dt.date.fromisoformat(k) for k in keys]
    frame = pl.DataFrame({col: dates, "value": [1.0] * len(keys), **extra})
    lake.lake.write_partitions(table, col, keys, frame)


def _listed(lake: LakeResource, name: str) -> set[str]:
    """The partition keys listed in the file ``name`` in the data root (none if it is absent)."""
    path = Path(lake.data_root) / name
    return set(path.read_text().split()) if path.exists() else set()


def _maybe_fail(lake: LakeResource, name: str) -> None:
    flag = Path(lake.data_root) / f"fail_{name}"
    if flag.exists():
        raise RuntimeError(f"{name} failed: {flag.read_text().strip() or 'injected failure'}")


@dg.asset(
    partitions_def=daily, group_name="engagement", backfill_policy=dg.BackfillPolicy.single_run()
)
def engagement_completeness(context: dg.AssetExecutionContext, lake: LakeResource) -> None:
    """Outage days (listed in the file ``outage_days``) are flagged incomplete."""
    _maybe_fail(lake, "engagement_completeness")
    outages = _listed(lake, "outage_days")
    keys = context.partition_keys
    _write(
        lake,
        "engagement_completeness",
        "date",
        keys,
        is_complete=[k not in outages for k in keys],
        reason=[("clicks far below baseline" if k in outages else None) for k in keys],
    )


@dg.asset(
    partitions_def=daily,
    group_name="engagement",
    deps=[engagement_completeness],
    backfill_policy=dg.BackfillPolicy.single_run(),
)
def engagement_hours(context: dg.AssetExecutionContext, lake: LakeResource) -> None:
    _maybe_fail(lake, "engagement_hours")
    _write(lake, "engagement_hours", "date", context.partition_keys)


@dg.asset(
    partitions_def=weekly, group_name="growth", backfill_policy=dg.BackfillPolicy.single_run()
)
def account_growth(context: dg.AssetExecutionContext, lake: LakeResource) -> None:
    _maybe_fail(lake, "account_growth")
    _write(lake, "account_growth", "week_start", context.partition_keys)


@dg.asset(
    partitions_def=monthly, group_name="profit", backfill_policy=dg.BackfillPolicy.single_run()
)
def unit_profit(context: dg.AssetExecutionContext, lake: LakeResource) -> None:
    _maybe_fail(lake, "unit_profit")
    _write(lake, "unit_profit", "month_start", context.partition_keys)


@dg.asset_check(asset=unit_profit, name="profit_reconciliation_matches_filings")
def profit_reconciliation(lake: LakeResource) -> dg.AssetCheckResult:
    mismatch = (Path(lake.data_root) / "mismatch").exists()
    return dg.AssetCheckResult(
        passed=not mismatch,
        description="recognized revenue 10 000 vs filed 12 000 (variance -2 000)"
        if mismatch
        else "ok",
    )


@dg.asset(
    partitions_def=monthly,
    group_name="investor",
    deps=[unit_profit],
    backfill_policy=dg.BackfillPolicy.single_run(),
)
def investor_rollup(context: dg.AssetExecutionContext, lake: LakeResource) -> None:
    _maybe_fail(lake, "investor_rollup")
    incomplete = _listed(lake, "incomplete_months")
    keys = context.partition_keys
    _write(
        lake,
        "investor_rollup",
        "month_start",
        keys,
        is_complete=[k not in incomplete for k in keys],
        incomplete_reason=[("unit_profit: stale" if k in incomplete else None) for k in keys],
    )


#: The real pipelines, as their folders declare them: each toy asset is declared as its group's.
PIPELINES = {p.name: p for p in discover()}


def declared_as_its_pipeline(spec: dg.AssetSpec) -> dg.AssetSpec:
    """A toy asset with the completeness source and policy of the real pipeline of its group
    (not its column schema: toy tables are not the real ones)."""
    pipeline = PIPELINES[spec.group_name or ""]
    if pipeline.completeness is not None:
        spec = pipeline.completeness.declare(spec)
    return pipeline.declare_policy(spec)


def toy_pipelines(data_root: Path, now: str, schedules=(), jobs=(), **ops_kwargs) -> dg.Definitions:
    """The toy pipelines with their completeness sources and policies, before operations."""
    rotation = data_root.parent / "rotation.yaml"
    if not rotation.exists():
        import yaml

        rotation.write_text(yaml.safe_dump(ROTATION))
    return dg.Definitions(
        assets=[
            engagement_completeness,
            engagement_hours,
            account_growth,
            unit_profit,
            investor_rollup,
        ],
        asset_checks=[profit_reconciliation],
        schedules=list(schedules),
        jobs=list(jobs),
        resources={
            "lake": LakeResource(data_root=str(data_root), duckdb_memory_limit="512MB"),
            "ops": OpsResource(frozen_now=now, rotation_file=str(rotation), **ops_kwargs),
        },
    ).map_asset_specs(func=declared_as_its_pipeline)


def build_toy_defs(data_root: Path, now: str, **ops_kwargs) -> dg.Definitions:
    """The toy pipelines, with policies and operations applied exactly as definitions.py does."""
    return with_operations(toy_pipelines(data_root, now, **ops_kwargs))


@pytest.fixture
def data_root(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    root.mkdir()
    return root


@pytest.fixture
def instance():
    with dg.instance_for_test() as inst:
        yield inst
