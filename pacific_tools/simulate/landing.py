"""Writing landed files exactly as contracts.py says: CSV/JSONL text, ISO-8601 ``Z`` timestamps.

Malformed rows are spliced into the text at known positions so the fault manifest can name the
file and the 1-based data row (CSV: header excluded; JSONL: line number), the same numbering the
quarantine table uses.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections import defaultdict
from pathlib import Path

import polars as pl

from pacific_assets.contracts import LandingSource

TS_FMT = "%Y-%m-%dT%H:%M:%SZ"
TS_MS_FMT = "%Y-%m-%dT%H:%M:%S%.3fZ"


def to_text(df: pl.DataFrame, source: LandingSource, ts_fmt: str = TS_FMT) -> pl.DataFrame:
    """Every contract column as the string a CSV export would carry (null = empty field)."""
    exprs = []
    for name, dtype in source.columns.items():
        col = pl.col(name)
        if isinstance(dtype, pl.Datetime):
            exprs.append(col.dt.strftime(ts_fmt).alias(name))
        elif dtype == pl.Date:
            exprs.append(col.dt.strftime("%Y-%m-%d").alias(name))
        elif dtype == pl.Boolean:
            exprs.append(
                pl.when(col)
                .then(pl.lit("true"))
                .when(~col)
                .then(pl.lit("false"))
                .otherwise(None)
                .alias(name)
            )
        else:
            exprs.append(col.cast(pl.String).alias(name))
    return df.select(exprs)


def to_json_frame(df: pl.DataFrame, source: LandingSource, ts_fmt: str = TS_FMT) -> pl.DataFrame:
    """Native JSON types, except timestamps and dates which are ISO strings."""
    exprs = []
    for name, dtype in source.columns.items():
        col = pl.col(name)
        if isinstance(dtype, pl.Datetime):
            exprs.append(col.dt.strftime(ts_fmt).alias(name))
        elif dtype == pl.Date:
            exprs.append(col.dt.strftime("%Y-%m-%d").alias(name))
        else:
            exprs.append(col.cast(dtype).alias(name))
    return df.select(exprs)


class LandingWriter:
    """Writes files under ``<data_root>/landing``, keeps per-source counts for the summary and
    records when each file lands (every write names its landing time, so the landing schedule
    cannot miss a file)."""

    def __init__(self, landing: Path):
        self.landing = landing
        self.stats: dict[str, dict[str, int]] = defaultdict(lambda: dict(files=0, rows=0, bytes=0))
        #: (path relative to landing/, source, landed_at, kind) per written file
        self.schedule: list[tuple[str, str, dt.datetime, str]] = []

    def _schedule(self, rel: str, source: str, landed_at: dt.datetime, kind: str) -> None:
        if landed_at.tzinfo is None:
            raise ValueError(f"{rel}: landed_at must be timezone-aware (UTC)")
        self.schedule.append((rel, source, landed_at.astimezone(dt.UTC), kind))

    def _path(self, rel: str) -> Path:
        path = self.landing / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def _count(self, source: str, path: Path, rows: int) -> None:
        s = self.stats[source]
        s["files"] += 1
        s["rows"] += rows
        s["bytes"] += path.stat().st_size

    def write_csv(
        self,
        source: str,
        rel: str,
        text: pl.DataFrame,
        inserts: list[tuple[int, dict[str, str | None]]] = (),
        rename: dict[str, str] | None = None,
        *,
        landed_at: dt.datetime,
        kind: str,
    ) -> None:
        """``inserts``: (0-based position in the final data rows, row of strings)."""
        for pos, row in sorted(inserts, key=lambda x: x[0]):
            extra = pl.DataFrame({c: [row.get(c)] for c in text.columns}, schema=text.schema)
            text = pl.concat([text.slice(0, pos), extra, text.slice(pos)])
        if rename:
            text = text.rename(rename)
        path = self._path(rel)
        text.write_csv(path, null_value="")
        self._count(source, path, text.height)
        self._schedule(rel, source, landed_at, kind)

    def write_jsonl(
        self,
        source: str,
        rel: str,
        frame: pl.DataFrame,
        inserts: list[tuple[int, str]] = (),
        *,
        landed_at: dt.datetime,
        kind: str,
    ) -> int:
        """``inserts``: (0-based line position in the final file, raw line text). Returns lines."""
        buf = io.BytesIO()
        if frame.height:
            frame.write_ndjson(buf)
        data = buf.getvalue()
        if inserts:
            lines = data.decode().splitlines()
            for pos, raw in sorted(inserts, key=lambda x: x[0]):
                lines.insert(pos, raw)
            data = ("\n".join(lines) + "\n").encode()
        path = self._path(rel)
        path.write_bytes(data)
        n = frame.height + len(inserts)
        self._count(source, path, n)
        self._schedule(rel, source, landed_at, kind)
        return n

    def write_json_lines(
        self, source: str, rel: str, records: list[dict], *, landed_at: dt.datetime, kind: str
    ) -> None:
        path = self._path(rel)
        path.write_text("".join(json.dumps(r, sort_keys=False) + "\n" for r in records))
        self._schedule(rel, source, landed_at, kind)
