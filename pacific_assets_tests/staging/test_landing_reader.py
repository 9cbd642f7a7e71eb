"""The landing reader (staging/landing.py) on small files written here, each expectation read off
the module's own contract (its docstring and docs/staging.md): where files are, which records
count and how they are numbered, what is rejected and with which words."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest

from pacific_assets.contracts import SOURCES
from pacific_assets.staging import landing
from pacific_assets.staging.landing import (
    SchemaDriftError,
    iter_csv_records,
    iter_jsonl_lines,
    landed_files,
    landing_partitions,
    parse_csv,
    parse_file,
    parse_jsonl,
    partition_folder,
    partition_value,
    raw_rows,
)

FILINGS = SOURCES["filings"]  # monthly csv: month, revenue_usd, expenses_usd
REGISTRY = SOURCES["experiment_registry"]  # one file, no partitions
EVENTS = SOURCES["account_events"]  # daily jsonl
USERS = SOURCES["directory_users"]  # daily csv
USERS_HEADER = "user_id,account_id,team,licensed,created_at,deactivated_at\n"


def test_partition_folders_and_values_per_grain(tmp_path: Path) -> None:
    assert partition_folder(USERS, tmp_path, "2025-09-03") == (
        tmp_path / "directory/users/date=2025-09-03"
    )
    assert partition_folder(FILINGS, tmp_path, "2025-09-01") == (
        tmp_path / "finance/filings/month=2025-09"
    )
    assert partition_folder(REGISTRY, tmp_path, "current") == tmp_path / "experiments/registry.csv"
    assert partition_value(USERS, "2025-09-03") == dt.date(2025, 9, 3)
    assert partition_value(FILINGS, "2025-09-17") == dt.date(2025, 9, 1)
    assert partition_value(REGISTRY, "current") is None


def test_landed_files_are_the_data_files_in_name_order(tmp_path: Path) -> None:
    folder = partition_folder(USERS, tmp_path, "2025-09-03")
    folder.mkdir(parents=True)
    for name in ("b.csv", "a.csv", ".tmp.csv", "_writing.csv", "notes.txt", "c.csv.bak"):
        (folder / name).write_text(USERS_HEADER)
    (folder / "d.csv").mkdir()  # a folder named like a file is not a file
    assert [p.name for p in landed_files(USERS, folder)] == ["a.csv", "b.csv"]
    assert landed_files(USERS, tmp_path / "missing") == ()
    registry = partition_folder(REGISTRY, tmp_path, "current")
    assert landed_files(REGISTRY, registry) == ()
    registry.parent.mkdir(parents=True)
    registry.write_text("x")
    assert landed_files(REGISTRY, registry) == (registry,)
    (empty, full) = landing_partitions(USERS, tmp_path, ["2025-09-02", "2025-09-03"])
    assert (empty.key, empty.value, empty.files, empty.landed) == (
        "2025-09-02",
        dt.date(2025, 9, 2),
        (),
        False,
    )
    assert (full.folder, [p.name for p in full.files], full.landed) == (
        folder,
        ["a.csv", "b.csv"],
        True,
    )


def test_csv_records_are_numbered_from_one_after_the_header_blank_lines_not_counted(
    tmp_path: Path,
) -> None:
    path = tmp_path / "u.csv"
    path.write_text('a,b\r\n1,"two\nlines"\r\n\r\n3,4\r\n', newline="")
    assert list(iter_csv_records(path)) == [
        (0, ["a", "b"], "a,b"),
        (1, ["1", "two\nlines"], '1,"two\nlines"'),
        (2, ["3", "4"], "3,4"),
    ]
    assert raw_rows(path, "csv", {2}) == {2: "3,4"}
    assert raw_rows(path, "csv", set()) == {}
    # a line break inside a quoted field is kept as it landed (\r\n too); a stray quote is read
    # leniently, as the csv module's non-strict dialect reads it; the raw text keeps its spaces
    path.write_text('a,b\n"x\r\ny",1\nz,"2"3\nX,X \nY,X\n', newline="")
    assert [r[1:] for r in iter_csv_records(path)][1:] == [
        (["x\r\ny", "1"], '"x\r\ny",1'),
        (["z", "23"], 'z,"2"3'),
        (["X", "X "], "X,X "),
        (["Y", "X"], "Y,X"),
    ]


def test_jsonl_lines_are_numbered_from_one_blank_lines_not_counted(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    path.write_text('{"a": 1}\r\n\n   \n{"a": 2}\n', newline="")
    assert list(iter_jsonl_lines(path)) == [(1, '{"a": 1}'), (2, '{"a": 2}')]
    long = "x" * 5000
    path.write_text(f'{{"a": 1}}\n{long}\n{{"a": 3}}\n')
    # the landed text of the rows asked for, clipped to 4096 characters, reading stops there
    assert raw_rows(path, "jsonl", {2}) == {2: long[:4096]}
    assert raw_rows(path, "jsonl", {1, 3}) == {1: '{"a": 1}', 3: '{"a": 3}'}


def test_csv_columns_are_matched_by_name_and_every_field_kept_as_text(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    # columns in another order, spaces around header names, an empty field (= null)
    path.write_text(" expenses_usd ,month,revenue_usd\n10.5,2025-09,\n7,2025-10,1e3\n")
    parsed = parse_csv(path, "finance/filings/month=2025-09/f.csv", FILINGS)
    assert parsed.columns == ("expenses_usd", "month", "revenue_usd")
    assert parsed.rows_seen == 2 and parsed.rejects == []
    assert parsed.frame.to_dicts() == [
        {
            "month": "2025-09",
            "revenue_usd": None,
            "expenses_usd": "10.5",
            "_source_file": "finance/filings/month=2025-09/f.csv",
            "_row_number": 1,
        },
        {
            "month": "2025-10",
            "revenue_usd": "1e3",
            "expenses_usd": "7",
            "_source_file": "finance/filings/month=2025-09/f.csv",
            "_row_number": 2,
        },
    ]
    assert parsed.frame.schema == {
        "month": pl.String,
        "revenue_usd": pl.String,
        "expenses_usd": pl.String,
        "_source_file": pl.String,
        "_row_number": pl.Int64,
    }


def test_every_column_is_text_even_all_empty_or_without_rows(tmp_path: Path) -> None:
    schema = {
        "month": pl.String,
        "revenue_usd": pl.String,
        "expenses_usd": pl.String,
        "_source_file": pl.String,
        "_row_number": pl.Int64,
    }
    path = tmp_path / "f.csv"
    path.write_text("month,revenue_usd,expenses_usd\n")
    assert parse_csv(path, "rel/f.csv", FILINGS).frame.schema == schema
    path.write_text("month,revenue_usd,expenses_usd\n2025-09,,\n")
    assert parse_csv(path, "rel/f.csv", FILINGS).frame.schema == schema


def test_csv_rejects_say_what_is_wrong_and_keep_the_line(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(b"month,revenue_usd,expenses_usd\n2025-09,1\n2025-10,\xff,2\n2025-11,3,4\n")
    parsed = parse_csv(path, "rel/f.csv", FILINGS)
    assert parsed.rows_seen == 3
    assert parsed.rejects == [
        {
            "file": "rel/f.csv",
            "row_number": 1,
            "column": None,
            "reason": "expected 3 fields, found 2",
            "raw": "2025-09,1",
        },
        {
            "file": "rel/f.csv",
            "row_number": 2,
            "column": None,
            "reason": "not valid UTF-8",
            "raw": "2025-10,\ufffd,2",
        },
    ]
    assert parsed.frame["_row_number"].to_list() == [3]


@pytest.mark.parametrize(
    ("header", "problem"),
    [
        ("month,revenue_usd", "missing column(s) expenses_usd"),
        ("month,revenue_usd,expenses_usd,extra", "unexpected column(s) extra"),
        (
            "month,revenue_usd,expenses_usd,month",
            "duplicated column(s) month",
        ),
        (
            "month,revenue_usd,expenses_usd,revenue_usd,month",
            "duplicated column(s) month, revenue_usd",
        ),
        (
            "revenue_usd,other,more",
            "missing column(s) month, expenses_usd; unexpected column(s) other, more",
        ),
    ],
)
def test_a_csv_header_off_the_contract_is_schema_drift(
    tmp_path: Path, header: str, problem: str
) -> None:
    path = tmp_path / "f.csv"
    path.write_text(header + "\n1,2,3\n")
    with pytest.raises(SchemaDriftError) as caught:
        parse_csv(path, "rel/f.csv", FILINGS)
    assert str(caught.value) == f"rel/f.csv: {problem}"


def test_an_empty_csv_has_no_header(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text("")
    with pytest.raises(SchemaDriftError) as caught:
        parse_csv(path, "rel/f.csv", FILINGS)
    assert str(caught.value) == (
        "rel/f.csv: empty file, no header row (expected month, revenue_usd, expenses_usd)"
    )


def test_big_files_are_read_in_chunks_that_add_up(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(landing, "_CHUNK_ROWS", 2)  # 5 rows: chunks of 2, 2 and 1
    path = tmp_path / "f.csv"
    path.write_text("month,revenue_usd,expenses_usd\n" + "".join(f"m{i},{i},0\n" for i in range(5)))
    parsed = parse_csv(path, "rel/f.csv", FILINGS)
    assert parsed.frame["month"].to_list() == [f"m{i}" for i in range(5)]
    assert parsed.frame["_row_number"].to_list() == [1, 2, 3, 4, 5]
    assert parsed.frame["_source_file"].to_list() == ["rel/f.csv"] * 5
    lines = "".join(json.dumps({"event_id": f"e{i}"} | _event()) + "\n" for i in range(5))
    (tmp_path / "e.jsonl").write_text(lines)
    parsed = parse_jsonl(tmp_path / "e.jsonl", "rel/e.jsonl", EVENTS)
    assert parsed.frame["event_id"].to_list() == [f"e{i}" for i in range(5)]
    assert parsed.frame["_source_file"].to_list() == ["rel/e.jsonl"] * 5


def _event(**values: object) -> dict:
    base = {
        "account_id": "A",
        "event_type": "churned",
        "effective_at": "2025-09-01T00:00:00Z",
        "recorded_at": "2025-09-01T00:00:00Z",
        "plan": "growth",
        "seats": 3,
        "contract_end": "2026-09-01",
        "mrr_usd": 12.5,
    }
    return base | values


def test_jsonl_values_become_the_text_a_csv_would_hold(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    rows = [
        {"event_id": "e1"} | _event(),
        {"event_id": "e2"} | _event(seats=None, mrr_usd=0, plan=""),
        {"event_id": "e3", "account_id": "B", "event_type": "trial_started"},  # keys missing
        {"event_id": "e4"} | _event(plan=True, seats=False),
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    parsed = parse_jsonl(path, "rel/e.jsonl", EVENTS)
    assert parsed.rejects == [] and parsed.rows_seen == 4
    assert parsed.columns == tuple(rows[0])  # the keys in the order first seen
    frame = parsed.frame
    assert frame["seats"].to_list() == ["3", None, None, "false"]
    assert frame["mrr_usd"].to_list() == ["12.5", "0", None, "12.5"]
    assert frame["plan"].to_list() == ["growth", None, None, "true"]
    assert frame["recorded_at"].to_list() == [
        "2025-09-01T00:00:00Z",
        "2025-09-01T00:00:00Z",
        None,
        "2025-09-01T00:00:00Z",
    ]
    assert frame["_row_number"].to_list() == [1, 2, 3, 4]
    assert frame["_source_file"].unique().to_list() == ["rel/e.jsonl"]


def test_jsonl_rejects_say_what_is_wrong(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    good = json.dumps({"event_id": "e1"} | _event())
    path.write_bytes(
        (
            "\n".join(
                [
                    good,
                    "{not json",
                    "[1, 2]",
                    json.dumps({"event_id": "e4"} | _event(plan={"a": 1})),
                    json.dumps({"event_id": "e5"} | _event(seats=[1])),
                ]
            )
            + "\n"
        ).encode()
        + b'{"event_id": "\xff"}\n'
        + (json.dumps({"event_id": "e7"} | _event()) + "\n{X \n{ X\n").encode()
    )
    parsed = parse_jsonl(path, "rel/e.jsonl", EVENTS)
    assert [(r["row_number"], r["column"], r["reason"]) for r in parsed.rejects] == [
        (2, None, "broken JSON: Expecting property name enclosed in double quotes"),
        (3, None, "not a JSON object: list"),
        (4, "plan", "expected a scalar, found an object/array"),
        (5, "seats", "expected a scalar, found an object/array"),
        (6, None, "not valid UTF-8"),
        (8, None, "broken JSON: Expecting property name enclosed in double quotes"),
        (9, None, "broken JSON: Expecting property name enclosed in double quotes"),
    ]
    # the line as it landed, trailing spaces and letters included
    assert [r["raw"] for r in parsed.rejects if r["row_number"] in (2, 8, 9)] == [
        "{not json",
        "{X ",
        "{ X",
    ]
    assert {r["file"] for r in parsed.rejects} == {"rel/e.jsonl"}
    assert parsed.frame["event_id"].to_list() == ["e1", "e7"] and parsed.rows_seen == 9
    assert parsed.rel_path == "rel/e.jsonl"


def test_jsonl_drift_is_a_key_outside_the_contract_or_one_no_line_has(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    path.write_text(json.dumps({"event_id": "e1", "surprise": 1} | _event()) + "\n")
    with pytest.raises(SchemaDriftError) as caught:
        parse_jsonl(path, "rel/e.jsonl", EVENTS)
    assert str(caught.value) == "rel/e.jsonl: unexpected column(s) surprise"
    path.write_text(
        json.dumps({"event_id": "e1", "surprise": 1} | _event())
        + "\n"
        + json.dumps({"event_id": "e2", "other": 2} | _event())
        + "\n"
    )
    with pytest.raises(SchemaDriftError) as caught:
        parse_jsonl(path, "rel/e.jsonl", EVENTS)
    assert str(caught.value) == "rel/e.jsonl: unexpected column(s) surprise, other"
    path.write_text(json.dumps({"event_id": "e1"} | _event(mrr_usd=None)) + "\n")
    parse_jsonl(path, "rel/e.jsonl", EVENTS)  # a null is a value: the key is there
    row = {"event_id": "e1"} | _event()
    del row["mrr_usd"]
    path.write_text(json.dumps(row) + "\n")
    with pytest.raises(SchemaDriftError) as caught:
        parse_jsonl(path, "rel/e.jsonl", EVENTS)
    assert str(caught.value) == "rel/e.jsonl: missing column(s) mrr_usd"
    path.write_text("\n\n")  # no record: nothing to drift from
    assert parse_jsonl(path, "rel/e.jsonl", EVENTS).frame.height == 0


def test_parse_file_names_the_file_from_the_landing_root(tmp_path: Path) -> None:
    folder = partition_folder(FILINGS, tmp_path, "2025-09-01")
    folder.mkdir(parents=True)
    (folder / "f.csv").write_text("month,revenue_usd,expenses_usd\n2025-09,1,2\n")
    parsed = parse_file(folder / "f.csv", tmp_path, FILINGS)
    assert parsed.rel_path == "finance/filings/month=2025-09/f.csv"
    (tmp_path / "e.jsonl").write_text(json.dumps({"event_id": "e1"} | _event()) + "\n")
    parsed = parse_file(tmp_path / "e.jsonl", tmp_path, EVENTS)
    assert (parsed.rel_path, parsed.frame["event_id"].to_list()) == ("e.jsonl", ["e1"])
    odd = dataclasses.replace(FILINGS, fmt="xml")
    with pytest.raises(ValueError, match="filings: unknown landing format 'xml'"):
        parse_file(folder / "f.csv", tmp_path, odd)
