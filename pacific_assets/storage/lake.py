"""The partitioned Parquet lake: one file per partition, replaced atomically.

Layout (docs/ARCHITECTURE.md "Storage: the lake")::

    <lake>/<table>/<partition_col>=<key>            -> symlink to the live version
    <lake>/<table>/_versions/<partition_col>=<key>.<version>/part-0.parquet

Why a symlink per partition: a writer puts a complete, uniquely named file in a new version
folder, then swaps the partition's symlink with ``os.replace`` (atomic on POSIX). A reader that
globs ``<table>/*=*/*.parquet`` (DuckDB) or lists the folder (Spark, which records file sizes when
it lists) sees either the old file or the new one, never half of one and never both; a scan that
already opened the old version keeps it, because the previous version is kept until the next swap.
``_versions`` starts with an underscore, so Spark and Hadoop treat it as hidden, and it is one
level too deep for the ``*=*/*.parquet`` glob.

Every file carries its partition column as data, so readers use ``hive_partitioning=false``
(DuckDB) / ``recursiveFileLookup`` (Spark) and no reader has to infer types from folder names.
Timestamps are written as microseconds, the only unit Spark 4 reads.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import polars as pl

from pacific_assets import settings
from pacific_assets.settings import DuckDBLimits
from pacific_assets.storage.lineage_record import LINEAGE_FILE, Lineage


class Recorder(Protocol):
    """What stamps a step's writes with their lineage (``pacific_assets.orchestration.lineage.Recorder``)."""

    def tracks(self, table: str) -> bool: ...

    def record(self, table: str, key: str, parquet: Path) -> Lineage: ...

    def published(self, record: Lineage, previous: Lineage | None) -> None: ...


#: Set to "after_tmp_write" to SIGKILL the writer once the new file is on disk but not yet live
#: (used by the fault tests to prove the previous partition survives).
FAULT_ENV = settings.FAULT_INJECT
#: A file naming one fault (same names as FAULT_ENV) that fires once, in the first process that
#: reaches that point: long-running services (the stack's code server, whose environment a test
#: cannot change per run) get a fault for exactly one run. Unset in production: no file is read.
FAULT_FILE_ENV = settings.FAULT_INJECT_FILE
#: Like "after_tmp_write" but the writer stops there (sleeps) until something kills it, so a test
#: can kill other processes while a partition is half written (the stack's end-to-end test).
PAUSE_AFTER_TMP_WRITE = "pause_after_tmp_write"


def fault_requested(name: str, table: str | None = None) -> bool:
    """Whether fault ``name`` is injected here: FAULT_ENV names it, or the FAULT_FILE_ENV file
    does (``<name>`` or ``<name> <table>``) and this process claims it first (renamed to
    ``<file>.fired``: it fires once)."""
    configured = settings.load()  # per call: a test sets the hooks per process
    if configured.fault_inject == name:
        return True
    path = configured.fault_inject_file
    if not path:
        return False
    try:
        if Path(path).read_text().strip() not in {name, f"{name} {table}"}:
            return False
        os.rename(path, f"{path}.fired")  # atomic: exactly one process claims it
    except OSError:
        return False
    return True


_KEY_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_.:-]{0,63}$")
_TABLE_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
UNPARTITIONED_KEY = "current"
PART_FILE = "part-0.parquet"
#: Old versions younger than this are kept for readers still scanning them.
GC_GRACE_SECONDS = 600.0


class LakeError(ValueError):
    """A request the lake refuses (bad table name, bad partition key, schema mismatch)."""


def check_table_name(table: str) -> str:
    if not _TABLE_RE.match(table):
        raise LakeError(f"table name {table!r} is not a lower_snake_case identifier")
    return table


def check_partition_key(key: str) -> str:
    """Refuse keys that could escape the table folder (``..``, ``/``) or are not plain tokens."""
    if not isinstance(key, str) or not _KEY_RE.match(key) or ".." in key:
        raise LakeError(
            f"partition key {key!r} is not allowed: use letters, digits, '-', '_', '.', ':' "
            "(no path separators, no '..')"
        )
    return key


def to_lake_dtypes(df: pl.DataFrame) -> pl.DataFrame:
    """Cast every datetime column to microseconds in UTC (Spark cannot read nanoseconds)."""
    casts = []
    for name, dtype in df.schema.items():
        if isinstance(dtype, pl.Datetime) and (dtype.time_unit != "us" or dtype.time_zone is None):
            col = pl.col(name).dt.cast_time_unit("us")
            col = (
                col.dt.replace_time_zone("UTC")
                if dtype.time_zone is None
                else col.dt.convert_time_zone("UTC")
            )
            casts.append(col)
    return df.with_columns(casts) if casts else df


@dataclass(frozen=True)
class PartitionWrite:
    table: str
    key: str
    rows: int
    path: Path


class Lake:
    """File-level access to one data root: landing zone, lake, truth and catalog paths."""

    def __init__(
        self,
        data_root: str | os.PathLike[str],
        recorder: Recorder | None = None,
        duckdb: DuckDBLimits | None = None,
    ):
        self.root = Path(data_root).expanduser().resolve()
        #: Set for the lake handed to a running asset step: stamps every partition the step
        #: writes with what it was built from (``pacific_assets.orchestration.lineage``).
        self.recorder = recorder
        #: The lake resource's DuckDB limits, applied to every compute connection over this lake
        #: (``storage.duck.connect``); None: the configured settings.
        self.duckdb = duckdb

    def recording(self, recorder: Recorder) -> Lake:
        """This data root, with every write of the recorder's assets stamped with lineage."""
        return Lake(self.root, recorder, self.duckdb)

    # -- locations -------------------------------------------------------------------------
    @property
    def landing(self) -> Path:
        """Written only by the source systems (or the simulator); never modified here."""
        return self.root / "landing"

    @property
    def lake(self) -> Path:
        return self.root / "lake"

    @property
    def truth(self) -> Path:
        """Simulator ground truth: tests and benchmarks only; no asset may read it."""
        return self.root / "truth"

    @property
    def catalog_path(self) -> Path:
        return self.root / "catalog.duckdb"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    def table_dir(self, table: str) -> Path:
        return self.lake / check_table_name(table)

    def partition_link(self, table: str, partition_col: str, key: str) -> Path:
        return (
            self.table_dir(table) / f"{check_table_name(partition_col)}={check_partition_key(key)}"
        )

    # -- reading ---------------------------------------------------------------------------
    def tables(self) -> list[str]:
        """Tables that have at least one live partition (a view over an empty glob fails)."""
        if not self.lake.exists():
            return []
        return sorted(
            d.name
            for d in self.lake.iterdir()
            if d.is_dir() and _TABLE_RE.match(d.name) and any(self._live_links(d))
        )

    def _live_names(self, table_dir: Path) -> list[str]:
        """Names of the partition links (``*=*``) whose version exists: one directory listing
        and a stat per link, no pathlib (``glob`` plus ``is_symlink`` and ``exists`` cost three
        calls and pathlib's overhead per link: seconds per SLA tick at ten years of days)."""
        with os.scandir(table_dir) as listing:
            links = [e.name for e in listing if "=" in e.name and e.is_symlink()]
        return [n for n in links if os.path.exists(os.path.join(table_dir, n))]

    def _live_links(self, table_dir: Path) -> Iterator[Path]:
        return (table_dir / name for name in self._live_names(table_dir))

    def partition_keys(self, table: str) -> list[str]:
        d = self.table_dir(table)
        return sorted(n.split("=", 1)[1] for n in self._live_names(d)) if d.exists() else []

    def partition_files(self, table: str, keys: Sequence[str] | None = None) -> list[str]:
        """Absolute paths of the live files for ``keys`` (all partitions when None); missing skipped."""
        d = self.table_dir(table)
        if not d.exists():
            return []
        wanted = None if keys is None else {check_partition_key(k) for k in keys}
        files = []
        for name in sorted(self._live_names(d)):
            if wanted is None or name.split("=", 1)[1] in wanted:
                files.extend(str(f) for f in sorted((d / name).resolve().glob("*.parquet")))
        return files

    def glob(self, table: str) -> str:
        """The glob every reader uses for a table: live partitions only."""
        return str(self.table_dir(table) / "*=*" / "*.parquet")

    def read(self, table: str, keys: Sequence[str] | None = None) -> pl.DataFrame:
        """Small-table convenience read into polars (empty frame when nothing is there)."""
        files = self.partition_files(table, keys)
        if not files:
            return pl.DataFrame()
        return pl.read_parquet(files, hive_partitioning=False, missing_columns="insert")

    # -- writing ---------------------------------------------------------------------------
    def write_partition(
        self, table: str, partition_col: str, key: str, df: pl.DataFrame, *, _checked: bool = False
    ) -> PartitionWrite:
        """Replace one partition atomically; an empty frame writes an empty (schema-only) file."""
        df = to_lake_dtypes(df)
        if not _checked:
            self._check_schema(table, df.schema)
        with self.partition_writer(table, partition_col, key, check_schema=False) as tmp:
            df.write_parquet(tmp, compression="zstd", statistics=True)
        return PartitionWrite(table, key, df.height, tmp.with_name(PART_FILE))

    @contextmanager
    def partition_writer(
        self, table: str, partition_col: str, key: str, *, check_schema: bool = True
    ) -> Iterator[Path]:
        """Yield a temporary path for one partition's Parquet file; on a clean exit it becomes
        ``<version>/part-0.parquet`` and the partition's link is swapped to it.

        For writers that stream (DuckDB ``COPY ... TO``) instead of handing over a frame: the
        rows never pass through Python, so a day of any size costs no process memory beyond the
        engine's own limit. The file's schema is checked like a frame's; on an error the version
        folder is removed and the previous partition stays live.
        """
        link = self.partition_link(table, partition_col, key)
        versions = link.parent / "_versions"
        versions.mkdir(parents=True, exist_ok=True)
        version = f"{link.name}.{time.time_ns():d}-{uuid.uuid4().hex[:8]}"
        vdir = versions / version
        vdir.mkdir()
        target = vdir / PART_FILE
        tmp = vdir / f".{PART_FILE}.tmp"
        try:
            yield tmp
            if not tmp.exists():
                raise LakeError(f"{table}: partition {key!r}: the writer produced no file")
            if check_schema:
                self._check_schema(table, pl.read_parquet_schema(tmp))
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
        except BaseException:
            shutil.rmtree(vdir, ignore_errors=True)
            raise
        os.replace(tmp, target)
        record = previous = None
        if self.recorder is not None and self.recorder.tracks(table):
            try:
                record = self.recorder.record(table, key, target)
                _write_durably(vdir / LINEAGE_FILE, record.to_json())
                previous = _read_lineage(link)
            except BaseException:
                shutil.rmtree(vdir, ignore_errors=True)
                raise
        if fault_requested("after_tmp_write", table):
            os.kill(os.getpid(), signal.SIGKILL)
        if fault_requested(PAUSE_AFTER_TMP_WRITE, table):
            while True:  # until killed: the file is durable, the partition not yet live
                time.sleep(1)
        # The temporary link's name must not match the readers' ``*=*`` glob.
        new_link = link.parent / f".tmp-link-{uuid.uuid4().hex}"
        os.symlink(os.path.join("_versions", version), new_link)
        os.replace(new_link, link)
        _fsync_dir(link.parent)
        self._gc_versions(link)
        if record is not None:
            self.recorder.published(record, previous)

    def write_partitions(
        self,
        table: str,
        partition_col: str,
        keys: Sequence[str],
        df: pl.DataFrame,
    ) -> list[PartitionWrite]:
        """Split ``df`` on ``partition_col`` and replace each of ``keys`` (empty ones included).

        A range run writes every partition it was asked for, so an empty day is a recorded fact
        ("nothing happened") rather than a missing partition. Rows whose key is outside ``keys``
        are refused: they would silently vanish otherwise.
        """
        if partition_col not in df.columns:
            raise LakeError(f"{table}: frame has no partition column {partition_col!r}")
        key_col = pl.col(partition_col).cast(pl.String)
        present = set(df.select(key_col.unique()).to_series().drop_nulls().to_list())
        outside = present - set(keys)
        if outside or df[partition_col].null_count():
            raise LakeError(
                f"{table}: rows with {partition_col} outside the requested partitions: "
                f"{sorted(outside)[:5]}{' and nulls' if df[partition_col].null_count() else ''}"
            )
        by_key = {
            str(k[0]): part for k, part in df.partition_by(partition_col, as_dict=True).items()
        }
        empty = to_lake_dtypes(df.clear())
        self._check_schema(table, empty.schema)  # once per range, not once per partition
        return [
            self.write_partition(table, partition_col, k, by_key.get(k, empty), _checked=True)
            for k in keys
        ]

    def write_table(self, table: str, df: pl.DataFrame) -> PartitionWrite:
        """An unpartitioned table is one partition named ``snapshot=current``."""
        return self.write_partition(table, "snapshot", UNPARTITIONED_KEY, df)

    def schema(self, table: str) -> pl.Schema | None:
        """The table's schema, read from one live partition (None for a new table)."""
        d = self.table_dir(table)
        if not d.exists():
            return None
        for link in self._live_links(d):
            for f in link.resolve().glob("*.parquet"):
                return pl.read_parquet_schema(f)
        return None

    def _check_schema(self, table: str, new: pl.Schema) -> None:
        """Partitions of one table must share a schema, or Spark and DuckDB disagree on reads."""
        existing = self.schema(table)
        if existing is None:
            return
        for name in sorted(set(existing) | set(new)):
            old_t, new_t = existing.get(name), new.get(name)
            if old_t != new_t and not (new_t == pl.Null or old_t == pl.Null):
                raise LakeError(
                    f"{table}: column {name!r} would change from {old_t} to {new_t}; "
                    "partitions of a table share one schema (rebuild the whole table to change it)"
                )

    def _gc_versions(self, link: Path) -> None:
        """Drop old versions: keep the live one, the one before it, and any younger than the grace
        period, so a scan that listed the table a moment ago can still open what it listed."""
        live = os.readlink(link).rsplit("/", 1)[-1]
        older = sorted(
            p
            for p in (link.parent / "_versions").glob(f"{link.name}.*")
            if p.name != live and _version_ns(p) < _version_ns_str(live)
        )
        cutoff = time.time_ns() - int(GC_GRACE_SECONDS * 1e9)
        for old in older[:-1]:
            if _version_ns(old) < cutoff:
                shutil.rmtree(old, ignore_errors=True)


def _version_ns(p: Path) -> int:
    return _version_ns_str(p.name)


def _version_ns_str(name: str) -> int:
    try:
        return int(name.rsplit(".", 1)[-1].split("-", 1)[0])
    except ValueError:
        return 0


def _write_durably(path: Path, text: str) -> None:
    with open(path, "w") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())


def _read_lineage(link: Path) -> Lineage | None:
    try:
        return Lineage.from_json((link.resolve() / LINEAGE_FILE).read_text())
    except (FileNotFoundError, OSError, ValueError, TypeError):
        return None


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
