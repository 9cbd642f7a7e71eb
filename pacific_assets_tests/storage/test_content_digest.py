"""A partition's content digest: what lineage compares to tell "rebuilt, same rows" from a change.

Digests are stored in every partition's lineage record, so their value must never drift: the
schema part is the SQL definition ``string_agg(name || ':' || type, ',' ORDER BY name)`` over
DuckDB's ``parquet_schema``, here computed by DuckDB itself and compared.
"""

from __future__ import annotations

import threading

import duckdb
import polars as pl

from pacific_assets.orchestration import lineage
from pacific_assets.orchestration.lineage import content_digest, digest


def _digest_by_the_sql_definition(path: str) -> str:
    con = duckdb.connect()
    schema = con.execute(
        "SELECT string_agg(name || ':' || type, ',' ORDER BY name) FROM parquet_schema(?)", [path]
    ).fetchone()[0]
    rows, total = con.execute(
        "SELECT count(*), coalesce(sum(hash(t))::HUGEINT, 0)::VARCHAR "
        "FROM read_parquet(?, hive_partitioning = false) t",
        [path],
    ).fetchone()
    return digest([schema or "", str(rows), total])


def test_digest_equals_its_sql_definition_when_one_column_name_prefixes_another(tmp_path) -> None:
    # "a" < "a1" by name, but "a1:INT64" < "a:BYTE_ARRAY" as whole strings: the order is by name
    frame = pl.DataFrame({"a1": [1, 2], "a": ["x", "y"], "b": [0.5, None]})
    path = str(tmp_path / "part.parquet")
    frame.write_parquet(path)
    assert content_digest(path) == (_digest_by_the_sql_definition(path), 2)


def test_digest_ignores_row_order_but_not_values(tmp_path) -> None:
    frame = pl.DataFrame({"id": [1, 2, 3], "v": ["p", "q", "r"]})
    paths = [str(tmp_path / f"{n}.parquet") for n in ("a", "b", "c", "empty")]
    frame.write_parquet(paths[0])
    frame.reverse().write_parquet(paths[1])
    frame.with_columns(pl.col("v").replace("r", "s")).write_parquet(paths[2])
    frame.clear().write_parquet(paths[3])
    a, b, c, empty = (content_digest(p) for p in paths)
    assert a == b
    assert a[0] != c[0]
    assert empty == (_digest_by_the_sql_definition(paths[3]), 0)


def _digest_and_threads(path, seen: dict) -> None:
    seen["digest"] = content_digest(path)
    seen["threads"] = lineage._duck().execute("SELECT current_setting('threads')").fetchone()[0]


def test_digests_read_with_the_configured_threads_and_come_out_the_same(
    tmp_path, monkeypatch
) -> None:
    # many row groups, so that two threads really split the file
    rows = 300_000
    frame = pl.DataFrame({"id": range(rows), "v": [str(i % 97) for i in range(rows)]})
    path = tmp_path / "part.parquet"
    frame.write_parquet(path, row_group_size=10_000)
    expected = (_digest_by_the_sql_definition(str(path)), rows)
    for threads in (1, 2):
        monkeypatch.setenv("PACIFIC_DUCKDB_THREADS", str(threads))
        seen: dict = {}
        # one connection per thread: a new thread opens a fresh one with the current settings
        worker = threading.Thread(target=_digest_and_threads, args=(path, seen))
        worker.start()
        worker.join()
        assert seen == {"digest": expected, "threads": threads}
