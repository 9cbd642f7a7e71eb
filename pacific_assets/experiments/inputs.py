"""The experiment pipeline's inputs: the lake tables it reads, their columns, and how to open them.

Inputs are opened in DuckDB as temp views over the live Parquet files with every column cast to
the type this pipeline expects, so a missing or mistyped upstream column fails here with a message
naming the table and column, and a table nobody has materialized yet reads as empty (with the
right columns) instead of failing on an empty glob.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import duckdb
import polars as pl

from pacific_assets.columns import declared
from pacific_assets.staging.columns import STAGING_TABLES
from pacific_assets.storage.duck import parquet_source
from pacific_assets.storage.lake import UNPARTITIONED_KEY, Lake

STG_EXPERIMENT_REGISTRY = STAGING_TABLES["experiment_registry"]
STG_EXPERIMENT_ASSIGNMENTS = STAGING_TABLES["experiment_assignments"]
STG_DIRECTORY_USERS = STAGING_TABLES["directory_users"]

#: Columns read from each upstream table, with the DuckDB types of their declarations (each
#: pipeline's columns.py). Upstream may have more; these must exist.
REGISTRY_COLUMNS = STG_EXPERIMENT_REGISTRY.duckdb_types(
    [
        "experiment_id",
        "unit_type",
        "variants",
        "weights",
        "start_date",
        "end_date",
        "primary_metric",
    ]
)
ASSIGNMENT_COLUMNS = STG_EXPERIMENT_ASSIGNMENTS.duckdb_types(
    [
        "experiment_id",
        "unit_type",
        "unit_id",
        "variant",
        "assigned_at",
        "export_date",
        "_source_file",
        "_row_number",
    ]
)
USER_ENGAGEMENT_COLUMNS = declared("user_engagement_daily").duckdb_types(
    ["date", "user_id", "account_id", "sessions", "hours", "events", "late_events"]
)
REVENUE_COLUMNS = declared("recognized_revenue_daily").duckdb_types(
    ["date", "account_id", "recognized_revenue_usd"]
)
DIRECTORY_COLUMNS = STG_DIRECTORY_USERS.duckdb_types(
    ["user_id", "account_id", "export_date", "_source_file", "_row_number"]
)


class InputError(ValueError):
    """An upstream table is not what this pipeline was built against."""


def open_table(
    con: duckdb.DuckDBPyConnection,
    lake: Lake,
    table: str,
    columns: dict[str, str],
    keys: Sequence[str] | None = None,
    view: str | None = None,
) -> int:
    """Create temp view ``view`` (default: ``table``) over the live files; returns the file count.

    Unlike ``storage.duck.lake_view`` (the table as stored), the view holds exactly ``columns``
    cast to this pipeline's types, and a missing upstream column fails here naming it.
    """
    view = view or table
    files = lake.partition_files(table, keys)
    if not files:
        cols = ", ".join(f"CAST(NULL AS {t}) AS {c}" for c, t in columns.items())
        con.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT {cols} LIMIT 0")
        return 0
    source = parquet_source(files)
    present = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()}
    missing = [c for c in columns if c not in present]
    if missing:
        raise InputError(
            f"lake table {table!r} has no column(s) {missing} (needed by the experiments pipeline); "
            f"files: {files[0]}{' ...' if len(files) > 1 else ''}"
        )
    cols = ", ".join(f"CAST({c} AS {t}) AS {c}" for c, t in columns.items())
    con.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT {cols} FROM {source}")
    return len(files)


def covered_days(lake: Lake, table: str) -> list[dt.date]:
    """The days a table has a live partition for (an empty partition counts: "nothing happened").

    Works whatever the table's grain: ``date=``/``export_date=`` keys cover their day,
    ``week_start=`` seven days, ``month_start=`` the month. An unpartitioned table covers every
    day up to the last ``date`` it holds.
    """
    table_dir = lake.table_dir(table)
    if not table_dir.exists():
        return []
    days: set[dt.date] = set()
    for link in table_dir.glob("*=*"):
        if not (link.is_symlink() and link.exists()):
            continue
        col, key = link.name.split("=", 1)
        if key == UNPARTITIONED_KEY:
            frame = pl.read_parquet(lake.partition_files(table, [key]), columns=["date"])
            if frame.height:
                last = frame["date"].max()
                first = frame["date"].min()
                days.update(first + dt.timedelta(days=i) for i in range((last - first).days + 1))
            continue
        start = dt.date.fromisoformat(key)
        if col == "month_start":
            nxt = (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
            n = (nxt - start).days
        elif col == "week_start":
            n = 7
        else:
            n = 1
        days.update(start + dt.timedelta(days=i) for i in range(n))
    return sorted(days)


def date_table(days: Sequence[dt.date]) -> pl.DataFrame:
    return pl.DataFrame({"date": list(days)}, schema={"date": pl.Date})
