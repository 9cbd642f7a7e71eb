"""Reading the landing zone exactly as it landed: every value a string, every row traceable.

Why strings first: a typed reader (``read_csv`` with inferred dtypes, ``read_ndjson``) either
fails the whole file or silently turns a bad value into null. Reading every field as text keeps
the original value, so validation can say *which* row and column was wrong and why, and the
quarantine can hold the row as it landed. Files are opened read-only and never touched otherwise.

Row numbers are 1-based data records: for CSV the header is not counted (record 1 is the first
line after the header), for JSONL record 1 is the first line. Blank lines are not records.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from pacific_assets.contracts import LandingSource

#: Name of the per-row position columns every staged frame carries.
SOURCE_FILE = "_source_file"
ROW_NUMBER = "_row_number"
#: Rows per in-memory chunk while parsing, so a big landed file never sits in Python lists whole.
_CHUNK_ROWS = 200_000
_RAW_LIMIT = 4096


class SchemaDriftError(ValueError):
    """A landed file whose columns (CSV header / JSON keys) differ from the contract."""


@dataclass(frozen=True)
class LandingPartition:
    """One partition of a source: its key, the folder it comes from, the files in it."""

    key: str  # Dagster partition key ('YYYY-MM-DD'), or "current" for the unpartitioned registry
    value: dt.date | None  # the partition column's value (None when unpartitioned)
    folder: Path
    files: tuple[Path, ...]

    @property
    def landed(self) -> bool:
        return bool(self.files)


@dataclass
class ParsedFile:
    """All rows of one landed file as strings, plus the rows that could not even be parsed."""

    rel_path: str
    columns: tuple[str, ...]  # as found in the file (header / union of JSON keys)
    frame: pl.DataFrame  # contract columns (String) + _source_file + _row_number
    rejects: list[dict] = field(default_factory=list)  # file, row_number, column, reason, raw
    rows_seen: int = 0  # data records, parsed or not


# -- where files are ------------------------------------------------------------------------
def partition_folder(source: LandingSource, landing: Path, key: str) -> Path:
    """The landing folder (or, unpartitioned, the file) for a Dagster partition key."""
    if source.grain == "daily":
        return landing / source.path / f"date={key}"
    if source.grain == "monthly":
        return landing / source.path / f"month={key[:7]}"
    return landing / source.path


def partition_value(source: LandingSource, key: str) -> dt.date | None:
    """The partition column value: the landing date, or the first day of the landing month."""
    if source.grain == "none":
        return None
    day = dt.date.fromisoformat(key)
    return day.replace(day=1) if source.grain == "monthly" else day


def landed_files(source: LandingSource, folder: Path) -> tuple[Path, ...]:
    """Data files of a folder in name order; hidden/underscore files (writers' temp) are skipped."""
    if source.grain == "none":
        return (folder,) if folder.is_file() else ()
    if not folder.is_dir():
        return ()
    suffix = f".{source.fmt}"
    return tuple(
        sorted(
            p
            for p in folder.iterdir()
            if p.is_file() and p.name.endswith(suffix) and not p.name.startswith((".", "_"))
        )
    )


def landing_partitions(
    source: LandingSource, landing: Path, keys: list[str]
) -> list[LandingPartition]:
    out = []
    for key in keys:
        folder = partition_folder(source, landing, key)
        out.append(
            LandingPartition(
                key, partition_value(source, key), folder, landed_files(source, folder)
            )
        )
    return out


# -- record iterators (shared by the first pass and the raw-line lookup) ------------------------
def _clip(raw: str) -> str:
    return raw if len(raw) <= _RAW_LIMIT else raw[:_RAW_LIMIT]


#: Fields up to 16 MiB parse (the csv module's default is 128 kB); a bigger one is refused with
#: the file and row named, never silently truncated.
CSV_FIELD_LIMIT = 16 * 1024 * 1024
csv.field_size_limit(CSV_FIELD_LIMIT)


class LandingReadError(ValueError):
    """A landed file that cannot be read at all past some record (names file and row)."""


def iter_csv_records(path: Path) -> Iterator[tuple[int, list[str], str]]:
    """Yield (row_number, fields, raw text) for each data record; row 0 is the header.

    The raw text is the exact landed line(s) of the record (a quoted field may span lines).
    Undecodable bytes become U+FFFD so one bad byte cannot hide the rest of the file.
    """
    consumed: list[str] = []

    def lines() -> Iterator[str]:
        with open(path, encoding="utf-8", errors="replace", newline="") as fh:
            for line in fh:
                consumed.append(line)
                yield line

    number = -1
    reader = csv.reader(lines(), strict=False)
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # e.g. a field beyond the limit: name the file and the record
            raise LandingReadError(f"{path}: data row {number + 1}: {exc}") from exc
        raw = "".join(consumed).rstrip("\r\n")
        consumed.clear()
        if not fields:  # blank line
            continue
        number += 1
        yield number, fields, raw


def iter_jsonl_lines(path: Path) -> Iterator[tuple[int, str]]:
    """Yield (row_number, line) for each non-blank line, 1-based."""
    number = 0
    with open(path, encoding="utf-8", errors="replace", newline="") as fh:
        for line in fh:
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            number += 1
            yield number, line


def raw_rows(path: Path, fmt: str, wanted: set[int]) -> dict[int, str]:
    """The landed text of the given rows (second pass, only for files with quarantined rows)."""
    found: dict[int, str] = {}
    if not wanted:
        return found
    last = max(wanted)
    records = (
        ((n, raw) for n, _, raw in iter_csv_records(path))
        if fmt == "csv"
        else iter_jsonl_lines(path)
    )
    for number, raw in records:
        if number in wanted:
            found[number] = _clip(raw)
        if number >= last:
            break
    return found


# -- parsing ------------------------------------------------------------------------------------
def _json_text(value: object) -> str | None:
    """A JSON scalar as the text a CSV would have held (so one cast path serves both formats)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    return json.dumps(value)


def _encodable(record: dict) -> bool:
    """False when a string value is not valid Unicode: JSON can escape a lone surrogate
    (``"\\ud800"``), which no UTF-8 column can hold."""
    try:
        for value in record.values():
            if isinstance(value, str):
                value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _frame(columns: tuple[str, ...], data: dict[str, list], rel_path: str) -> pl.DataFrame:
    schema = {c: pl.String for c in columns}
    frame = pl.DataFrame({c: data[c] for c in columns}, schema=schema)
    return frame.with_columns(
        pl.lit(rel_path, dtype=pl.String).alias(SOURCE_FILE),
        pl.Series(ROW_NUMBER, data[ROW_NUMBER], dtype=pl.Int64),
    )


def _reject(rel_path: str, number: int, column: str | None, reason: str, raw: str) -> dict:
    return {
        "file": rel_path,
        "row_number": number,
        "column": column,
        "reason": reason,
        "raw": _clip(raw),
    }


def _drift_message(rel_path: str, found: list[str], expected: tuple[str, ...]) -> str | None:
    missing = [c for c in expected if c not in found]
    unexpected = [c for c in found if c not in expected]
    duplicated = sorted({c for c in found if found.count(c) > 1})
    parts = []
    if missing:
        parts.append(f"missing column(s) {', '.join(missing)}")
    if unexpected:
        parts.append(f"unexpected column(s) {', '.join(unexpected)}")
    if duplicated:
        parts.append(f"duplicated column(s) {', '.join(duplicated)}")
    return f"{rel_path}: {'; '.join(parts)}" if parts else None


def parse_csv(path: Path, rel_path: str, source: LandingSource) -> ParsedFile:
    """Every CSV field as a string (empty = null); rows with the wrong field count are rejected.

    Raises SchemaDriftError when the header is not the contract's column set.
    """
    expected = tuple(source.columns)
    records = iter_csv_records(path)
    header_record = next(records, None)
    if header_record is None:
        raise SchemaDriftError(
            f"{rel_path}: empty file, no header row (expected {', '.join(expected)})"
        )
    header = [h.strip() for h in header_record[1]]
    if problem := _drift_message(rel_path, header, expected):
        raise SchemaDriftError(problem)
    position = [header.index(c) for c in expected]
    width = len(header)

    chunks: list[pl.DataFrame] = []
    rejects: list[dict] = []
    data: dict[str, list] = {c: [] for c in (*expected, ROW_NUMBER)}
    rows_seen = 0
    for number, fields, raw in records:
        rows_seen += 1
        if len(fields) != width:
            rejects.append(
                _reject(
                    rel_path, number, None, f"expected {width} fields, found {len(fields)}", raw
                )
            )
            continue
        if "\ufffd" in raw:
            rejects.append(_reject(rel_path, number, None, "not valid UTF-8", raw))
            continue
        for col, pos in zip(expected, position, strict=True):
            data[col].append(fields[pos] or None)
        data[ROW_NUMBER].append(number)
        if len(data[ROW_NUMBER]) >= _CHUNK_ROWS:
            chunks.append(_frame(expected, data, rel_path))
            data = {c: [] for c in (*expected, ROW_NUMBER)}
    chunks.append(_frame(expected, data, rel_path))
    return ParsedFile(rel_path, tuple(header), pl.concat(chunks), rejects, rows_seen)


def parse_jsonl(path: Path, rel_path: str, source: LandingSource) -> ParsedFile:
    """Every JSON value as text; broken lines and non-object lines are rejected.

    A key missing from one line is a null in that line. Raises SchemaDriftError when a key
    outside the contract appears, or a contract key appears in no line of a non-empty file.
    """
    expected = tuple(source.columns)
    allowed = set(expected)
    seen_keys: dict[str, None] = {}
    chunks: list[pl.DataFrame] = []
    rejects: list[dict] = []
    data: dict[str, list] = {c: [] for c in (*expected, ROW_NUMBER)}
    rows_seen = 0
    for number, line in iter_jsonl_lines(path):
        rows_seen += 1
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            rejects.append(_reject(rel_path, number, None, f"broken JSON: {exc.msg}", line))
            continue
        if not isinstance(record, dict):
            rejects.append(
                _reject(rel_path, number, None, f"not a JSON object: {type(record).__name__}", line)
            )
            continue
        seen_keys.update(dict.fromkeys(record))
        if not allowed.issuperset(record):
            continue  # schema drift: reported for the whole file below
        if "\ufffd" in line or not _encodable(record):
            rejects.append(_reject(rel_path, number, None, "not valid UTF-8", line))
            continue
        nested = [k for k, v in record.items() if isinstance(v, dict | list)]
        if nested:
            rejects.append(
                _reject(
                    rel_path, number, nested[0], "expected a scalar, found an object/array", line
                )
            )
            continue
        for col in expected:
            value = _json_text(record.get(col))
            data[col].append(value or None)
        data[ROW_NUMBER].append(number)
        if len(data[ROW_NUMBER]) >= _CHUNK_ROWS:
            chunks.append(_frame(expected, data, rel_path))
            data = {c: [] for c in (*expected, ROW_NUMBER)}
    found = list(seen_keys)
    if found and (problem := _drift_message(rel_path, found, expected)):
        raise SchemaDriftError(problem)
    chunks.append(_frame(expected, data, rel_path))
    return ParsedFile(rel_path, tuple(found), pl.concat(chunks), rejects, rows_seen)


def parse_file(path: Path, landing: Path, source: LandingSource) -> ParsedFile:
    rel_path = path.relative_to(landing).as_posix()
    if source.fmt == "csv":
        return parse_csv(path, rel_path, source)
    if source.fmt == "jsonl":
        return parse_jsonl(path, rel_path, source)
    raise ValueError(f"{source.name}: unknown landing format {source.fmt!r}")
