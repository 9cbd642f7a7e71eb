"""The DuckDB catalog: one view per lake table, so analysts can query the lake with plain SQL.

Views hold absolute globs, so the catalog works from any directory. It is rebuilt as a new file
and renamed into place: an analyst holding it open read-only keeps the old file and never blocks
the refresh (open it with ``duckdb -readonly``). Views glob the live partitions, so new partitions
show up without a refresh; only a brand-new table needs one.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path

import duckdb

from pacific_assets.storage.lake import Lake


def spill_directory(parent: Path | None = None) -> Path:
    """A spill folder of this connection's own, under ``parent`` (default: the system temp dir).

    DuckDB names its spill files ``duckdb_temp_storage_*-0.tmp``: two processes spilling into one
    folder overwrite each other's files and crash (the concurrent-runs fault test found it).
    DuckDB creates the leaf folder when it first spills and removes it when the connection closes.
    """
    parent = parent or Path(tempfile.gettempdir()) / "pacific-duckdb"
    parent.mkdir(parents=True, exist_ok=True)
    return parent / f"{os.getpid()}-{uuid.uuid4().hex[:12]}"


def connect(
    memory_limit: str | None = None,
    threads: int | None = None,
    spill_parent: Path | None = None,
) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection set up the one way the project uses it (UTC, bounded)."""
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    spill = spill_directory(spill_parent).as_posix().replace("'", "''")
    con.execute(f"SET temp_directory = '{spill}'")
    if memory_limit:
        con.execute(f"SET memory_limit = '{memory_limit}'")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    return con


def view_sql(lake: Lake, table: str) -> str:
    path = lake.glob(table).replace("'", "''")
    return (
        f'CREATE OR REPLACE VIEW "{table}" AS SELECT * FROM read_parquet('
        f"'{path}', hive_partitioning = false, union_by_name = true)"
    )


def catalog_tables(lake: Lake) -> list[str]:
    """Views currently in the catalog file (empty when there is no catalog yet)."""
    if not lake.catalog_path.exists():
        return []
    with duckdb.connect(str(lake.catalog_path), read_only=True) as con:
        rows = con.execute(
            "SELECT view_name FROM duckdb_views() WHERE NOT internal ORDER BY view_name"
        ).fetchall()
    return [r[0] for r in rows]


def refresh_catalog(lake: Lake) -> list[str]:
    """Rebuild the catalog from the lake's tables; returns the view names. The one writer."""
    tables = lake.tables()
    lake.root.mkdir(parents=True, exist_ok=True)
    tmp = lake.catalog_path.with_name(f".{lake.catalog_path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with duckdb.connect(str(tmp)) as con:
            con.execute("SET TimeZone = 'UTC'")
            for table in tables:
                con.execute(view_sql(lake, table))
        os.replace(tmp, lake.catalog_path)
    finally:
        for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
            if leftover.exists():
                leftover.unlink()
    return tables
