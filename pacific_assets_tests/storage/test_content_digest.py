"""A partition's content digest: what lineage compares to tell "rebuilt, same rows" from a change.

Digests are stored in every partition's lineage record, so their value must never drift: the
schema part is the SQL definition ``string_agg(name || ':' || type, ',' ORDER BY name)`` over
DuckDB's ``parquet_schema``, here computed by DuckDB itself and compared.
"""

from __future__ import annotations

import duckdb
import polars as pl

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
