"""Small helpers the profit assets share: table schemas, DuckDB views over the lake, SQL files.

Every SQL file in ``sql/`` reads plain table names (``FROM stg_invoice_lines``); ``register``
makes each name a DuckDB view over exactly the live Parquet files the asset is allowed to read,
or over an empty frame of the right types when the table has no partition yet, so the SQL never
special-cases "nothing there".
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import duckdb
import polars as pl

from pacific_assets.contracts import FILINGS, INVOICE_LINES, OPS_EXPENSES, SALARIES, LandingSource
from pacific_assets.storage.lake import Lake

SQL_DIR = Path(__file__).parent / "sql"


def staging_schema(source: LandingSource) -> pl.Schema:
    """The staging interface: contract columns + partition column + row lineage."""
    return pl.Schema(
        {
            **source.columns,
            source.partition_col: pl.Date,
            "_source_file": pl.String,
            "_row_number": pl.Int64,
        }
    )


#: Upstream tables (produced by staging and growth/engagement), as far as profit reads them.
UPSTREAM_SCHEMAS: dict[str, pl.Schema] = {
    "stg_invoice_lines": staging_schema(INVOICE_LINES),
    "stg_ops_expenses": staging_schema(OPS_EXPENSES),
    "stg_salaries": staging_schema(SALARIES),
    "stg_filings": staging_schema(FILINGS),
    "account_status_daily": pl.Schema(
        {
            "date": pl.Date,
            "account_id": pl.String,
            "status": pl.String,
            "plan": pl.String,
            "seats": pl.Int64,
            "mrr_usd": pl.Float64,
            "contract_end": pl.Date,
            "is_paying": pl.Boolean,
            "imputed": pl.Boolean,
        }
    ),
    "engagement_hours": pl.Schema(
        {"date": pl.Date, "account_id": pl.String, "total_hours": pl.Float64}
    ),
}


@cache
def load_sql(name: str) -> str:
    return (SQL_DIR / f"{name}.sql").read_text()


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def register(
    con: duckdb.DuckDBPyConnection,
    lake: Lake,
    table: str,
    schema: pl.Schema,
    keys: Sequence[str] | None = None,
) -> int:
    """Expose ``table`` (all live partitions, or only ``keys``) as a view; returns the file count."""
    files = lake.partition_files(table, keys)
    if files:
        listing = ", ".join(_sql_str(f) for f in files)
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW {table} AS SELECT * FROM read_parquet("
            f"[{listing}], hive_partitioning = false, union_by_name = true)"
        )
    else:
        con.register(f"_empty_{table}", schema.to_frame())
        con.execute(f"CREATE OR REPLACE TEMP VIEW {table} AS SELECT * FROM _empty_{table}")
    return len(files)


def register_frame(con: duckdb.DuckDBPyConnection, name: str, df: pl.DataFrame) -> None:
    """A small in-memory frame (e.g. the months of the run) as a view named ``name``."""
    con.register(f"_frame_{name}", df)
    con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT * FROM _frame_{name}")


def query(con: duckdb.DuckDBPyConnection, sql_name: str, **params: object) -> pl.DataFrame:
    """Run one SQL file with named parameters (``$name`` in the file)."""
    sql = load_sql(sql_name)
    return con.execute(sql, params).pl() if params else con.execute(sql).pl()


def conform(df: pl.DataFrame, schema: pl.Schema) -> pl.DataFrame:
    """Exactly ``schema``'s columns, in order, with its dtypes (partitions must share a schema)."""
    missing = [c for c in schema if c not in df.columns]
    if missing:
        raise ValueError(f"frame lacks columns {missing}")
    return df.select([pl.col(c).cast(t) for c, t in schema.items()])


def assert_finite(table: str, df: pl.DataFrame) -> None:
    """Never publish NaN or inf (DESIGN §4): fail naming the column and the first bad row."""
    for name, dtype in df.schema.items():
        if dtype.is_float():
            bad = df.filter(pl.col(name).is_nan() | pl.col(name).is_infinite())
            if bad.height:
                raise ValueError(
                    f"{table}: column {name!r} has {bad.height} NaN/inf value(s), first row "
                    f"{bad.row(0, named=True)}; a missing value must be null with a reason"
                )


def month_starts(start: dt.date, end: dt.date) -> list[dt.date]:
    """First days of the months in ``[start, end)``."""
    out, m = [], start.replace(day=1)
    while m < end:
        out.append(m)
        m = add_months(m, 1)
    return out


def add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def months_frame(months: Sequence[dt.date]) -> pl.DataFrame:
    """month_start, month_end (exclusive) and last_day for each month: the run's calendar."""
    return pl.DataFrame(
        {
            "month_start": list(months),
            "month_end": [add_months(m, 1) for m in months],
            "last_day": [add_months(m, 1) - dt.timedelta(days=1) for m in months],
        },
        schema={"month_start": pl.Date, "month_end": pl.Date, "last_day": pl.Date},
    )


def days_between(start: dt.date, end: dt.date) -> list[str]:
    """Partition keys of the days in ``[start, end)``."""
    return [(start + dt.timedelta(days=i)).isoformat() for i in range((end - start).days)]


def is_finite_number(x: float | None) -> bool:
    return x is not None and math.isfinite(x)


def md_table(df: pl.DataFrame, limit: int = 10) -> str:
    """A small Markdown preview for the Dagster UI (first ``limit`` rows)."""
    if df.is_empty():
        return "_no rows_"
    head = df.head(limit)

    def cell(v: object) -> str:
        if v is None:
            return ""
        if isinstance(v, float):
            return f"{v:,.4f}".rstrip("0").rstrip(".")
        return str(v).replace("|", "\\|")

    lines = [
        "| " + " | ".join(head.columns) + " |",
        "|" + "---|" * len(head.columns),
        *("| " + " | ".join(cell(v) for v in row) + " |" for row in head.iter_rows()),
    ]
    if df.height > limit:
        lines.append(f"\n_{df.height - limit} more rows_")
    return "\n".join(lines)


def usd(x: float | None) -> str:
    """$1,234.56 (or 'n/a'), for check descriptions an accountant reads."""
    if x is None:
        return "n/a"
    sign = "-" if x < 0 else ""
    return f"{sign}${abs(x):,.2f}"
