"""Fixtures of the fault tests: a staged copy of the simulated company and a subprocess runner."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from pacific_assets.engagement.assets import ASSETS as ENGAGEMENT_ASSETS
from pacific_assets.engagement.ingest import ClicksKafkaResource
from pacific_assets.resources import LakeResource
from pacific_assets.staging.assets import STAGING_ASSETS
from pacific_assets.storage.lake import Lake
from pacific_assets_tests.runs import range_tags

REPO = Path(__file__).resolve().parents[2]
#: The simulated "test" company's first days: enough for every fault scenario, fast to run.
FIRST_DAY, LAST_DAY = "2025-09-01", "2025-12-09"


def resources(lake: Lake) -> dict:
    return {
        "lake": LakeResource(data_root=str(lake.root), duckdb_memory_limit="1GB", duckdb_threads=2),
        "clicks_kafka": ClicksKafkaResource(),
    }


@pytest.fixture(scope="session")
def staged_template(sim_data: Lake, tmp_path_factory: pytest.TempPathFactory) -> Lake:
    """The simulated landing zone with the directory staged and the click batches registered:
    what every engagement run takes as given. Read-only: copy it with ``copy_lake``."""
    lake = Lake(tmp_path_factory.mktemp("faults_template") / "data")
    shutil.copytree(sim_data.landing, lake.landing)
    directory = next(a for a in STAGING_ASSETS if a.key.path == ["stg_directory_users"])
    instance = dg.DagsterInstance.ephemeral()
    assert dg.materialize(
        [directory],
        resources=resources(lake),
        instance=instance,
        tags=range_tags(FIRST_DAY, LAST_DAY),
    ).success
    assert dg.materialize(
        ENGAGEMENT_ASSETS, selection=["raw_clicks"], resources=resources(lake), instance=instance
    ).success
    return lake


def copy_lake(template: Lake, dest: Path) -> Lake:
    """A private copy (partition links are relative symlinks, so they stay valid)."""
    shutil.copytree(template.root, dest, symlinks=True)
    return Lake(dest)


def runner_command(
    assets: Sequence[str],
    partition: str | None = None,
    start: str | None = None,
    end: str | None = None,
    barrier: Path | None = None,
) -> list[str]:
    cmd = [sys.executable, "-m", "pacific_assets_tests.faults.runner", "--assets", ",".join(assets)]
    if partition:
        cmd += ["--partition", partition]
    if start:
        cmd += ["--start", start, "--end", end or start]
    if barrier:
        cmd += ["--barrier", str(barrier)]
    return cmd


def runner_env(lake: Lake, **extra: str) -> dict[str, str]:
    env = {**os.environ, "PACIFIC_DATA_ROOT": str(lake.root), "PACIFIC_DUCKDB_MEMORY_LIMIT": "1GB"}
    env.pop("PACIFIC_FAULT_INJECT", None)
    return {**env, **extra}


def run_in_subprocess(lake: Lake, assets: Sequence[str], **kwargs) -> tuple[int, dict, str]:
    """(return code, the runner's JSON report or {}, stderr tail) of one run in a fresh process."""
    fault = kwargs.pop("fault", None)
    env = runner_env(lake, **({"PACIFIC_FAULT_INJECT": fault} if fault else {}))
    proc = subprocess.run(
        runner_command(assets, **kwargs),
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    report = {}
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if lines:
        report = json.loads(lines[-1])
    return proc.returncode, report, proc.stderr[-3000:]


def sort_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """Rows in a canonical order (every column), so two runs compare regardless of write order."""
    if frame.height == 0:
        return frame
    return frame.sort(frame.columns, nulls_last=True)


def snapshot(lake: Lake, tables: Sequence[str], keys: Sequence[str] | None = None) -> dict:
    return {t: sort_frame(lake.read(t, keys)) for t in tables}


def assert_same_tables(got: dict, expected: dict) -> None:
    for table, frame in expected.items():
        other = got[table]
        assert other.height == frame.height, (
            f"{table}: {other.height} rows, expected {frame.height}"
        )
        assert other.equals(frame), f"{table}: rows differ from the expected run"
