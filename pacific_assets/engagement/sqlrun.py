"""Small helpers to run the engagement .sql files in DuckDB and write daily results to the lake."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path

import duckdb
import polars as pl

from pacific_assets.storage.catalog import spill_directory
from pacific_assets.storage.lake import Lake, PartitionWrite

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


def write_daily_from_table(
    con: duckdb.DuckDBPyConnection,
    lake: Lake,
    table: str,
    partition_col: str,
    keys: Sequence[str],
    schema: pl.Schema,
    temp_table: str,
    order_by: str,
) -> list[PartitionWrite]:
    """Write one lake partition per key from a DuckDB temp table, one day in memory at a time.

    The range was computed in one pass; only the copy into Parquet goes day by day, so a 31-day
    backfill never holds more than one day of rows in Python.
    """
    writes = []
    for key in keys:
        frame = con.execute(
            f"SELECT * FROM {temp_table} WHERE {partition_col} = CAST($key AS DATE) "
            f"ORDER BY {order_by}",
            {"key": key},
        ).pl()
        frame = conform(frame, schema)
        writes.append(lake.write_partition(table, partition_col, key, frame))
    return writes


def conform(frame: pl.DataFrame, schema: pl.Schema) -> pl.DataFrame:
    """Exactly ``schema``'s columns and dtypes (an empty result keeps the table's schema)."""
    if frame.width == 0:
        return schema.to_frame()
    return frame.select([pl.col(n).cast(t) for n, t in schema.items()])
