"""What the profit assets share beyond the DuckDB plumbing: upstream schemas, the month calendar,
the NaN guard and the formatting an accountant reads.

Every SQL file in ``sql/`` (``SQL_DIR``) reads plain table names (``FROM stg_invoice_lines``);
``storage.duck.lake_view`` makes each name a view over exactly the live Parquet files the asset
is allowed to read (or an empty frame of the schema below), and ``storage.duck.run_sql`` runs it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from pathlib import Path

import polars as pl

from pacific_assets.columns import declared
from pacific_assets.contracts import FILINGS, INVOICE_LINES, OPS_EXPENSES, SALARIES
from pacific_assets.staging.columns import STAGING_TABLES

SQL_DIR = Path(__file__).parent / "sql"


#: Upstream tables (produced by staging and growth/engagement), as far as profit reads them:
#: their declared columns (each pipeline's columns.py).
UPSTREAM_SCHEMAS: dict[str, pl.Schema] = {
    **{
        t.table: t.polars()
        for t in (STAGING_TABLES[s.name] for s in (INVOICE_LINES, OPS_EXPENSES, SALARIES, FILINGS))
    },
    "account_status_daily": declared("account_status_daily").polars(
        [
            "date",
            "account_id",
            "status",
            "plan",
            "seats",
            "mrr_usd",
            "contract_end",
            "is_paying",
            "imputed",
        ]
    ),
    "engagement_hours": declared("engagement_hours").polars(["date", "account_id", "total_hours"]),
}


def assert_finite(table: str, df: pl.DataFrame) -> None:
    """Never publish NaN or inf (docs/profit.md "Tables (the metric dictionary)"): fail naming the
    column and the first bad row."""
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


def amount_cell(value: object) -> str:
    """A preview cell as an accountant reads it: floats with thousands separators and at most
    four decimals (the lake keeps full precision, docs/profit.md "Tables")."""
    if isinstance(value, float):
        return f"{value:,.4f}".rstrip("0").rstrip(".")
    return str(value)


def usd(x: float | None) -> str:
    """$1,234.56 (or 'n/a'), for check descriptions an accountant reads."""
    if x is None:
        return "n/a"
    sign = "-" if x < 0 else ""
    return f"{sign}${abs(x):,.2f}"
