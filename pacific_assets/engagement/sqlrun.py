"""Small helpers to run the engagement .sql files in DuckDB and write daily results to the lake."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path

import duckdb
import polars as pl

from pacific_assets.storage.catalog import spill_directory
from pacific_assets.storage.lake import Lake, check_partition_key

SQL_DIR = Path(__file__).with_name("sql")
_PARAM_RE = re.compile(r"\$([a-z_][a-z0-9_]*)")


@cache
def sql_text(name: str) -> str:
    return (SQL_DIR / f"{name}.sql").read_text()


def run_sql(
    con: duckdb.DuckDBPyConnection,
    name: str,
    params: Mapping[str, object],
    **fmt: str,
) -> duckdb.DuckDBPyConnection:
    """Run every statement of ``sql/<name>.sql`` with the named parameters it uses.

    ``fmt`` fills ``{placeholders}`` (identifiers only, never data). Returns the connection after
    the last statement, so ``.pl()`` / ``.fetchall()`` read its result.
    """
    text = sql_text(name).format(**fmt) if fmt else sql_text(name)
    statements = [s for s in re.split(r";\s*\n", text) if _strip_comments(s)]
    result = con
    for statement in statements:
        used = set(_PARAM_RE.findall(_strip_comments(statement)))
        missing = used - set(params)
        if missing:
            raise KeyError(f"sql/{name}.sql needs parameters {sorted(missing)}")
        result = con.execute(statement, {k: params[k] for k in used})
    return result


def _strip_comments(statement: str) -> str:
    return "\n".join(
        line for line in statement.splitlines() if not line.strip().startswith("--")
    ).strip()


def prepare(con: duckdb.DuckDBPyConnection, lake: Lake) -> None:
    """Spill to the data root (not the working directory) when a range exceeds memory_limit.

    The folder is this connection's own: processes sharing one spill folder crash.
    """
    tmp = spill_directory(lake.root / "tmp" / "duckdb")
    con.execute(f"SET temp_directory = '{tmp.as_posix()}'")
    con.execute("SET enable_progress_bar = false")


#: The DuckDB type a lake column of each polars dtype is written as (Parquet reads back the same).
_DUCKDB_TYPES: dict[pl.DataType, str] = {
    pl.String(): "VARCHAR",
    pl.Int64(): "BIGINT",
    pl.Int32(): "INTEGER",
    pl.Float64(): "DOUBLE",
    pl.Boolean(): "BOOLEAN",
    pl.Date(): "DATE",
    pl.Datetime("us", "UTC"): "TIMESTAMPTZ",
}


def duckdb_select_list(schema: pl.Schema) -> str:
    """``CAST(col AS type) AS col, ...`` so a DuckDB result has exactly the lake schema."""
    items = []
    for name, dtype in schema.items():
        if dtype not in _DUCKDB_TYPES:
            raise TypeError(f"column {name!r}: no DuckDB type for {dtype}")
        items.append(f'CAST("{name}" AS {_DUCKDB_TYPES[dtype]}) AS "{name}"')
    return ", ".join(items)


def write_daily_from_table(
    con: duckdb.DuckDBPyConnection,
    lake: Lake,
    table: str,
    partition_col: str,
    keys: Sequence[str],
    schema: pl.Schema,
    temp_table: str,
    order_by: str,
) -> None:
    """Write one lake partition per key from a DuckDB temp table with ``COPY ... TO``.

    The range was computed in one pass; each day is then streamed by DuckDB straight into the
    partition's Parquet file, so the rows never become a Python/Arrow frame and the process stays
    within DuckDB's memory_limit however many clicks a day holds (measured: docs/benchmarks.md).
    """
    columns = duckdb_select_list(schema)
    for key in keys:
        day = check_partition_key(key)  # a plain date token, safe to inline below
        with lake.partition_writer(table, partition_col, key) as tmp:
            path = tmp.as_posix().replace("'", "''")
            con.execute(
                f"COPY (SELECT {columns} FROM {temp_table} "
                f"WHERE {partition_col} = DATE '{day}' ORDER BY {order_by}) "
                f"TO '{path}' (FORMAT parquet, COMPRESSION zstd)"
            )


def conform(frame: pl.DataFrame, schema: pl.Schema) -> pl.DataFrame:
    """Exactly ``schema``'s columns and dtypes (an empty result keeps the table's schema)."""
    if frame.width == 0:
        return schema.to_frame()
    return frame.select([pl.col(n).cast(t) for n, t in schema.items()])
