"""Small helpers for the metadata shown in the Dagster UI."""

from __future__ import annotations

import polars as pl


def md_table(df: pl.DataFrame, limit: int = 10) -> str:
    """The first ``limit`` rows as a Markdown table (for dg.MetadataValue.md)."""
    if df.is_empty():
        return "(none)"
    head = df.head(limit)
    lines = ["| " + " | ".join(head.columns) + " |", "|" + "---|" * len(head.columns)]
    lines += [
        "| " + " | ".join("" if v is None else str(v) for v in row) + " |" for row in head.rows()
    ]
    if df.height > limit:
        lines.append(f"\n… {df.height - limit} more rows")
    return "\n".join(lines)
