"""Hold what the pipelines actually write to the columns they declare (pacific_assets/columns.py).

Called by the tests whose fixtures already build lake tables through the real assets, so the
check costs a schema read per file, not another build.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from pacific_assets.columns import declared_tables
from pacific_assets.storage.lake import Lake


def assert_written_as_declared(lake: Lake, tables: Iterable[str] | None = None) -> list[str]:
    """Every live partition of ``tables`` (default: every table in the lake) has exactly its
    declared columns, in order, with their types, and no null in a column declared non-null.

    Returns the tables checked, so a caller can assert which ones its fixture covered.
    """
    declared = declared_tables()
    names = sorted(lake.tables() if tables is None else tables)
    problems = []
    for table in names:
        if table not in declared:
            problems.append(f"{table}: written to the lake but no columns are declared")
            continue
        want = list(declared[table].polars().items())
        files = lake.partition_files(table)
        assert files, f"{table}: no live partition to check"
        for f in files:
            got = list(pl.read_parquet_schema(f).items())
            if got != want:
                diff = sorted(f"{n}: {t}" for n, t in set(got) ^ set(want)) or "column order"
                problems.append(f"{table}: {f} differs from the declaration: {diff}")
                break
        not_null = [c.name for c in declared[table].columns if not c.nullable]
        nulls = (
            pl.scan_parquet(files, hive_partitioning=False)
            .select(pl.col(not_null).null_count())
            .collect()
            .row(0, named=True)
        )
        problems += [f"{table}.{c}: {n} null(s), declared non-null" for c, n in nulls.items() if n]
    assert not problems, "\n".join(problems)
    return names
