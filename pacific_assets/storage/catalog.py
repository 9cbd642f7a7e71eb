"""The DuckDB catalog: one view per lake table, so analysts can query the lake with plain SQL.

Views hold absolute globs, so the catalog works from any directory. It is rebuilt as a new file
and renamed into place: an analyst holding it open read-only keeps the old file and never blocks
the refresh (open it with ``duckdb -readonly``). Views glob the live partitions, so new partitions
show up without a refresh; only a brand-new table needs one.
"""

from __future__ import annotations

import os
import uuid

import duckdb

from pacific_assets.storage.lake import Lake
from pacific_assets.storage.unchanged import FileMemo


def view_sql(lake: Lake, table: str) -> str:
    path = lake.glob(table).replace("'", "''")
    return (
        f'CREATE OR REPLACE VIEW "{table}" AS SELECT * FROM read_parquet('
        f"'{path}', hive_partitioning = false, union_by_name = true)"
    )


#: The catalog's views, read again only when the file was replaced (a sensor asks every minute).
_VIEWS = FileMemo(size=64)


def catalog_tables(lake: Lake) -> list[str]:
    """Views currently in the catalog file (empty when there is no catalog yet)."""
    path = lake.catalog_path

    def read() -> list[str]:
        if not path.exists():
            return []
        with duckdb.connect(str(path), read_only=True) as con:
            rows = con.execute(
                "SELECT view_name FROM duckdb_views() WHERE NOT internal ORDER BY view_name"
            ).fetchall()
        return [r[0] for r in rows]

    return list(_VIEWS.get([path], read))


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
