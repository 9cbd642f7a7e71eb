"""The lake's column types and the declaration of a table's columns (the ground floor).

Storage writes and reads tables by their declared columns (``duck.duckdb_type``, the quarantine
table), so the types and ``declare`` live here, below every pipeline; ``pacific_assets.columns``
adds what is derived from a declaration for Dagster and the docs (the column schema in the UI,
the docs' column tables) and re-exports this module for the pipelines' ``columns.py``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import dagster as dg
import polars as pl

UTC_TS = pl.Datetime("us", "UTC")
#: Lake dtype -> (DuckDB type, Spark SQL type). Timestamps are microseconds in UTC, the only
#: unit Spark reads (docs/ARCHITECTURE.md, "Storage").
_TYPES: dict[pl.DataType, tuple[str, str]] = {
    pl.String(): ("VARCHAR", "STRING"),
    pl.Int64(): ("BIGINT", "BIGINT"),
    pl.Int32(): ("INTEGER", "INT"),
    pl.Float64(): ("DOUBLE", "DOUBLE"),
    pl.Boolean(): ("BOOLEAN", "BOOLEAN"),
    pl.Date(): ("DATE", "DATE"),
    UTC_TS: ("TIMESTAMPTZ", "TIMESTAMP"),
}


def _lake_dtype(dtype: pl.DataType | type[pl.DataType]) -> pl.DataType:
    dtype = dtype() if isinstance(dtype, type) else dtype
    if dtype not in _TYPES:
        raise TypeError(f"{dtype} is not a lake column type ({', '.join(map(str, _TYPES))})")
    return dtype


def duckdb_type(dtype: pl.DataType) -> str:
    """The DuckDB type a lake column of ``dtype`` is written and read as."""
    return _TYPES[_lake_dtype(dtype)][0]


def spark_type(dtype: pl.DataType) -> str:
    """The Spark SQL type the rollup reads a lake column of ``dtype`` with."""
    return _TYPES[_lake_dtype(dtype)][1]


@dataclass(frozen=True)
class Column:
    """One column of a lake table; ``description`` is its meaning in the business's words."""

    name: str
    dtype: pl.DataType
    description: str
    nullable: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "dtype", _lake_dtype(self.dtype))


@dataclass(frozen=True)
class TableColumns:
    """The declared columns of one lake table, in the order they are written."""

    table: str
    columns: tuple[Column, ...]

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def __getitem__(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.table} declares no column {name!r}")

    def polars(self, names: Iterable[str] | None = None) -> pl.Schema:
        """The polars schema writers conform to (all columns, or ``names`` in that order)."""
        cols = self.columns if names is None else [self[n] for n in names]
        return pl.Schema({c.name: c.dtype for c in cols})

    def duckdb_types(self, names: Iterable[str] | None = None) -> dict[str, str]:
        """Column -> DuckDB type (all columns, or ``names``): how a reader casts the table."""
        return {n: duckdb_type(t) for n, t in self.polars(names).items()}

    def spark_ddl(self, names: Iterable[str] | None = None) -> str:
        """```col` TYPE, ...`` for ``spark.read.schema`` (all columns, or ``names``)."""
        return ", ".join(f"`{n}` {spark_type(t)}" for n, t in self.polars(names).items())

    def table_schema(self) -> dg.TableSchema:
        """The form Dagster shows in the UI (``dagster/column_schema``)."""
        return dg.TableSchema(
            columns=[
                dg.TableColumn(
                    c.name,
                    duckdb_type(c.dtype),
                    c.description,
                    constraints=dg.TableColumnConstraints(nullable=c.nullable),
                )
                for c in self.columns
            ]
        )

    def markdown(self) -> str:
        """The column table of the pipeline's doc."""
        lines = ["| column | type | nullable | meaning |", "|---|---|---|---|"]
        for c in self.columns:
            meaning = c.description.replace("|", "\\|").replace("<", "\\<")
            null = "yes" if c.nullable else "no"
            lines.append(f"| `{c.name}` | {duckdb_type(c.dtype)} | {null} | {meaning} |")
        return "\n".join(lines)


def null_reason(of: str, why: str = "") -> Column:
    """``<of>_null_reason``: every value that can be undefined is null with a reason, never NaN
    (docs/semantic-contract.md)."""
    text = f"why `{of}` is null (null when it has a value)" + (f": {why}" if why else "")
    return Column(f"{of}_null_reason", pl.String, text)


_DECLARED: dict[str, TableColumns] = {}


def declare(table: str, *columns: Column) -> TableColumns:
    """Declare the columns of lake table ``table`` (once: a second declaration is a mistake)."""
    if table in _DECLARED:
        raise ValueError(f"lake table {table!r} is declared twice")
    names = [c.name for c in columns]
    if len(set(names)) != len(names) or not names:
        raise ValueError(f"{table}: column names must be unique and non-empty: {names}")
    _DECLARED[table] = declared = TableColumns(table, tuple(columns))
    return declared


def declared_so_far() -> dict[str, TableColumns]:
    """Every table declared by the modules imported so far (``columns.declared_tables`` imports
    them all first)."""
    return dict(sorted(_DECLARED.items()))
