"""A deliberately plain reader of the landing zone for the simulator's tests.

Independent of the simulator's writer and of staging: csv/json from the standard library and the
contract's column types, so a test failure points at the files, not at shared code.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from pacific_assets.contracts import LandingSource


@dataclass
class Record:
    rel: str  # path relative to landing/
    row: int  # 1-based data row (CSV header excluded) / JSONL line
    values: dict | None  # parsed contract values; None when the row is malformed
    problem: str | None  # why it is malformed
    column: str | None


def parse_ts(text: str) -> dt.datetime:
    if not text.endswith("Z"):
        raise ValueError(f"timestamp {text!r} is not UTC 'Z'")
    return dt.datetime.fromisoformat(text[:-1]).replace(tzinfo=dt.UTC)


def parse_value(dtype: pl.DataType, value: object) -> object:
    """Contract value from CSV text / JSON value; ValueError when it does not parse."""
    if value is None or value == "":
        return None
    if isinstance(dtype, pl.Datetime):
        return parse_ts(str(value))
    if dtype == pl.Date:
        return dt.date.fromisoformat(str(value))
    if dtype == pl.Float64:
        return float(value)
    if dtype == pl.Int64:
        if isinstance(value, float) or (isinstance(value, str) and not value.lstrip("-").isdigit()):
            raise ValueError(f"{value!r} is not an integer")
        return int(value)
    if dtype == pl.Boolean:
        if value in (True, False):
            return value
        if value not in ("true", "false"):
            raise ValueError(f"{value!r} is not a boolean")
        return value == "true"
    return str(value)


def _check(source: LandingSource, raw: dict) -> tuple[dict | None, str | None, str | None]:
    out = {}
    for name, dtype in source.columns.items():
        try:
            out[name] = parse_value(dtype, raw.get(name))
        except ValueError as exc:
            return None, f"bad value: {exc}", name
    for name in source.required:
        if out.get(name) is None:
            return None, "required value missing", name
    return out, None, None


def files(landing: Path, source: LandingSource) -> list[Path]:
    base = landing / source.path
    if source.grain == "none":
        return [base]
    return sorted(base.glob(f"*=*/*.{source.fmt}"))


def read(landing: Path, source: LandingSource) -> Iterator[Record]:
    """Every data row of every file of ``source``, in folder then file order."""
    for path in files(landing, source):
        rel = path.relative_to(landing).as_posix()
        if source.fmt == "csv":
            with open(path, newline="") as fh:
                reader = csv.reader(fh)
                header = next(reader)
                if header != list(source.columns):
                    raise AssertionError(f"{rel}: header {header} != contract")
                for n, row in enumerate(reader, start=1):
                    values, problem, column = _check(source, dict(zip(header, row, strict=True)))
                    yield Record(rel, n, values, problem, column)
        else:
            for n, line in enumerate(path.read_text().splitlines(), start=1):
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    yield Record(rel, n, None, f"broken json: {exc}", None)
                    continue
                if set(obj) != set(source.columns):
                    raise AssertionError(f"{rel}:{n}: keys {sorted(obj)} != contract")
                values, problem, column = _check(source, obj)
                yield Record(rel, n, values, problem, column)


def valid(landing: Path, source: LandingSource) -> pl.DataFrame:
    """The parsed valid rows as a typed frame (+ _file, _row, _folder_date)."""
    rows = []
    for r in read(landing, source):
        if r.values is not None:
            folder = r.rel.split("/")[-2].split("=", 1)[1] if source.grain != "none" else None
            rows.append({**r.values, "_file": r.rel, "_row": r.row, "_folder": folder})
    schema = {**source.columns, "_file": pl.String, "_row": pl.Int64, "_folder": pl.String}
    return pl.DataFrame(rows, schema=schema, orient="row")
