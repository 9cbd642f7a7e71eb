"""Published investor months: immutable snapshots, and restatements detected against them
(docs/semantic-contract.md).

A month is **published** when a run after the month has ended computes it with every input
complete. The snapshot is written once, to a new folder, and never touched again::

    <data_root>/published/investor_rollup/month=YYYY-MM/v=<n>/
        kpis.parquet          the month's rows of investor_rollup, as published
        input_status.parquet  the completeness record it was published on
        report.html           the investor pack as published
        manifest.json         when, by which run, the live file version of every input partition

The folder is built under a temporary name and renamed into place (atomic; an existing ``v=<n>``
is never overwritten) and its files are made read-only.

A later run of a published month (late data, a backfill) compares its figures with the latest
snapshot. Differences beyond the tolerance are **restatements**: recorded in the lake table
``investor_restatements`` and reported by the failing ``no_unapproved_restatement`` check, naming
the KPI, the published and the new value, and the cause (which input partitions were re-written
since publication). Publishing the new figures as ``v=<n+1>`` takes an explicit approval (run
config ``approve_restatement``), never happens silently.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import stat
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from pacific_assets.investor.columns import INVESTOR_RESTATEMENTS
from pacific_assets.investor.completeness import format_keys
from pacific_assets.investor.inputs import Grain, required_keys
from pacific_assets.storage.lake import Lake

RESTATEMENTS_TABLE = "investor_restatements"
RESTATEMENT_SCHEMA = INVESTOR_RESTATEMENTS.polars()

#: Columns that are bookkeeping, not published figures.
NOT_COMPARED = {
    "month_start",
    "segment",
    "days_observed",
    "is_complete",
    "incomplete_inputs",
    "incomplete_reason",
    "publication_status",
    "published_version",
}


@dataclass(frozen=True)
class Tolerance:
    """A figure is restated when |new − old| > max(absolute, relative × |old|)."""

    absolute: float = 0.01
    relative: float = 0.001

    def changed(self, old: float | None, new: float | None) -> bool:
        if old is None or new is None:
            return (old is None) != (new is None)
        return abs(new - old) > max(self.absolute, self.relative * abs(old))


@dataclass(frozen=True)
class Snapshot:
    month: dt.date
    version: int
    path: Path
    kpis: pl.DataFrame
    manifest: dict


@dataclass(frozen=True)
class Restatement:
    month: dt.date
    segment: str
    kpi: str
    version: int
    old: float | None
    new: float | None
    cause: str

    @property
    def delta(self) -> float | None:
        return None if self.old is None or self.new is None else self.new - self.old

    def describe(self) -> str:
        def fmt(v: float | None) -> str:
            return "null" if v is None else f"{v:,.4f}".rstrip("0").rstrip(".")

        return (
            f"{self.month:%Y-%m} {self.kpi} ({self.segment}): published v{self.version} "
            f"{fmt(self.old)} -> now {fmt(self.new)}; cause: {self.cause}"
        )


def published_root(lake: Lake, asset: str = "investor_rollup") -> Path:
    return lake.root / "published" / asset


def month_dir(lake: Lake, month: dt.date) -> Path:
    return published_root(lake) / f"month={month:%Y-%m}"


def versions(lake: Lake, month: dt.date) -> list[int]:
    d = month_dir(lake, month)
    if not d.exists():
        return []
    return sorted(int(p.name[2:]) for p in d.glob("v=*") if p.name[2:].isdigit())


def latest_snapshot(lake: Lake, month: dt.date) -> Snapshot | None:
    vs = versions(lake, month)
    if not vs:
        return None
    path = month_dir(lake, month) / f"v={vs[-1]}"
    manifest = json.loads((path / "manifest.json").read_text())
    return Snapshot(month, vs[-1], path, pl.read_parquet(path / "kpis.parquet"), manifest)


def input_fingerprint(
    lake: Lake, grain: Grain, month: dt.date, as_of: dt.date
) -> dict[str, dict[str, str]]:
    """For every input partition of the month: the live file version it resolves to.

    Versions are uniquely named at write time (storage/lake.py), so comparing fingerprints tells
    exactly which input partitions were re-written between publication and now.
    """
    out: dict[str, dict[str, str]] = {}
    for table in grain.inputs:
        keys = required_keys(table, grain, month, as_of)[0]
        if not keys:
            continue
        versions_by_key = {}
        for key in keys:
            link = lake.partition_link(table.table, table.partition_col, key)
            if link.is_symlink():
                versions_by_key[key] = os.readlink(link).rsplit("/", 1)[-1]
        out[table.table] = versions_by_key
    return out


def restatement_cause(
    published: dict[str, dict[str, str]], current: dict[str, dict[str, str]], since: str
) -> str:
    """Which input partitions changed since publication, in words."""
    parts = []
    for table in sorted(set(published) | set(current)):
        old, new = published.get(table, {}), current.get(table, {})
        rewritten = [k for k in new if k in old and new[k] != old[k]]
        appeared = [k for k in new if k not in old]
        vanished = [k for k in old if k not in new]
        bits = []
        if rewritten:
            bits.append(f"re-written {format_keys(rewritten, 4)}")
        if appeared:
            bits.append(f"new partitions {format_keys(appeared, 4)}")
        if vanished:
            bits.append(f"partitions gone {format_keys(vanished, 4)}")
        if bits:
            parts.append(f"{table} {', '.join(bits)}")
    if not parts:
        return (
            f"no input partition changed since publication ({since}): a code or definition change"
        )
    return "; ".join(parts) + f" (since publication {since})"


def _floats(row: dict) -> dict[str, float | None]:
    out = {}
    for k, v in row.items():
        if k in NOT_COMPARED or k.endswith("_null_reason") or isinstance(v, str | bool):
            continue
        out[k] = None if v is None else float(v)
    return out


def compare(
    snapshot: Snapshot, current: pl.DataFrame, cause: str, tolerance: Tolerance
) -> list[Restatement]:
    """Every published figure (per segment) that moved beyond the tolerance."""
    old_rows = {r["segment"]: r for r in snapshot.kpis.iter_rows(named=True)}
    new_rows = {r["segment"]: r for r in current.iter_rows(named=True)}
    out = []
    for segment in sorted(set(old_rows) | set(new_rows), key=lambda s: (s != "all", s)):
        old = _floats(old_rows.get(segment, {}))
        new = _floats(new_rows.get(segment, {}))
        for kpi in sorted(set(old) | set(new)):
            o, n = old.get(kpi), new.get(kpi)
            if tolerance.changed(o, n):
                out.append(Restatement(snapshot.month, segment, kpi, snapshot.version, o, n, cause))
    return out


def restatement_frame(
    month: dt.date, items: Sequence[Restatement], status: str, run_id: str, detected_at: dt.datetime
) -> pl.DataFrame:
    rows = [
        {
            "month_start": month,
            "segment": r.segment,
            "kpi": r.kpi,
            "published_version": r.version,
            "published_value": r.old,
            "current_value": r.new,
            "delta": r.delta,
            "cause": r.cause,
            "status": status,
            "detected_at": detected_at,
            "run_id": run_id,
        }
        for r in items
    ]
    if not rows:
        return RESTATEMENT_SCHEMA.to_frame()
    return pl.DataFrame(rows, schema=RESTATEMENT_SCHEMA, orient="row")


def _make_read_only(path: Path) -> None:
    for p in path.iterdir():
        p.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    path.chmod(
        stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH
    )


def publish(
    lake: Lake,
    month: dt.date,
    kpis: pl.DataFrame,
    input_status: pl.DataFrame,
    report_html: str,
    manifest: dict,
) -> Snapshot:
    """Write ``v=<latest + 1>`` for ``month``: built aside, renamed into place, made read-only."""
    parent = month_dir(lake, month)
    parent.mkdir(parents=True, exist_ok=True)
    version = (versions(lake, month) or [0])[-1] + 1
    tmp = parent / f".v={version}.{uuid.uuid4().hex[:8]}.tmp"
    tmp.mkdir()
    try:
        kpis.write_parquet(tmp / "kpis.parquet")
        input_status.write_parquet(tmp / "input_status.parquet")
        (tmp / "report.html").write_text(report_html, encoding="utf-8")
        full = {**manifest, "month": f"{month:%Y-%m}", "version": version}
        (tmp / "manifest.json").write_text(json.dumps(full, indent=2, sort_keys=True, default=str))
        for f in tmp.iterdir():
            with open(f, "rb") as fh:
                os.fsync(fh.fileno())
        target = parent / f"v={version}"
        if target.exists():  # a concurrent publisher won: never overwrite a published version
            raise FileExistsError(f"{target} already exists")
        os.rename(tmp, target)
        _make_read_only(target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return Snapshot(month, version, target, kpis, full)
