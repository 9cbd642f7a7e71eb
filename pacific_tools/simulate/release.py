"""Release a simulated landing zone into a live data root as simulated time advances.

The simulator writes every file at once; a replay needs them to appear one by one, in the order
and at the times of ``truth/landing_schedule.parquet``. ``LandingRelease`` copies each scheduled
file into ``<target>/landing`` once its ``landed_at`` has passed:

- **atomically**: written under a hidden temporary name in the destination folder (readers skip
  names starting with ``.``), fsynced, then ``os.link``-ed to its final name (a link never
  replaces an existing file), so a reader sees the whole file or none of it;
- with its **mtime set to its landed_at** (before the link, so the final name never shows
  another time);
- **never modifying** a file already in the target (a file with the same name and another size
  is a ``ReleaseConflict``);
- **idempotently and without hidden state**: what is released is read from the target folder, so
  a re-run (or a new process after a crash) releases nothing twice. (An instance remembers how far
  it has already verified the schedule, so stepping through a replay costs O(files) in total; a
  new instance starts by looking at the target.)

The clickstream manifest (``clickstream/_manifest.jsonl``) is the one file that grows: as the
ingestion contract says, a batch's line is appended (and fsynced) right after the batch file is
durable, under the ingestion lock (the same ``.ingest.lock`` as
``engagement.landing.ClickLanding.lock``), so an ingestion run never registers a half-released
batch. Lines are the simulator's own bytes, in batch order, so after the horizon the target
landing equals the source landing byte for byte.
"""

from __future__ import annotations

import bisect
import contextlib
import datetime as dt
import fcntl
import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import polars as pl

from pacific_assets.contracts import CLICKS
from pacific_tools.simulate.schedule import KIND_BATCH, KIND_MANIFEST, read_landing_schedule

MANIFEST_PATH = f"{CLICKS.path}/_manifest.jsonl"
#: the clickstream ingestion lock file (engagement.landing.ClickLanding.lock): one writer of
#: batches and manifest lines at a time
INGEST_LOCK = f"{CLICKS.path}/.ingest.lock"
TMP_SUFFIX = ".release-tmp"
_BATCH_FIELD = re.compile(rb'"batch":\s*"([^"]+)"')
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


class ReleaseConflict(RuntimeError):
    """The target already holds a different file under a scheduled name (never overwritten)."""


def _utc(t: dt.datetime) -> dt.datetime:
    if t.tzinfo is None:
        raise ValueError(f"{t!r} has no time zone: give an aware datetime (UTC)")
    return t.astimezone(dt.UTC)


def _ns(t: dt.datetime) -> int:
    return (t - _EPOCH) // dt.timedelta(microseconds=1) * 1000


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _mkdirs(folder: Path) -> None:
    """Create ``folder`` and its missing parents, each made durable in its parent."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for d in reversed(missing):
        d.mkdir(exist_ok=True)
        _fsync_dir(d.parent)


def _drop_torn_tail(path: Path) -> None:
    """Cut a torn last manifest line (a crash mid-append), which readers do not count as landed,
    so the next line is not glued to it."""
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        with open(path, "r+b") as fh:
            fh.truncate(data.rfind(b"\n") + 1)
            fh.flush()
            os.fsync(fh.fileno())


class LandingRelease:
    """Lands ``<source_root>/landing`` into ``<target_root>/landing`` on the simulator's schedule.

    ``source_root`` is a fully simulated data root (landing/ and truth/); only landing/ is
    released. Times are aware datetimes (UTC).
    """

    def __init__(self, source_root: str | os.PathLike[str], target_root: str | os.PathLike[str]):
        self.source = Path(source_root).expanduser().resolve()
        self.target = Path(target_root).expanduser().resolve()
        self.source_landing = self.source / "landing"
        self.target_landing = self.target / "landing"
        if self.source_landing == self.target_landing:
            raise ValueError("source and target are the same landing zone")
        #: one row per file: path (relative to landing/), source, landed_at, kind
        self.schedule: pl.DataFrame = read_landing_schedule(self.source)
        self._rows: list[dict] = self.schedule.to_dicts()
        self._times: list[dt.datetime] = [r["landed_at"] for r in self._rows]
        self._manifest_lines: dict[str, bytes] = {}
        manifest = self.source_landing / MANIFEST_PATH
        if manifest.exists():
            for line in manifest.read_bytes().splitlines(keepends=True):
                self._manifest_lines[json.loads(line)["batch"]] = line
        #: schedule rows [0, _verified) are known to be in the target (checked by this instance)
        self._verified = 0

    # -- what is there ------------------------------------------------------------------------
    def _target_batches(self) -> set[str]:
        """Batch names with a complete line in the target manifest (a torn line does not count)."""
        path = self.target_landing / MANIFEST_PATH
        if not path.exists():
            return set()
        data = path.read_bytes()
        data = data[: data.rfind(b"\n") + 1]
        return {m.decode() for m in _BATCH_FIELD.findall(data)}

    def _is_released(self, row: dict, batches: set[str]) -> bool:
        kind, path = row["kind"], row["path"]
        if kind == KIND_MANIFEST:
            return set(self._manifest_lines) <= batches
        landed = os.path.exists(self.target_landing / path)
        if kind == KIND_BATCH and Path(path).name in self._manifest_lines:
            # a batch is landed once its manifest line is (ingestion contract)
            return landed and Path(path).name in batches
        return landed

    def pending(self) -> pl.DataFrame:
        """Scheduled files not yet (completely) in the target, sorted by (landed_at, path)."""
        batches = self._target_batches()
        keep = [not self._is_released(r, batches) for r in self._rows]
        return self.schedule.filter(pl.Series(keep, dtype=pl.Boolean))

    def next_landing_after(self, t: dt.datetime) -> dt.datetime | None:
        """The first scheduled landing time strictly after ``t`` (None after the last one): where
        a replay advances its clock to next."""
        i = bisect.bisect_right(self._times, _utc(t))
        return self._times[i] if i < len(self._times) else None

    # -- landing -------------------------------------------------------------------------------
    def release_until(self, t: dt.datetime) -> list[dict]:
        """Land every scheduled file with ``landed_at <= t`` that is not in the target yet.

        Returns the schedule rows (path, source, landed_at, kind) released by this call, in
        landing order; the manifest's row comes when its last line is appended. Calling it again
        with the same or an earlier ``t`` releases nothing.
        """
        due = bisect.bisect_right(self._times, _utc(t))
        rows = self._rows[self._verified : due]
        if not rows:
            return []
        released: list[dict] = []
        with self._click_lock(any(r["kind"] == KIND_BATCH for r in rows)):
            batches = self._target_batches()
            manifest_was_complete = set(self._manifest_lines) <= batches
            for row in rows:
                if row["kind"] == KIND_MANIFEST:
                    continue  # grows with the batches; done below
                if self._land(row):
                    released.append(row)
                if row["kind"] == KIND_BATCH:
                    self._register(row, batches)
            complete = set(self._manifest_lines) <= batches
            for row in rows:
                if row["kind"] == KIND_MANIFEST and complete and not manifest_was_complete:
                    released.append(row)
        self._verified = due
        return released

    @contextlib.contextmanager
    def _click_lock(self, needed: bool) -> Iterator[None]:
        """Hold the clickstream ingestion lock while batches and manifest lines are landed."""
        if not needed:
            yield
            return
        lock = self.target_landing / INGEST_LOCK
        _mkdirs(lock.parent)
        with open(lock, "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _land(self, row: dict) -> bool:
        """Copy one file into the target; False when it is already there (unchanged)."""
        src = self.source_landing / row["path"]
        dst = self.target_landing / row["path"]
        if dst.exists():
            self._check_same(src, dst)
            return False
        _mkdirs(dst.parent)
        tmp = dst.parent / f".{dst.name}{TMP_SUFFIX}"
        tmp.unlink(missing_ok=True)  # left by a crash: never visible to readers (hidden name)
        with open(src, "rb") as fin, open(tmp, "xb") as fout:
            shutil.copyfileobj(fin, fout, 1 << 20)
            fout.flush()
            os.fsync(fout.fileno())
        ns = _ns(row["landed_at"])
        os.utime(tmp, ns=(ns, ns))
        try:
            os.link(tmp, dst)  # refuses to replace: a landed file is never modified
        except FileExistsError:
            tmp.unlink()
            self._check_same(src, dst)  # someone landed it meanwhile
            return False
        tmp.unlink()
        _fsync_dir(dst.parent)
        return True

    @staticmethod
    def _check_same(src: Path, dst: Path) -> None:
        if src.stat().st_size != dst.stat().st_size:
            raise ReleaseConflict(
                f"{dst} exists with {dst.stat().st_size} bytes, the schedule's file has "
                f"{src.stat().st_size}: a landed file is never replaced"
            )

    def _register(self, row: dict, batches: set[str]) -> None:
        """Append a released batch's manifest line (after the file is durable), once."""
        name = Path(row["path"]).name
        line = self._manifest_lines.get(name)
        if line is None or name in batches:
            return
        path = self.target_landing / MANIFEST_PATH
        new = not path.exists()
        if not new:
            _drop_torn_tail(path)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)
        if new:
            _fsync_dir(path.parent)
        ns = _ns(row["landed_at"])
        os.utime(path, ns=(ns, ns))
        batches.add(name)


__all__ = ["LandingRelease", "ReleaseConflict"]
