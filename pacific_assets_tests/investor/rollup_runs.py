"""The two rollups over the fixture lake, the same way in-process (local Spark) and as a driver.

``run_rollups`` materializes ``investor_rollup`` for October (closed: published) and
``executive_weekly`` for the week of Oct 6 through Dagster, with the ``pyspark`` resource built
from the environment, as the code location does. Run as a module it is the driver process of the
cluster test (its own JVM, so ``PACIFIC_SPARK_MASTER`` applies):

    PACIFIC_SPARK_MASTER=spark://127.0.0.1:7077 python -m pacific_assets_tests.investor.rollup_runs \\
        <data_root> --out report.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

#: After October and its week ended, with every input complete: the month is published.
AS_OF = "2025-12-01T06:00:00Z"
#: The lake tables the two runs write; the cluster test compares each, row for row.
TABLES = ("investor_rollup", "executive_weekly", "rollup_input_status", "investor_restatements")


def run_rollups(data_root: Path) -> dict[str, float]:
    """Materialize both rollups on ``data_root`` (fixture written); seconds per asset."""
    import dagster as dg
    from dagster_pyspark import LazyPySparkResource

    from pacific_assets.investor.assets import executive_weekly, investor_rollup
    from pacific_assets.investor.spark import spark_config_from_env
    from pacific_assets.resources import LakeResource
    from pacific_assets_tests.investor.fixture import OCT, WEEK

    resources = {
        "lake": LakeResource(data_root=str(data_root), duckdb_memory_limit="1GB", duckdb_threads=2),
        # getOrCreate: in a test process the session-wide local session is reused
        "pyspark": LazyPySparkResource(spark_config=spark_config_from_env()),
    }
    instance = dg.DagsterInstance.ephemeral()
    seconds = {}
    for asset, key in ((investor_rollup, OCT.isoformat()), (executive_weekly, WEEK.isoformat())):
        started = time.monotonic()
        result = dg.materialize(
            [asset],
            partition_key=key,
            resources=resources,
            instance=instance,
            run_config={"ops": {asset.key.to_user_string(): {"config": {"as_of": AS_OF}}}},
            raise_on_error=True,
        )
        if not result.success:
            raise RuntimeError(f"{asset.key.to_user_string()} {key} failed")
        seconds[asset.key.to_user_string()] = round(time.monotonic() - started, 2)
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pacific_assets_tests.investor.rollup_runs")
    parser.add_argument("data_root")
    parser.add_argument("--out", required=True, help="JSON report: Spark master, app id, seconds")
    args = parser.parse_args(argv)
    started = time.monotonic()
    seconds = run_rollups(Path(args.data_root))
    from pyspark.sql import SparkSession

    spark = SparkSession.getActiveSession()
    assert spark is not None, "the rollups ran without a Spark session"
    report = {
        "master": spark.sparkContext.master,
        "app_id": spark.sparkContext.applicationId,
        "seconds": seconds,
        "total_seconds": round(time.monotonic() - started, 2),
    }
    spark.stop()  # the master then lists the application as finished
    Path(args.out).write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
