"""The rollups on a real Spark standalone cluster give the same rows as on local Spark.

Nothing else keeps the ``PACIFIC_SPARK_MASTER`` switch proven. A cluster on 127.0.0.1 from the
installed pyspark distribution (one master, two workers of one core and 512 MB each: JVMs of their
own, started and stopped by process group id, see stack/spark_cluster.py). ``investor_rollup`` for
a closed month and ``executive_weekly`` for one week run twice on the same fixture: in this process
on the local session, and in a driver process of their own with ``PACIFIC_SPARK_MASTER=spark://…``.
Every table the runs write must hold the same rows, and both workers' executors must have run tasks
of the driver's application (so the cluster did the work, not a local fallback). Skipped only
without Java (which every other Spark test needs too).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from subprocess import DEVNULL, STDOUT, Popen

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pacific_assets.storage.lake import Lake
from pacific_assets_tests.investor.fixture import write_fixture
from pacific_assets_tests.investor.rollup_runs import TABLES, run_rollups
from stack.spark_cluster import StandaloneCluster, java_available, stop_group

pytestmark = [
    pytest.mark.spark,
    pytest.mark.slow,
    pytest.mark.skipif(not java_available(), reason="no Java: Spark needs Java 17+"),
]

REPO = Path(__file__).resolve().parents[2]
WORKERS, CORES, WORKER_MEMORY = 2, 1, "512m"
#: Short-lived JVMs on a 2-core machine: C1 only (no C2 compiler threads competing with a single
#: task core; halves the driver's time here). For the cluster's driver and executors only.
QUICK_JVM = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
#: An application that gets no executors waits forever: fail instead.
DRIVER_TIMEOUT = 420


def _rows(lake: Lake, table: str) -> pl.DataFrame:
    """The table's rows in a fixed order: sorted by every column but the floats (which may
    differ in the last bits, and must not reorder the rows)."""
    df = lake.read(table)
    df = df.select(sorted(df.columns))
    keys = [c for c, dtype in df.schema.items() if not dtype.is_float()]
    return df.sort(keys, nulls_last=True)


@contextlib.contextmanager
def _driver_on(cluster: StandaloneCluster, data_root: Path, report: Path) -> Iterator[Popen]:
    """Both rollups in a driver process of their own (a JVM's master is fixed at its start),
    stopped by its process group id however the block ends (its driver JVM is its child)."""
    args = [str(data_root), "--out", str(report)]
    with report.with_suffix(".log").open("wb") as out:
        driver = Popen(
            [sys.executable, "-m", "pacific_assets_tests.investor.rollup_runs", *args],
            env={**os.environ, **cluster.driver_env()},
            cwd=REPO,
            stdin=DEVNULL,
            stdout=out,
            stderr=STDOUT,
            start_new_session=True,
        )
    try:
        yield driver
    finally:
        stop_group(driver)


def test_rollups_on_a_standalone_cluster_equal_local_spark(spark, tmp_path) -> None:
    local, remote = Lake(tmp_path / "local"), Lake(tmp_path / "cluster_data")
    write_fixture(local)
    write_fixture(remote)
    cluster = StandaloneCluster(
        tmp_path / "cluster",
        WORKERS,
        CORES,
        WORKER_MEMORY,
        spark_conf={
            "spark.driver.extraJavaOptions": QUICK_JVM,
            "spark.executor.extraJavaOptions": QUICK_JVM,
        },
    )
    report = tmp_path / "driver.json"
    try:
        cluster.start()
        # The runs mostly wait on Spark's scheduling of many small stages, not on CPU: the
        # driver (and the workers it waits for) boots and runs while the local run works.
        with _driver_on(cluster, remote.root, report) as driver:
            run_rollups(local.root)
            state = cluster.wait_ready()
            returncode = driver.wait(DRIVER_TIMEOUT)
        output = report.with_suffix(".log").read_text(errors="replace")[-4000:]
        assert returncode == 0, f"{output}\n{cluster.log_tails()}"
        assert [(w["cores"], w["memory"]) for w in state["workers"]] == [(1, 512)] * WORKERS
        ran = json.loads(report.read_text())
        print(f"cluster driver: {ran}")
        assert ran["master"] == cluster.url
        apps = {a["id"]: a for a in cluster.state()["completedapps"]}
        assert apps[ran["app_id"]]["state"] == "FINISHED", apps
        tasks = cluster.app_tasks(ran["app_id"])
        assert len(tasks) == WORKERS and all(n > 0 for n in tasks.values()), tasks
    finally:
        stopped = cluster.stop()
    assert not cluster.alive(), stopped

    for table in TABLES:
        mine, theirs = _rows(local, table), _rows(remote, table)
        assert mine.height == theirs.height, table
        # floats: sums of doubles may add up in another order on other executors
        assert_frame_equal(mine, theirs, check_exact=False, rel_tol=1e-9, abs_tol=1e-9)
    assert _rows(local, "investor_rollup").height == 4  # all + three segments
    assert _rows(local, "executive_weekly").height == 4
