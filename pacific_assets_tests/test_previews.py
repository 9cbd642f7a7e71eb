"""Every pipeline's metadata previews come from one renderer (``pacific_assets/previews.py``).

The UI shows these tables as Markdown; what a reader must be able to rely on: a null is an empty
cell, a ``|`` inside a value does not split the cell, the rows left out are counted, and an empty
table always says the same thing.
"""

import datetime as dt

import polars as pl

from pacific_assets.previews import NO_ROWS, markdown_frame, markdown_table
from pacific_assets.profit.lakeio import amount_cell


def test_a_frame_renders_nulls_empty_and_pipes_escaped() -> None:
    df = pl.DataFrame(
        {"date": [dt.date(2025, 1, 2), None], "note": ["a|b", None], "mrr_usd": [12.5, None]}
    )
    assert markdown_frame(df) == (
        "| date | note | mrr_usd |\n|---|---|---|\n| 2025-01-02 | a\\|b | 12.5 |\n|  |  |  |"
    )


def test_rows_beyond_the_limit_are_counted_not_shown() -> None:
    frame = markdown_frame(pl.DataFrame({"n": list(range(25))}), 10)
    table = markdown_table(["n"], [[i] for i in range(25)], limit=10)
    assert frame == table
    assert table.splitlines()[2:12] == [f"| {i} |" for i in range(10)]
    assert table.endswith("| 9 |\n\n… 15 more rows")


def test_every_empty_table_reads_the_same() -> None:
    assert markdown_frame(pl.DataFrame({"a": []})) == NO_ROWS
    assert markdown_table(["a", "b"], []) == NO_ROWS


def test_profit_shows_amounts_as_an_accountant_reads_them() -> None:
    df = pl.DataFrame({"account_id": ["A-1"], "profit_usd": [1234567.891234], "seats": [3]})
    assert markdown_frame(df, cell=amount_cell).splitlines()[-1] == "| A-1 | 1,234,567.8912 | 3 |"
    assert amount_cell(2.5) == "2.5" and amount_cell(3.0) == "3"
