"""Spark settings come from the environment with docs/investor.md's defaults; no JVM at import."""

from __future__ import annotations

from pacific_assets.investor.spark import spark_config_from_env, spark_path
from pacific_assets.storage.lake import Lake


def test_defaults_follow_the_measured_facts() -> None:
    config = spark_config_from_env({})
    assert config["spark.master"] == "local[*]"
    assert config["spark.driver.memory"] == "1g"
    assert config["spark.sql.session.timeZone"] == "UTC"
    assert config["spark.sql.shuffle.partitions"] == "4"
    assert config["spark.sql.adaptive.enabled"] == "true"
    assert config["spark.driver.bindAddress"] == "127.0.0.1"


def test_cluster_settings_from_the_environment() -> None:
    config = spark_config_from_env(
        {
            "PACIFIC_SPARK_MASTER": "spark://spark-master:7077",
            "PACIFIC_SPARK_DRIVER_MEMORY": "4g",
            "PACIFIC_SPARK_SHUFFLE_PARTITIONS": "64",
        }
    )
    assert config["spark.master"] == "spark://spark-master:7077"
    assert config["spark.driver.memory"] == "4g"
    assert config["spark.sql.shuffle.partitions"] == "64"
    assert "spark.driver.bindAddress" not in config  # a cluster must reach the driver


def test_executor_size_is_left_to_spark_unless_set() -> None:
    # a standalone worker offering less than Spark's 1g default would never get an executor
    assert "spark.executor.memory" not in spark_config_from_env({})
    assert "spark.executor.cores" not in spark_config_from_env({})
    config = spark_config_from_env(
        {
            "PACIFIC_SPARK_MASTER": "spark://127.0.0.1:7077",
            "PACIFIC_SPARK_EXECUTOR_MEMORY": "512m",
            "PACIFIC_SPARK_EXECUTOR_CORES": "1",
        }
    )
    assert config["spark.executor.memory"] == "512m"
    assert config["spark.executor.cores"] == "1"


def test_lake_paths_can_be_rewritten_for_a_cluster(tmp_path) -> None:
    lake = Lake(tmp_path / "data")
    local = str(lake.root / "lake" / "t" / "_versions" / "date=2025-10-01.1-a" / "part-0.parquet")
    assert spark_path(lake, local, lake_uri="") == local
    assert spark_path(lake, local, lake_uri="s3a://bucket/pacific/") == (
        "s3a://bucket/pacific/lake/t/_versions/date=2025-10-01.1-a/part-0.parquet"
    )


def test_reading_a_long_range_starts_no_listing_job(tmp_path, spark) -> None:
    """``read_input`` hands Spark the lake's own list of files; above 32 paths Spark's default
    lists them in a distributed job of its own at every read (1-2 s each on small data)."""
    import datetime as dt

    import polars as pl

    from pacific_assets.investor.inputs import ENGAGEMENT_HOURS
    from pacific_assets.investor.spark import RUNTIME_SETTINGS, apply_runtime_settings, read_input

    lake = Lake(tmp_path)
    days = [dt.date(2025, 9, 1) + dt.timedelta(days=i) for i in range(40)]
    keys = [d.isoformat() for d in days]
    lake.write_partitions("engagement_hours", "date", keys, pl.DataFrame({"date": days}))
    threshold = "spark.sql.sources.parallelPartitionDiscovery.threshold"
    tracker = spark.sparkContext.statusTracker()

    def jobs_to_read(group: str) -> list[int]:
        """Spark jobs run while the frame is only defined (no action yet)."""
        spark.sparkContext.setJobGroup(group, "read_input of 40 partitions")
        try:
            frame = read_input(spark, lake, ENGAGEMENT_HOURS, keys)
        finally:
            spark.sparkContext.setLocalProperty("spark.jobGroup.id", None)
        assert frame.count() == 40
        return list(tracker.getJobIdsForGroup(group))

    try:
        spark.conf.set(threshold, "32")  # Spark's default: the control, which lists in a job
        with_default = jobs_to_read("listing-default")
        apply_runtime_settings(spark)
        ours = jobs_to_read("listing-ours")
    finally:
        spark.conf.set(threshold, RUNTIME_SETTINGS[threshold])
    assert len(with_default) >= 1 and ours == [], (with_default, ours)
