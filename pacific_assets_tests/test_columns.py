"""Every lake table's columns are declared once and shown with their meaning (issue #15).

What the pipelines actually write is held to the declarations where a fixture already builds the
tables through the real assets (``pacific_assets_tests/declared.py``): the investor chain on the
simulated company, staging of the simulated company, the experiments on synthetic data.
"""

from __future__ import annotations

import importlib
import shutil
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from pacific_assets.columns import (
    COLUMN_SCHEMA,
    DOCS,
    Column,
    TableColumns,
    declare,
    declared_tables,
    declaring_modules,
    documented_tables,
    main,
    stale_docs,
)
from pacific_assets.contracts import SOURCES
from pacific_assets.definitions import defs


def _tables_by_module() -> dict[str, list[TableColumns]]:
    out = {}
    # each pipeline folder's columns.py, found by the registry, and storage's own (quarantine)
    for module in [*declaring_modules(), "pacific_assets.storage.columns"]:
        found = {}
        for v in vars(importlib.import_module(module)).values():
            for t in v.values() if isinstance(v, dict) else [v]:
                if isinstance(t, TableColumns):
                    found[t.table] = t
        out[module] = list(found.values())
    return out


def test_every_asset_writing_a_lake_table_shows_its_columns_in_the_ui() -> None:
    """A Parquet-writing asset without a declared table fails here; so does a column without a
    meaning or a published schema that differs from the declaration."""
    declared = declared_tables()
    graph = defs.resolve_asset_graph()
    seen = set()
    for key in graph.materializable_asset_keys:
        node = graph.get(key)
        name = key.to_user_string()
        if "parquet" not in node.kinds and name not in declared:
            continue
        assert name in declared, f"{name} writes a lake table but declares no columns"
        schema = node.metadata.get(COLUMN_SCHEMA)
        assert schema is not None, f"{name} publishes no {COLUMN_SCHEMA}"
        cols = schema.schema.columns
        assert [c.name for c in cols] == declared[name].names, name
        for c in cols:
            assert c.description and c.description.strip(), f"{name}.{c.name} has no meaning"
            assert c.type in {
                "VARCHAR",
                "BIGINT",
                "INTEGER",
                "DOUBLE",
                "BOOLEAN",
                "DATE",
                "TIMESTAMPTZ",
            }, (name, c.name, c.type)
            assert c.constraints.nullable == declared[name][c.name].nullable
        seen.add(name)
    # the Parquet-writing assets of every pipeline are covered, not a lucky few
    assert {
        "stg_invoice_lines",
        "stg_clicks",
        "account_growth",
        "unit_profit",
        "investor_rollup",
        "ab_unit_daily",
    } <= seen


def test_declarations_are_complete_and_unique() -> None:
    by_module = _tables_by_module()
    tables = [t.table for ts in by_module.values() for t in ts]
    assert len(tables) == len(set(tables)), "a table is declared in two modules"
    assert set(tables) == set(declared_tables())
    for t in declared_tables().values():
        for c in t.columns:
            meaning = c.description.strip()
            assert meaning and meaning != c.name, f"{t.table}.{c.name}: say what it means"
    with pytest.raises(ValueError, match="declared twice"):
        declare("stg_invoice_lines", Column("x", pl.String, "anything"))
    with pytest.raises(TypeError, match="not a lake column type"):
        Column("x", pl.Float32, "a type no reader maps")


def test_pandera_staging_schemas_agree_with_the_declarations() -> None:
    """Pandera stays staging's validation layer; it checks the declared types and nullability."""
    from pacific_assets.staging.schemas import contract_validation_schema

    declared = declared_tables()
    for name, source in SOURCES.items():
        if name == "clicks":  # staged by engagement, validated by its own ingestion
            continue
        table = declared[source.staging_table]
        schema = contract_validation_schema(name)
        assert list(schema.columns) == table.names[: len(schema.columns)], name
        for col, pa_col in schema.columns.items():
            assert pa_col.dtype.type == table[col].dtype, (name, col)
            assert pa_col.nullable == table[col].nullable, (name, col)


def test_spark_and_duckdb_types_come_from_the_declarations() -> None:
    from pacific_assets.investor.inputs import ACCOUNT_STATUS_DAILY, STG_ACCOUNTS

    assert ACCOUNT_STATUS_DAILY.spark_schema.startswith("`date` DATE, `account_id` STRING")
    assert "`_row_number` BIGINT" in STG_ACCOUNTS.spark_schema
    history = declared_tables()["account_status_history"]
    assert history.duckdb_types(["valid_from", "step"]) == {
        "valid_from": "TIMESTAMPTZ",
        "step": "BIGINT",
    }


def test_every_lake_table_has_its_column_table_in_its_pipelines_doc() -> None:
    """A table's doc is its writing asset's pipeline's (``docs/<group>.md``)."""
    graph = defs.resolve_asset_graph()
    for tables in _tables_by_module().values():
        for t in tables:
            doc = f"{graph.get(dg.AssetKey(t.table)).group_name}.md"
            assert documented_tables((DOCS / doc).read_text()).count(t.table) == 1, (
                f"docs/{doc} needs one `<!-- columns:{t.table} -->` block"
            )
    documented = [t for p in DOCS.glob("*.md") for t in documented_tables(p.read_text())]
    assert sorted(documented) == sorted(declared_tables())


def test_docs_column_tables_equal_the_declarations(tmp_path: Path) -> None:
    """Regenerate with ``python -m pacific_assets.columns --docs``."""
    assert stale_docs() == [], "run `python -m pacific_assets.columns --docs`"
    assert main(["--check"]) == 0
    # a hand edit of a generated table is caught
    docs = tmp_path / "docs"
    shutil.copytree(DOCS, docs)
    growth = docs / "growth.md"
    growth.write_text(growth.read_text().replace("| `seats` | BIGINT |", "| `seats` | DOUBLE |", 1))
    assert stale_docs(docs) == [growth]
