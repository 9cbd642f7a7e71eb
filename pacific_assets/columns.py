"""The declared columns of every lake table: name, type, meaning, nullability, stated once.

Each pipeline declares the tables it writes in its own ``columns.py`` (``declare(...)``; the
types and ``declare`` are the storage layer's, ``storage/schema.py``, re-exported here). From a
declaration come:

- the polars schema a writer conforms its frame to (``TableColumns.polars``);
- the DuckDB type of each column (``duckdb_type``: casts of streamed writes, analysts' catalog);
- the Spark DDL the investor rollup reads with (``TableColumns.spark_ddl``);
- ``dagster/column_schema`` on the asset that writes the table (``with_column_schema``, applied
  by each pipeline's declaration, ``registry.Pipeline``), so the UI shows every column with its
  meaning;
- the column tables of ``docs/<pipeline>.md``, between ``<!-- columns:<table> -->`` and
  ``<!-- /columns -->`` (``python -m pacific_assets.columns --docs`` rewrites them, ``--check``
  fails when they differ; the storage layout is docs/ARCHITECTURE.md).

A table's name is its asset key (docs/ARCHITECTURE.md, "The graph"). Which modules declare
tables is found, not listed: the ``columns.py`` of every pipeline folder
(``pipeline_folders.pipeline_packages``; light modules, so a pipeline can look up another's
table at import), plus the storage layer's own (``storage/columns.py``: the quarantine).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import re
import sys
from pathlib import Path

import dagster as dg

import pacific_assets.storage.columns  # noqa: F401  (declares the storage layer's own table)
from pacific_assets.pipeline_folders import pipeline_packages
from pacific_assets.storage.schema import (  # noqa: F401  (the pipelines' columns.py import these here)
    UTC_TS,
    Column,
    TableColumns,
    declare,
    declared_so_far,
    duckdb_type,
    null_reason,
    spark_type,
)

DOCS = Path(__file__).resolve().parent.parent / "docs"

#: The metadata key the Dagster UI reads a table's columns from.
COLUMN_SCHEMA = "dagster/column_schema"


def declaring_modules() -> list[str]:
    """The ``columns`` module of every discovered pipeline folder that has one."""
    return [
        f"{package}.columns"
        for package in pipeline_packages()
        if importlib.util.find_spec(f"{package}.columns") is not None
    ]


def declared_tables() -> dict[str, TableColumns]:
    """Every declared lake table by name (imports each pipeline's ``columns`` module)."""
    for module in declaring_modules():
        importlib.import_module(module)
    return declared_so_far()


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
