"""Markdown tables for the metadata the Dagster UI shows (``dg.MetadataValue.md``).

One renderer for every pipeline, so every preview reads the same way: the first ``limit`` rows,
an empty cell for a null, ``|`` inside a value escaped (it would split the cell), a last line
saying how many rows were left out, and one wording for a table without rows (``NO_ROWS``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import polars as pl

#: What a preview says when the table has no rows.
NO_ROWS = "(no rows)"


def _cell(value: object, text: Callable[[object], str]) -> str:
    return "" if value is None else text(value).replace("|", "\\|")


def markdown_table(
    header: Sequence[str],
    rows: Sequence[Sequence[object]],
    limit: int = 10,
    cell: Callable[[object], str] = str,
) -> str:
    """``rows`` under ``header`` as a Markdown table, the first ``limit`` of them.

    ``cell`` turns a non-null value into text (profit formats amounts as an accountant reads
    them; every other pipeline shows ``str``)."""
    if not rows:
        return NO_ROWS
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(v, cell) for v in row) + " |" for row in rows[:limit]]
    if len(rows) > limit:
        lines.append(f"\n… {len(rows) - limit} more rows")
    return "\n".join(lines)


def markdown_frame(df: pl.DataFrame, limit: int = 10, cell: Callable[[object], str] = str) -> str:
    """The first ``limit`` rows of a frame as a Markdown table (see ``markdown_table``)."""
    if df.is_empty():
        return NO_ROWS
    text = markdown_table(df.columns, df.head(limit).rows(), limit, cell)
    if df.height > limit:
        text += f"\n\n… {df.height - limit} more rows"
    return text
