"""The declared columns of every lake table: name, type, meaning, nullability, stated once.

Each pipeline declares the tables it writes in its own ``columns.py`` (``declare(...)``); this
module holds the types and everything derived from a declaration:

- the polars schema a writer conforms its frame to (``TableColumns.polars``);
- the DuckDB type of each column (``duckdb_type``: casts of streamed writes, analysts' catalog);
- the Spark DDL the investor rollup reads with (``TableColumns.spark_ddl``);
- ``dagster/column_schema`` on the asset that writes the table (``with_column_schema``, chained in
  ``pacific_assets/definitions.py``), so the UI shows every column with its meaning;
- the column tables of ``docs/<pipeline>.md``, between ``<!-- columns:<table> -->`` and
  ``<!-- /columns -->`` (``python -m pacific_assets.columns --docs`` rewrites them, ``--check``
  fails when they differ; the storage layout is docs/ARCHITECTURE.md).

A table's name is its asset key (docs/ARCHITECTURE.md, "The graph").
"""

from __future__ import annotations

import argparse
import importlib
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import polars as pl

#: The modules that declare lake tables, one per pipeline (imported on demand, no cycle).
DECLARING_MODULES = (
    "pacific_assets.staging.columns",
    "pacific_assets.storage.columns",
    "pacific_assets.engagement.columns",
    "pacific_assets.growth.columns",
    "pacific_assets.profit.columns",
    "pacific_assets.investor.columns",
    "pacific_assets.experiments.columns",
)
DOCS = Path(__file__).resolve().parent.parent / "docs"

UTC_TS = pl.Datetime("us", "UTC")
#: The metadata key the Dagster UI reads a table's columns from.
COLUMN_SCHEMA = "dagster/column_schema"
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


def declared_tables() -> dict[str, TableColumns]:
    """Every declared lake table by name (imports each pipeline's ``columns`` module)."""
    for module in DECLARING_MODULES:
        importlib.import_module(module)
    return dict(sorted(_DECLARED.items()))


def declared(table: str) -> TableColumns:
    """The declared columns of ``table``, for a pipeline that reads another pipeline's table:
    pipelines share tables, not code, so a reader looks the table up here by name."""
    tables = declared_tables()
    if table not in tables:
        raise KeyError(f"no lake table {table!r} is declared (pacific_assets/*/columns.py)")
    return tables[table]


def with_column_schema(spec: dg.AssetSpec) -> dg.AssetSpec:
    """``spec`` with the declared columns of the lake table its key names, if it names one."""
    declared = declared_tables().get(spec.key.path[-1])
    if declared is None:
        return spec
    return spec.merge_attributes(
        metadata={COLUMN_SCHEMA: dg.MetadataValue.table_schema(declared.table_schema())}
    )


# -- docs ----------------------------------------------------------------------------------------
_BLOCK = re.compile(
    r"(<!-- columns:(?P<table>[a-z0-9_]+) -->\n)(?:(?!<!-- /?columns).)*(<!-- /columns -->)", re.S
)


def render_docs(text: str, tables: dict[str, TableColumns]) -> str:
    """``text`` with every ``<!-- columns:<table> -->`` block replaced by the declared table."""

    def block(m: re.Match[str]) -> str:
        table = m.group("table")
        if table not in tables:
            raise KeyError(f"docs name an undeclared lake table {table!r}")
        return f"{m.group(1)}{tables[table].markdown()}\n{m.group(3)}"

    return _BLOCK.sub(block, text)


def documented_tables(text: str) -> list[str]:
    """The tables a doc has a generated column block for."""
    return [m.group("table") for m in _BLOCK.finditer(text)]


def stale_docs(docs: Path = DOCS) -> list[Path]:
    """Docs whose column tables differ from the declarations."""
    tables = declared_tables()
    return [
        p for p in sorted(docs.glob("*.md")) if render_docs(p.read_text(), tables) != p.read_text()
    ]


def main(argv: list[str] | None = None) -> int:
    """``--docs`` rewrites stale column tables; ``--check`` exits 1 when one is stale (for CI)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--docs", action="store_true", help="rewrite the docs' column tables")
    mode.add_argument("--check", action="store_true", help="fail when a column table is stale")
    args = parser.parse_args(argv)
    stale = stale_docs()
    if args.check:
        for p in stale:
            print(f"{p}: column tables differ from the declared schema", file=sys.stderr)
        return 1 if stale else 0
    tables = declared_tables()
    for p in stale:
        p.write_text(render_docs(p.read_text(), tables))
        print(f"rewrote {p}")
    return 0


if __name__ == "__main__":
    # Run the imported module's main: the pipelines declare into its registry, not __main__'s.
    from pacific_assets.columns import main as _main

    sys.exit(_main())
