"""The shared DuckDB helpers every pipeline uses: SQL files, views over the lake, schemas, COPY."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from pacific_assets.storage.duck import (
    conform,
    connect,
    duckdb_select_list,
    frame_view,
    lake_view,
    run_sql,
    write_daily_from_table,
    write_daily_in_one_pass,
)
from pacific_assets.storage.lake import Lake

SCHEMA = pl.Schema({"date": pl.Date, "account_id": pl.String, "hours": pl.Float64})
D1, D2, D3 = dt.date(2025, 9, 1), dt.date(2025, 9, 2), dt.date(2025, 9, 3)


def _sql_dir(tmp_path: Path, name: str, text: str) -> Path:
    folder = tmp_path / "sql"
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.sql").write_text(text)
    return folder


def _day(day: dt.date, accounts: list[str]) -> pl.DataFrame:
    return pl.DataFrame(
        {"date": [day] * len(accounts), "account_id": accounts, "hours": [1.5] * len(accounts)},
        schema=SCHEMA,
    )


def test_run_sql_runs_every_statement_with_only_the_parameters_it_uses(tmp_path: Path) -> None:
    folder = _sql_dir(
        tmp_path,
        "two_steps",
        "-- header comment that ends like a statement;\n"
        "CREATE TEMP TABLE t AS SELECT range AS i, 'a;\n$b' AS s FROM range($n);\n"
        "-- between statements; with $unused in a comment\n"
        "SELECT count(*) AS rows, max(i) + $offset AS top, any_value(s) AS s FROM {table};\n",
    )
    with connect() as con:
        out = run_sql(
            con, folder, "two_steps", {"n": 4, "offset": 10, "spare": 1}, table="t"
        ).fetchall()
    assert out == [(4, 13, "a;\n$b")]


def test_run_sql_names_the_file_and_the_missing_parameter(tmp_path: Path) -> None:
    folder = _sql_dir(tmp_path, "needs_start", "SELECT $start AS s, $end AS e;\n")
    with connect() as con, pytest.raises(KeyError, match=r"sql/needs_start\.sql.*'end'"):
        run_sql(con, folder, "needs_start", {"start": 1})


def test_lake_view_reads_only_the_keys_asked_for(lake: Lake) -> None:
    lake.write_partitions(
        "hours",
        "date",
        [D1.isoformat(), D2.isoformat()],
        pl.concat([_day(D1, ["a"]), _day(D2, ["b", "c"])]),
    )
    with connect() as con:
        assert lake_view(con, lake, "hours", SCHEMA, [D2.isoformat(), D3.isoformat()]) == 1
        assert con.execute("SELECT account_id FROM hours ORDER BY 1").fetchall() == [("b",), ("c",)]
        assert lake_view(con, lake, "hours", SCHEMA, view="all_hours") == 2
        assert con.execute("SELECT count(*) FROM all_hours").fetchone() == (3,)


def test_lake_view_of_nothing_is_empty_with_the_schema(lake: Lake) -> None:
    with connect() as con:
        assert lake_view(con, lake, "never_built", SCHEMA) == 0
        assert con.execute("SELECT * FROM never_built").pl().schema == SCHEMA


def test_lake_view_quotes_paths(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "it's data")
    lake.write_partition("hours", "date", D1.isoformat(), _day(D1, ["a"]))
    with connect() as con:
        lake_view(con, lake, "hours", SCHEMA)
        assert con.execute("SELECT account_id FROM hours").fetchall() == [("a",)]


def test_frame_view_can_be_replaced() -> None:
    with connect() as con:
        con.execute("CREATE TEMP VIEW months AS SELECT 0 AS m")
        frame_view(con, "months", pl.DataFrame({"m": [1, 2]}))
        frame_view(con, "months", pl.DataFrame({"m": [3]}))
        assert con.execute("SELECT m FROM months").fetchall() == [(3,)]


def test_conform_orders_casts_and_names_missing_columns() -> None:
    frame = pl.DataFrame({"hours": [1], "extra": [0], "account_id": ["a"], "date": [D1]})
    out = conform(frame, SCHEMA)
    assert out.schema == SCHEMA
    assert out.row(0) == (D1, "a", 1.0)
    assert conform(pl.DataFrame(), SCHEMA).schema == SCHEMA
    with pytest.raises(ValueError, match=r"\['hours'\]"):
        conform(frame.drop("hours"), SCHEMA)


def test_duckdb_select_list_refuses_a_type_it_cannot_write() -> None:
    assert duckdb_select_list(SCHEMA) == (
        'CAST("date" AS DATE) AS "date", CAST("account_id" AS VARCHAR) AS "account_id", '
        'CAST("hours" AS DOUBLE) AS "hours"'
    )
    with pytest.raises(TypeError, match="'amount'"):
        duckdb_select_list(pl.Schema({"amount": pl.Decimal(10, 2)}))


def test_write_daily_from_table_writes_every_key_with_the_lake_schema(lake: Lake) -> None:
    keys = [D1.isoformat(), D2.isoformat()]
    with connect() as con:
        con.execute(
            "CREATE TEMP TABLE r AS SELECT DATE '2025-09-01' AS date, "
            "CAST(x AS INTEGER) AS hours, 'acct-' || x AS account_id FROM range(3) t(x)"
        )
        write_daily_from_table(con, lake, "hours", "date", keys, SCHEMA, "r", "account_id DESC")
    assert lake.partition_keys("hours") == keys
    first = lake.read("hours", keys[:1])
    assert first.schema == SCHEMA
    assert first["account_id"].to_list() == ["acct-2", "acct-1", "acct-0"]
    assert lake.read("hours", keys[1:]).height == 0  # an empty day is written, not skipped


def test_write_daily_in_one_pass_writes_every_key_from_a_view_and_leaves_no_staging(
    lake: Lake,
) -> None:
    keys = [D1.isoformat(), D2.isoformat(), D3.isoformat()]
    lake.write_partition("hours", "date", D3.isoformat(), _day(D3, ["stale"]))
    with connect() as con:
        # a view, as stg_clicks writes; a row outside the keys must not be written anywhere
        con.execute(
            "CREATE TEMP VIEW r AS SELECT DATE '2025-09-01' + CAST(x % 2 AS INTEGER) AS date, "
            "CAST(x AS INTEGER) AS hours, 'acct-' || x AS account_id FROM range(5) t(x) "
            "UNION ALL SELECT DATE '2025-09-09', 9, 'outside'"
        )
        write_daily_in_one_pass(con, lake, "hours", "date", keys, SCHEMA, "r")
    assert lake.partition_keys("hours") == keys
    first, second = lake.read("hours", keys[:1]), lake.read("hours", keys[1:2])
    assert first.schema == SCHEMA
    assert sorted(first["account_id"]) == ["acct-0", "acct-2", "acct-4"]
    assert sorted(second["account_id"]) == ["acct-1", "acct-3"]
    assert first["hours"].sum() == 6.0 and second["hours"].sum() == 4.0
    # a key without rows becomes an empty partition, replacing what was live
    assert lake.read("hours", keys[2:]).height == 0
    assert not any((lake.root / "tmp" / "partitioned").iterdir())


def test_write_daily_in_one_pass_keeps_the_live_partitions_when_the_query_fails(
    lake: Lake,
) -> None:
    lake.write_partition("hours", "date", D1.isoformat(), _day(D1, ["kept"]))
    with connect() as con:
        con.execute(
            "CREATE TEMP VIEW r AS SELECT DATE '2025-09-01' AS date, 'x' AS account_id, "
            "CAST('not a number' AS DOUBLE) AS hours"
        )
        with pytest.raises(Exception, match="not a number"):
            write_daily_in_one_pass(con, lake, "hours", "date", [D1.isoformat()], SCHEMA, "r")
    assert lake.read("hours", [D1.isoformat()])["account_id"].to_list() == ["kept"]
    assert not any((lake.root / "tmp" / "partitioned").iterdir())


def test_views_of_one_name_replace_each_other(lake: Lake) -> None:
    lake.write_partition("hours", "date", D1.isoformat(), _day(D1, ["a"]))
    with connect() as con:
        lake_view(con, lake, "hours", SCHEMA)
        lake_view(con, lake, "hours", SCHEMA, keys=[])
        assert con.execute("SELECT count(*) FROM hours").fetchone() == (0,)
        lake_view(con, lake, "hours", SCHEMA)
        assert con.execute("SELECT count(*) FROM hours").fetchone() == (1,)
