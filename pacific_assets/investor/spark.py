"""Spark configuration for the rollups, and how Spark finds the lake's files.

Everything comes from the environment with embedded defaults (docs/investor.md "Operations"), so the
same code runs on a laptop (``local[*]``) or against a cluster:

========================================  ==============  =========================================
variable                                  default         meaning
========================================  ==============  =========================================
``PACIFIC_SPARK_MASTER``                  ``local[*]``    ``spark.master``
``PACIFIC_SPARK_DRIVER_MEMORY``           ``1g``          fixed driver heap (JVM start only)
``PACIFIC_SPARK_SHUFFLE_PARTITIONS``      ``4``           ``spark.sql.shuffle.partitions``
``PACIFIC_SPARK_EXECUTOR_MEMORY``         (Spark: 1g)     ``spark.executor.memory``, cluster only:
                                                          at most a worker's ``--memory``, or the
                                                          app waits for executors forever
``PACIFIC_SPARK_EXECUTOR_CORES``          (Spark: all)    ``spark.executor.cores``, cluster only
``PACIFIC_SPARK_LAKE_URI``                (unset)         the lake root as the cluster sees it,
                                                          e.g. ``s3a://bucket/data`` (untested here)
========================================  ==============  =========================================

No JVM starts at import: the Dagster resource is ``LazyPySparkResource``, which creates the session
on first use inside the step process (and ``getOrCreate`` reuses a session that already exists, so
tests share one).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from dagster_pyspark import LazyPySparkResource

from pacific_assets import settings
from pacific_assets.storage.lake import Lake

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from pacific_assets.investor.inputs import InputTable


#: SQL settings every rollup relies on, set at session start and again on a session created
#: elsewhere (tests share one). The lake lists a table's live files itself (``read_input``), so
#: Spark only stats the paths it is given; above 32 paths Spark's default turns that into a
#: distributed listing job per read, 1-2 s each on small data: 8 s of a 65-week
#: ``executive_weekly`` (docs/benchmarks.md "Where make demo's time goes").
RUNTIME_SETTINGS = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.adaptive.enabled": "true",
    "spark.sql.sources.parallelPartitionDiscovery.threshold": "100000",
}


def spark_config_from_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """The Spark settings of docs/investor.md "Operations": UTC session, few shuffle partitions,
    AQE, fixed memory (from ``pacific_assets.settings``; ``env`` defaults to the process's)."""
    configured = settings.load(env)
    master = configured.spark_master
    config = {
        "spark.master": master,
        "spark.app.name": "pacific-investor-rollup",
        "spark.driver.memory": configured.spark_driver_memory,
        **RUNTIME_SETTINGS,
        "spark.sql.shuffle.partitions": configured.spark_shuffle_partitions,
        "spark.sql.adaptive.coalescePartitions.enabled": "true",
        # Small dimensions (account → segment) are broadcast explicitly; keep the automatic
        # threshold at its default so nothing large is ever broadcast by surprise.
        "spark.sql.autoBroadcastJoinThreshold": "10m",
        "spark.ui.enabled": configured.spark_ui,
        "spark.ui.showConsoleProgress": "false",
    }
    for value, name in (
        (configured.spark_executor_memory, "spark.executor.memory"),
        (configured.spark_executor_cores, "spark.executor.cores"),
    ):
        if value:  # unset: Spark's own default (and nothing to size in local mode)
            config[name] = value
    # On a laptop, stay on loopback (docs/investor.md "Operations").
    if master.startswith("local"):
        config["spark.driver.bindAddress"] = configured.spark_local_ip
    return config


def spark_resource_from_env() -> LazyPySparkResource:
    """The ``pyspark`` resource: a session per step process, started only when a rollup runs."""
    return LazyPySparkResource(spark_config=spark_config_from_env())


def apply_runtime_settings(spark: SparkSession) -> None:
    """``RUNTIME_SETTINGS`` on a session that may have been created elsewhere (tests)."""
    for key, value in RUNTIME_SETTINGS.items():
        spark.conf.set(key, value)


def spark_path(lake: Lake, local_path: str, lake_uri: str | None = None) -> str:
    """A lake file path as Spark should read it (rewritten onto ``PACIFIC_SPARK_LAKE_URI``)."""
    lake_uri = lake_uri if lake_uri is not None else settings.load().spark_lake_uri
    if not lake_uri:
        return local_path
    root = str(lake.root)
    if not local_path.startswith(root):
        return local_path
    return lake_uri.rstrip("/") + local_path[len(root) :]


def read_input(
    spark: SparkSession, lake: Lake, table: InputTable, keys: Sequence[str] | None
) -> DataFrame:
    """The live files of ``keys`` (all partitions when None) with the columns the rollup uses.

    Spark reads exactly the files the lake lists (no directory listing of its own, so it never
    sees a version that is being replaced), with an explicit schema: columns are matched by name,
    a column an older partition lacks reads as null. No files -> an empty frame of that schema.
    """
    lake_uri = settings.load().spark_lake_uri or ""  # once per read, not per file
    files = [spark_path(lake, f, lake_uri) for f in lake.partition_files(table.table, keys)]
    if not files:
        return spark.createDataFrame([], table.spark_schema)
    return spark.read.schema(table.spark_schema).parquet(*files)
