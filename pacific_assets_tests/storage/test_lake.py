"""The lake's promises: atomic replace, one schema per table, safe keys, readable by DuckDB and Spark."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import textwrap

import duckdb
import polars as pl
import pytest

from pacific_assets.storage.catalog import catalog_tables, refresh_catalog
from pacific_assets.storage.lake import FAULT_ENV, Lake, LakeError


def _frame(day: dt.date, values: list[int]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "date": [day] * len(values),
            "v": pl.Series(values, dtype=pl.Int64),
            "ts": [dt.datetime(day.year, day.month, day.day, 12)] * len(values),
        }
    )


D1, D2, D3 = dt.date(2025, 9, 1), dt.date(2025, 9, 2), dt.date(2025, 9, 3)


def test_write_partitions_splits_and_writes_empty_keys(lake: Lake) -> None:
    df = pl.concat([_frame(D1, [1, 2]), _frame(D2, [3])])
    writes = lake.write_partitions("t", "date", ["2025-09-01", "2025-09-02", "2025-09-03"], df)
    assert [(w.key, w.rows) for w in writes] == [
        ("2025-09-01", 2),
        ("2025-09-02", 1),
        ("2025-09-03", 0),
    ]
    assert lake.partition_keys("t") == ["2025-09-01", "2025-09-02", "2025-09-03"]
    back = lake.read("t").sort("v")
    assert back["v"].to_list() == [1, 2, 3]
    # naive timestamps are stored as microseconds in UTC (Spark cannot read nanoseconds)
    assert back.schema["ts"] == pl.Datetime("us", "UTC")


def test_rows_outside_requested_keys_are_refused(lake: Lake) -> None:
    with pytest.raises(LakeError, match="outside the requested partitions"):
        lake.write_partitions("t", "date", ["2025-09-01"], _frame(D2, [1]))
    assert lake.partition_keys("t") == []


def test_replace_changes_only_its_partition(lake: Lake) -> None:
    lake.write_partitions(
        "t", "date", ["2025-09-01", "2025-09-02"], pl.concat([_frame(D1, [1]), _frame(D2, [2])])
    )
    untouched = lake.partition_files("t", ["2025-09-02"])
    before = os.stat(untouched[0]).st_mtime_ns
    lake.write_partitions("t", "date", ["2025-09-01"], _frame(D1, [10, 11]))
    assert lake.partition_files("t", ["2025-09-02"]) == untouched
    assert os.stat(untouched[0]).st_mtime_ns == before
    assert sorted(lake.read("t")["v"].to_list()) == [2, 10, 11]


def test_previous_version_kept_for_running_readers_then_collected(lake: Lake, monkeypatch) -> None:
    monkeypatch.setattr("pacific_assets.storage.lake.GC_GRACE_SECONDS", 0.0)
    first = lake.write_partition("t", "date", "2025-09-01", _frame(D1, [1])).path
    second = lake.write_partition("t", "date", "2025-09-01", _frame(D1, [2])).path
    assert first.exists(), "a scan that opened the previous version must still be able to read it"
    lake.write_partition("t", "date", "2025-09-01", _frame(D1, [3]))
    assert not first.exists() and second.exists()
    assert lake.read("t")["v"].to_list() == [3]


def test_schema_change_is_refused_naming_the_column(lake: Lake) -> None:
    lake.write_partition("t", "date", "2025-09-01", _frame(D1, [1]))
    bad = _frame(D2, [1]).with_columns(pl.col("v").cast(pl.Int32))
    with pytest.raises(LakeError, match=r"column 'v' would change from Int64 to Int32"):
        lake.write_partition("t", "date", "2025-09-02", bad)


def test_streamed_partition_is_checked_and_a_failed_write_keeps_the_old_one(lake: Lake) -> None:
    """partition_writer (DuckDB COPY straight to the file): same schema rule, same atomicity."""
    lake.write_partition("t", "date", "2025-09-01", _frame(D1, [1]))
    con = duckdb.connect()
    with lake.partition_writer("t", "date", "2025-09-02") as tmp:
        con.execute(
            "COPY (SELECT DATE '2025-09-02' AS date, 7::BIGINT AS v, "
            f"TIMESTAMPTZ '2025-09-02 12:00:00+00' AS ts) TO '{tmp}' (FORMAT parquet)"
        )
    assert lake.read("t", ["2025-09-02"])["v"].to_list() == [7]

    refused = pytest.raises(LakeError, match="'v' would change from Int64 to String")
    with refused, lake.partition_writer("t", "date", "2025-09-01") as tmp:
        con.execute(
            "COPY (SELECT DATE '2025-09-01' AS date, 'x' AS v, "
            f"TIMESTAMPTZ '2025-09-01 12:00:00+00' AS ts) TO '{tmp}' (FORMAT parquet)"
        )
    died = pytest.raises(RuntimeError, match="engine died")
    with died, lake.partition_writer("t", "date", "2025-09-01") as tmp:
        tmp.write_bytes(b"half a file")
        raise RuntimeError("engine died")
    with (
        pytest.raises(LakeError, match="produced no file"),
        lake.partition_writer("t", "date", "2025-09-01"),
    ):
        pass
    assert lake.read("t", ["2025-09-01"])["v"].to_list() == [1]
    versions = list((lake.table_dir("t") / "_versions").iterdir())
    assert len(versions) == 2, f"failed writes must leave no version folder behind: {versions}"


@pytest.mark.parametrize("key", ["../etc", "a/b", "", ".hidden", "x" * 80, "2025-09-01/.."])
def test_hostile_partition_keys_are_refused(lake: Lake, key: str) -> None:
    with pytest.raises(LakeError, match="partition key"):
        lake.write_partition("t", "date", key, _frame(D1, [1]))
    assert not (lake.root.parent / "etc").exists()


def test_sigkill_after_temp_write_leaves_previous_partition_intact(lake: Lake) -> None:
    """Fault-injection hook: the writer dies once the new file is on disk but before it is live."""
    lake.write_partition("t", "date", "2025-09-01", _frame(D1, [1, 2]))
    script = textwrap.dedent(
        f"""
        import datetime as dt, polars as pl
        from pacific_assets.storage.lake import Lake
        df = pl.DataFrame({{"date": [dt.date(2025, 9, 1)], "v": pl.Series([99], dtype=pl.Int64),
                            "ts": [dt.datetime(2025, 9, 1, 12)]}})
        Lake({str(lake.root)!r}).write_partition("t", "date", "2025-09-01", df)
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, FAULT_ENV: "after_tmp_write"},
        capture_output=True,
        timeout=120,
    )
    assert proc.returncode == -9, proc.stderr.decode()
    assert sorted(lake.read("t")["v"].to_list()) == [1, 2]
    with duckdb.connect() as con:
        assert con.execute(f"select sum(v) from read_parquet('{lake.glob('t')}')").fetchone() == (
            3,
        )
    # the re-run succeeds and replaces the partition
    lake.write_partition("t", "date", "2025-09-01", _frame(D1, [99]))
    assert lake.read("t")["v"].to_list() == [99]


def test_reader_never_sees_a_half_written_or_missing_partition(lake: Lake) -> None:
    """A DuckDB reader scanning in a loop while another process replaces partitions."""
    keys = [f"2025-09-{d:02d}" for d in range(1, 6)]
    base = pl.concat([_frame(dt.date.fromisoformat(k), [1] * 100) for k in keys])
    lake.write_partitions("t", "date", keys, base)
    writer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import datetime as dt, polars as pl
                from pacific_assets.storage.lake import Lake
                lake = Lake({str(lake.root)!r})
                keys = {keys!r}
                for i in range(40):
                    df = pl.concat([pl.DataFrame({{"date": [dt.date.fromisoformat(k)] * 100,
                        "v": pl.Series([1] * 100, dtype=pl.Int64),
                        "ts": [dt.datetime(2025, 9, 1)] * 100}}) for k in keys])
                    lake.write_partitions("t", "date", keys, df)
                """
            ),
        ]
    )
    try:
        seen = set()
        with duckdb.connect() as con:
            while writer.poll() is None:
                seen.add(
                    con.execute(
                        f"select count(*), sum(v) from read_parquet('{lake.glob('t')}')"
                    ).fetchone()
                )
        assert writer.returncode == 0
        assert seen <= {(500, 500)}, f"a reader saw a partial table: {seen}"
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait()


@pytest.mark.spark
def test_spark_reads_the_lake(lake: Lake, spark) -> None:
    lake.write_partitions(
        "t", "date", ["2025-09-01", "2025-09-02"], pl.concat([_frame(D1, [1]), _frame(D2, [2])])
    )
    lake.write_partition("t", "date", "2025-09-01", _frame(D1, [5]))  # a replaced partition
    rows = (
        spark.read.option("recursiveFileLookup", "true")
        .parquet(str(lake.table_dir("t")))
        .orderBy("date")
        .collect()
    )
    assert [(r["date"], r["v"]) for r in rows] == [(D1, 5), (D2, 2)]
    assert rows[0]["ts"] == dt.datetime(2025, 9, 1, 12)  # session time zone is UTC


def test_catalog_views_work_from_any_directory_and_rebuild_while_open(
    lake: Lake, tmp_path, monkeypatch
) -> None:
    lake.write_partitions("t", "date", ["2025-09-01"], _frame(D1, [1, 2]))
    assert refresh_catalog(lake) == ["t"]
    monkeypatch.chdir(tmp_path)
    reader = duckdb.connect(str(lake.catalog_path), read_only=True)
    try:
        assert reader.execute("select sum(v) from t").fetchone() == (3,)
        # a new table appears while an analyst holds the catalog open: the rebuild still succeeds
        lake.write_partitions("u", "date", ["2025-09-01"], _frame(D1, [7]))
        assert refresh_catalog(lake) == ["t", "u"]
    finally:
        reader.close()
    assert catalog_tables(lake) == ["t", "u"]
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import duckdb; print(duckdb.connect({str(lake.catalog_path)!r}, read_only=True).execute('select v from u').fetchall())",
        ],
        cwd="/",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.stdout.strip() == "[(7,)]", out.stderr
