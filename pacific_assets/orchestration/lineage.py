"""What every lake partition was built from, so that staleness is a fact, not a cursor.

Each partition version in the lake carries a ``lineage.json`` next to its Parquet file, written
before the version goes live (so it travels with the data, atomically):

- ``content``: a digest of the rows (order-independent, plus the schema) — the partition's data
  version. A rebuild that produces the same rows has the same content, so nothing downstream of
  it is stale.
- ``inputs``: a digest of everything the partition was built from, captured when its step
  *started* (before it read anything): the content of every upstream partition it reads (per the
  rules below), the fingerprint of the landed files it staged, and the clock facts it depends on.
- ``built_at``, ``run_id``, ``rows``, a per-input summary, and for unpartitioned state tables the
  ``slices`` their daily children read (below).

A partition is **stale** when the digest of its inputs *now* differs from the one it recorded;
**missing** when the lake has no live version. Both are computed from the lake alone (and the
landing zone and the clock), so a fresh or restored Dagster instance, or a reset sensor cursor,
sees exactly what the lake holds (docs/operations.md, "State, not cursors").

How partition *k* of an asset reads another table is a :class:`Read`, declared on the asset as
metadata ``pacific/reads`` where it differs from what the Dagster dependency says (the default:
the same period, or the declared ``TimeWindowPartitionMapping`` offsets; everything for
``AllPartitionMapping`` and unpartitioned upstreams):

==================  ===============================================================================
rule                partition *k* (period ``[start, end)``) reads
==================  ===============================================================================
``window``          upstream partitions whose key falls in the period, shifted by ``offset``
                    periods of the asset's own grid and ``days_before`` days
``preceding``       the upstream partitions of the ``days_before`` days before the period starts
                    (the pre-period of the units assigned on day *k*)
``through``         every upstream partition before ``end`` (state that carries forward: the user
                    directory, experiment assignments)
``all``             every upstream partition
``weekdays``        the same weekday in the previous ``weeks`` weeks and *k* itself (the outage
                    baseline of engagement_completeness)
``slice``           the slice ``name`` of an unpartitioned upstream state table, for key *k*
                    (e.g. the invoice lines in service on day *k*)
``landing``         the files landed in the source's folder for *k* (staging)
``clicks``          the landed click batches holding events of date *k*
``settled``         whether *k* ended more than ``hours`` hours ago (verdicts judged after an SLA)
==================  ===============================================================================
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import hashlib
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import ClassVar

import dagster as dg
import duckdb

from pacific_assets.contracts import SOURCES
from pacific_assets.orchestration import clock
from pacific_assets.orchestration.dagster_compat import (
    data_version_tags,
    event_data_version,
    provenance_tags,
    set_step_data_version,
)
from pacific_assets.storage.duck import connect
from pacific_assets.storage.lineage_record import LINEAGE_FILE, MISSING, Lineage

#: Re-exported: the record is written by the lake (storage) and read here and by callers.
__all__ = ["LINEAGE_FILE", "MISSING", "Lineage"]

READS_KEY = "pacific/reads"
#: Inputs an asset is built without, reporting their absence in its own rows (the reconciliation's
#: ``no_filing``): a missing one never makes its partitions unbuildable (``SourceData``).
BUILDS_WITHOUT_KEY = "pacific/builds_without"
#: Metadata on a raw_<source> external asset: which landed source it stands for.
LANDING_SOURCE_KEY = "pacific/landing_source"
UNPARTITIONED = "current"
#: Metadata key of a partition's content digest on its materializations (also its Dagster data
#: version, ``dagster/data_version``: docs/ARCHITECTURE.md "Data versions in the UI").
DATA_VERSION_KEY = "pacific/data_version"
#: Metadata key marking a materialization that reports a version the lake already held (``make
#: sync``, or a range step's per-partition version): not a build, so counts of builds skip it.
REPORTED_BY_KEY = "pacific/reported_by"


# -- what the pipelines and the code location hand in ---------------------------------------------
#: Batch landings read by event date (rule ``clicks``): landing root -> {event date: batches
#: holding its events}. Registered by the pipeline whose asset declares the rule, so this module
#: knows no pipeline (``engagement.landing``).
_BATCH_LANDINGS: dict[str, Callable[[Path], Mapping[str, Sequence[str]]]] = {}
#: The code location's asset graph, handed in by ``pacific_assets.definitions`` (it imports this
#: module, so this module never imports it): the rules of assets a run only knows as stubs.
_project_graph_source: Callable[[], object] | None = None


def register_batch_landing(
    rule: str, batches_by_date: Callable[[Path], Mapping[str, Sequence[str]]]
) -> None:
    """Make a batch landing readable by lineage rule ``rule`` (today only ``clicks``)."""
    _BATCH_LANDINGS[rule] = batches_by_date


def use_project_graph(source: Callable[[], object]) -> None:
    """Hand in the code location's asset graph (a callable: resolved on first use only)."""
    global _project_graph_source
    _project_graph_source = source


# -- digests -----------------------------------------------------------------------------------
def digest(parts: Iterable[str]) -> str:
    h = hashlib.blake2b(digest_size=12)
    for p in parts:
        h.update(p.encode())
        h.update(b"\x1f")
    return h.hexdigest()


_local = threading.local()


def _duck() -> duckdb.DuckDBPyConnection:
    """This thread's connection for digests, with the configured DuckDB limits: a range run
    digests every partition it wrote right after writing it, and one thread made that a serial
    tail of the step (0.8-1.0 s against 0.4 s with two threads for 6 M clicks; the sum is exact,
    so the digest does not depend on how many threads read the file)."""
    con = getattr(_local, "con", None)
    if con is None:
        # held open for the thread's life (the stack is never closed): one connection per thread
        _local.hold = ExitStack()
        con = _local.con = _local.hold.enter_context(connect())
    return con


def content_digest(parquet: str | os.PathLike[str]) -> tuple[str, int]:
    """(digest, rows) of a Parquet file's rows, independent of row order and row groups."""
    con = _duck()
    # = string_agg(name || ':' || type, ',' ORDER BY name) in SQL (a NULL type, the root, drops
    # out), joined here: DuckDB's ordered aggregate cost 4 ms a file, 7,000 files in a demo
    fields = con.execute("SELECT name, type FROM parquet_schema(?)", [str(parquet)]).fetchall()
    schema = ",".join(f"{n}:{t}" for n, t in sorted(f for f in fields if None not in f))
    rows, total = con.execute(
        "SELECT count(*), coalesce(sum(hash(t))::HUGEINT, 0)::VARCHAR FROM read_parquet(?, hive_partitioning = false) t",
        [str(parquet)],
    ).fetchone()
    return digest([schema, str(rows), total]), int(rows)


# -- records: the lineage.json of a partition version lives with the lake (storage) -------------
@dataclass(frozen=True)
class Read:
    """How one partition reads one upstream table (see the module docstring for the rules)."""

    table: str
    rule: str = "window"
    offset: int = 0
    days_before: int = 0
    weeks: int = 0
    name: str = ""
    hours: int = 0

    def as_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if k in ("table", "rule") or v not in (0, "")}


def reads_metadata(*reads: Read) -> dict[str, dg.MetadataValue]:
    """Asset metadata declaring how the asset reads its inputs (shown in the UI)."""
    return {READS_KEY: dg.MetadataValue.json([r.as_dict() for r in reads])}


def builds_without_metadata(*tables: str) -> dict[str, dg.MetadataValue]:
    """Asset metadata naming inputs whose absence the asset reports itself (shown in the UI)."""
    return {BUILDS_WITHOUT_KEY: dg.MetadataValue.json(sorted(tables))}


# -- grids ---------------------------------------------------------------------------------------
def grid_of(pdef: dg.PartitionsDefinition | None) -> str:
    """ "daily", "weekly", "monthly" or "none" (every project grid is one of these)."""
    if pdef is None:
        return "none"
    cron = getattr(pdef, "cron_schedule", "")
    _minute, _hour, dom, _month, dow = cron.split()
    if dow != "*":
        return "weekly"
    return "monthly" if dom != "*" else "daily"


@functools.lru_cache(maxsize=64)
def keys_at(pdef: dg.PartitionsDefinition, now: dt.datetime) -> tuple[str, ...]:
    """The keys of ``pdef`` at ``now`` (Dagster's ``get_partition_keys``), computed once per grid
    and instant: a tick asks for them for every asset of a grid and every SLA target, and
    Dagster walks the grid from its first day each time (~30 ms at ten years of days)."""
    return tuple(pdef.get_partition_keys(current_time=now))


def _add_months(d: dt.date, n: int) -> dt.date:
    m = d.month - 1 + n
    return dt.date(d.year + m // 12, m % 12 + 1, 1)


def shift(grid: str, start: dt.date, n: int) -> dt.date:
    if grid == "daily":
        return start + dt.timedelta(days=n)
    if grid == "weekly":
        return start + dt.timedelta(weeks=n)
    return _add_months(start, n)


def period(grid: str, key: str) -> tuple[dt.date, dt.date]:
    start = dt.date.fromisoformat(key)
    return start, shift(grid, start, 1)


# -- what the lake and the landing zone hold now -----------------------------------------------
class LakeState:
    """A read-only view of the lake's live partitions and their lineage, for one decision.

    Reading is cheap: a readlink per partition and a JSON read per *version* (versions never
    change, so they are cached for the life of the process).
    """

    _cache: ClassVar[dict[str, Lineage | None]] = {}
    _cache_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, lake, now: dt.datetime | None = None):
        self.lake = lake
        self.now = now or clock.now()
        self._tables: dict[str, dict[str, tuple[str, Lineage | None]]] = {}
        self._landing: dict[str, dict[str, tuple[str, int]]] = {}
        self._clicks: dict[str, tuple[str, int]] | None = None
        self._keys: dict[str, list[str]] = {}
        self._prefix: dict[str, list[str]] = {}

    # lake partitions
    def partitions(self, table: str) -> dict[str, tuple[str, Lineage | None]]:
        """key -> (version name, lineage or None for versions written without one)."""
        if table not in self._tables:
            # plain os calls, no pathlib: at ten years of history a tick lists ~10^5 links
            out: dict[str, tuple[str, Lineage | None]] = {}
            tdir = os.path.join(self.lake.lake, table)
            if os.path.isdir(tdir):
                with os.scandir(tdir) as listing:
                    for entry in listing:
                        name = entry.name
                        if "=" not in name or not entry.is_symlink():
                            continue
                        target = os.readlink(entry.path)
                        vdir = os.path.join(tdir, target)
                        if not os.path.exists(vdir):
                            continue
                        version = target.rsplit("/", 1)[-1]
                        out[name.split("=", 1)[1]] = (version, self._lineage(vdir))
            self._tables[table] = out
        return self._tables[table]

    def _lineage(self, vdir: str) -> Lineage | None:
        path = os.path.join(vdir, LINEAGE_FILE)
        with self._cache_lock:
            if path in self._cache:
                return self._cache[path]
        try:
            with open(path, encoding="utf-8") as fh:
                record = Lineage.from_json(fh.read())
        except (FileNotFoundError, ValueError, TypeError):
            record = None
        with self._cache_lock:
            self._cache[path] = record
        return record

    def content(self, table: str, key: str) -> str:
        version, record = self.partitions(table).get(key, (None, None))
        if version is None:
            return MISSING
        return record.content if record else f"v:{version}"

    def lineage(self, table: str, key: str) -> Lineage | None:
        return self.partitions(table).get(key, (None, None))[1]

    def keys(self, table: str) -> list[str]:
        """The live keys of ``table``, in order."""
        if table not in self._keys:
            self._keys[table] = sorted(self.partitions(table))
        return self._keys[table]

    def keys_between(self, table: str, lo: str, hi: str) -> list[str]:
        """The live keys ``k`` of ``table`` with ``lo <= k < hi``, in order (a bisection: a
        window read of every partition of a long history must not scan the whole table)."""
        keys = self.keys(table)
        return keys[bisect.bisect_left(keys, lo) : bisect.bisect_left(keys, hi)]

    def _sorted_keys(self, table: str) -> tuple[list[str], list[str]]:
        """Live keys in order, and the running digest of their contents (for ``through``)."""
        keys = self.keys(table)
        if table not in self._prefix:
            running, acc = [], ""
            for k in keys:
                acc = digest([acc, k, self.content(table, k)])
                running.append(acc)
            self._prefix[table] = running
        return keys, self._prefix[table]

    # landing
    def landing(self, source: str) -> dict[str, tuple[str, int]]:
        """Partition key -> (fingerprint of the landed files, file count) for a staged source."""
        if source not in self._landing:
            spec = SOURCES[source]
            base = self.lake.landing / spec.path
            out: dict[str, tuple[str, int]] = {}
            if spec.grain == "none":
                if base.is_file():
                    st = base.stat()
                    out[UNPARTITIONED] = (digest([base.name, str(st.st_size)]), 1)
            elif base.is_dir():
                for folder in os.scandir(base):
                    if not folder.is_dir() or "=" not in folder.name:
                        continue
                    value = folder.name.split("=", 1)[1]
                    key = value if spec.grain == "daily" else f"{value}-01"
                    files = sorted(
                        (f.name, f.stat().st_size)
                        for f in os.scandir(folder.path)
                        if f.is_file() and not f.name.startswith(".")
                    )
                    out[key] = (digest(f"{n}:{s}" for n, s in files), len(files))
            self._landing[source] = out
        return self._landing[source]

    def horizon(self) -> dt.date | None:
        """The end (exclusive) of the days the sources have delivered: the day after the newest
        folder any daily source landed (an export day, or a click batch's ingest day). None when
        no daily source has landed anything (a lake built by hand, as unit tests do)."""
        if not hasattr(self, "_horizon"):
            newest = max(
                (self._newest_folder(n) for n, s in SOURCES.items() if s.grain == "daily"),
                default="",
            )
            self._horizon = dt.date.fromisoformat(newest) + dt.timedelta(days=1) if newest else None
        return self._horizon

    def _newest_folder(self, source: str) -> str:
        """The newest key a daily source landed a folder for: ``max(self.landing(source))``
        from the folder names alone (fingerprinting every folder of years of landings, to keep
        only the newest name, cost a second a tick)."""
        if source in self._landing:
            return max(self._landing[source], default="")
        base = os.path.join(self.lake.landing, SOURCES[source].path)
        newest = ""
        if os.path.isdir(base):
            with os.scandir(base) as listing:
                for entry in listing:
                    if "=" in entry.name and entry.is_dir():
                        newest = max(newest, entry.name.split("=", 1)[1])
        return newest

    def clicks(self) -> dict[str, tuple[str, int]]:
        """Event date -> (fingerprint of the batches holding its events, batch count)."""
        if self._clicks is None:
            batches_by_date = _BATCH_LANDINGS.get("clicks")
            if batches_by_date is None:
                raise LookupError(
                    "lineage rule 'clicks' needs the click landing's reader: it is registered by "
                    "pacific_assets.engagement.landing, which declares the rule's asset"
                )
            self._clicks = {
                d: (digest(sorted(b)), len(b))
                for d, b in batches_by_date(self.lake.landing).items()
            }
        return self._clicks


# -- the inputs of a partition -------------------------------------------------------------------
@dataclass(frozen=True)
class AssetLineage:
    """What the lineage rules need to know about one asset."""

    table: str
    grid: str
    reads: tuple[Read, ...]
    #: inputs whose absence the asset reports itself (``BUILDS_WITHOUT_KEY``)
    builds_without: tuple[str, ...] = ()

    def inputs(self, state: LakeState, key: str) -> tuple[str, dict[str, str]]:
        """(digest of every input of partition ``key`` as it is now, per-input summary)."""
        digest_, summary, _ = self.inputs_detail(state, key)
        return digest_, summary

    def inputs_digest(self, state: LakeState, key: str) -> str:
        """The digest of ``inputs`` alone: what a staleness check compares (no summary)."""
        start, end = period(self.grid, key) if self.grid != "none" else (None, None)
        parts = [self.table, key]
        parts.extend(_read_digest(r, state, self.grid, key, start, end)[0] for r in self.reads)
        return digest(parts)

    def inputs_detail(
        self, state: LakeState, key: str
    ) -> tuple[str, dict[str, str], dict[str, str]]:
        """The inputs digest, the per-input summary and each input's own digest."""
        parts: list[str] = [self.table, key]
        summary: dict[str, str] = {}
        versions: dict[str, str] = {}
        start, end = period(self.grid, key) if self.grid != "none" else (None, None)
        for read in self.reads:
            tag, note = _read_digest(read, state, self.grid, key, start, end)
            parts.append(tag)
            summary[_label(read)] = note
            versions[_label(read)] = digest([tag])
        return digest(parts), summary, versions


def read_bounds(read: Read, grid: str, start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """``[lo, hi)``: the upstream keys a ``window`` or ``preceding`` read of period
    ``[start, end)`` covers (one place, so digests, blockers and source data agree)."""
    if read.rule == "preceding":
        return start - dt.timedelta(days=read.days_before), start
    return shift(grid, start, read.offset) - dt.timedelta(days=read.days_before), end


def _label(read: Read) -> str:
    if read.rule in ("landing", "clicks", "settled"):
        return f"{read.rule}:{read.table}" if read.table else read.rule
    return read.table


def _read_digest(read: Read, state: LakeState, grid: str, key: str, start, end) -> tuple[str, str]:
    rule = read.rule
    if rule == "landing":
        fp, n = state.landing(read.table).get(key, (MISSING, 0))
        return f"landing:{read.table}:{fp}", f"{n} file(s)"
    if rule == "clicks":
        fp, n = state.clicks().get(key, (MISSING, 0))
        return f"clicks:{fp}", f"{n} batch(es)"
    if rule == "settled":
        settled = state.now >= dt.datetime.combine(end, dt.time(), dt.UTC) + dt.timedelta(
            hours=read.hours
        )
        return f"settled:{read.hours}:{settled}", "settled" if settled else "provisional"
    if rule == "slice":
        record = state.lineage(read.table, UNPARTITIONED)
        content = state.content(read.table, UNPARTITIONED)
        if record is None or read.name not in record.slices:
            return f"slice:{read.table}:{content}", f"whole table {content[:8]}"
        value = record.slice_value(read.name, key)
        return f"slice:{read.table}:{read.name}:{value}", f"slice {read.name}"
    if rule == "all" or grid == "none":
        keys, running = state._sorted_keys(read.table)
        return (
            f"all:{read.table}:{running[-1] if running else MISSING}",
            f"{len(keys)} partition(s)",
        )
    if rule == "through":
        keys, running = state._sorted_keys(read.table)
        end_key = end.isoformat()
        n = bisect.bisect_left(keys, end_key)
        return f"through:{read.table}:{running[n - 1] if n else MISSING}", f"{n} partition(s)"
    if rule == "weekdays":
        wanted = [(start - dt.timedelta(weeks=w)).isoformat() for w in range(read.weeks + 1)]
        parts = [f"{k}={state.content(read.table, k)}" for k in wanted]
        return f"weekdays:{read.table}:{digest(parts)}", f"{len(wanted)} day(s)"
    if rule in ("window", "preceding"):
        lo, hi = read_bounds(read, grid, start, end)
        keys = state.keys_between(read.table, lo.isoformat(), hi.isoformat())
        parts = [f"{k}={state.content(read.table, k)}" for k in keys]
        return f"{rule}:{read.table}:{digest(parts)}", f"{len(keys)} partition(s)"
    raise ValueError(f"unknown lineage rule {rule!r} for input {read.table}")


# -- not landed is not missing ------------------------------------------------------------------
class SourceData:
    """Whether a partition can be built from something: *not landed is not missing*.

    A partition is built only from data a source delivered (docs/operations.md §3, "Not landed is
    not missing"). ``why_not`` answers None when it can be, else the reason it cannot:

    - a **landed source** (rules ``landing``, ``clicks``): a folder (batch) for the period is
      there; or the period lies inside the source's life — after its first landing and before the
      *horizon*, the day after the newest day any daily source delivered — where an empty period
      is a fact ("no events", or for clicks an outage the completeness verdict flags);
    - a **lake input** (``window``, ``through``, ``all``, ``weekdays``, ``slice``): some partition
      it reads is in the lake or can itself be built (recursively);
    - a **partitioned asset** also needs its whole period delivered (ends by the horizon), when
      the data root has a daily landing at all (a lake built by hand, as unit tests do, has no
      horizon);
    - an **unpartitioned table** needs any one of its inputs to hold something.

    Inputs an asset declares it builds without (``BUILDS_WITHOUT_KEY``: it reports their absence
    in its own rows, e.g. the reconciliation's ``no_filing``) are not required.

    Schedules and sensors never request a partition that cannot be built (it is not *missing*,
    and never blocks a reader); a step asked to build one refuses (``refuse_unlanded``).
    """

    def __init__(self, state: LakeState, spec_of: Callable[[str], AssetLineage | None]):
        self.state = state
        self.spec_of = spec_of
        self._memo: dict[tuple[str, str], str | None] = {}

    def why_not(self, spec: AssetLineage, key: str) -> str | None:
        memo_key = (spec.table, key)
        if memo_key not in self._memo:
            self._memo[memo_key] = None  # a cycle (none in the graph) would read as "has data"
            self._memo[memo_key] = self._why_not(spec, key)
        return self._memo[memo_key]

    def _why_not(self, spec: AssetLineage, key: str) -> str | None:
        reads = [r for r in spec.reads if r.rule != "settled"]
        required = [r for r in reads if r.table not in spec.builds_without]
        if spec.grid == "none":
            reasons = [self._read(r, spec, key, None, None) for r in required]
            return None if not reasons or any(r is None for r in reasons) else reasons[0]
        if not reads:
            return None  # reads no data (the on-call hand-off)
        start, end = period(spec.grid, key)
        horizon = self.state.horizon()
        staged = any(r.rule in ("landing", "clicks") for r in reads)
        if not staged and horizon is not None and end > horizon:
            return _not_delivered(key, horizon)
        for read in required:
            reason = self._read(read, spec, key, start, end)
            if reason is not None:
                return reason
        return None

    def _read(self, read: Read, spec: AssetLineage, key: str, start, end) -> str | None:
        if read.rule in ("landing", "clicks"):
            return self._landed(read, key, end)
        parent = self.spec_of(read.table)
        if parent is None:
            return None  # not a lake asset of the graph: nothing to judge
        live = self.state.partitions(read.table)
        if parent.grid == "none":
            if UNPARTITIONED in live:
                return None
            return self.why_not(parent, UNPARTITIONED)
        if read.rule == "weekdays" and start is not None:
            lo, hi = start, start + dt.timedelta(days=1)
        elif read.rule in ("window", "preceding") and start is not None:
            lo, hi = read_bounds(read, spec.grid, start, end)
        else:  # through, all, and any read of an unpartitioned reader
            lo, hi = None, end
        lo_key = lo.isoformat() if lo else ""
        hi_key = hi.isoformat() if hi else "9999"
        if self.state.keys_between(read.table, lo_key, hi_key):
            return None
        reason = f"{read.table} holds nothing"
        for k in _grid_keys(parent.grid, lo, hi or self.state.now.date()):
            inner = self.why_not(parent, k)
            if inner is None:
                return None
            reason = inner
        return reason

    def _landed(self, read: Read, key: str, end: dt.date | None) -> str | None:
        source = read.table or "clicks"
        keys = self.state.clicks() if read.rule == "clicks" else self.state.landing(source)
        if key in keys:
            return None
        if not keys:
            return f"{source} has landed nothing"
        if end is None:  # an unpartitioned reader of a dated source: any landing will do
            return None
        first = min(keys)
        if end.isoformat() <= first:
            return f"{source} first landed for {first}"
        horizon = self.state.horizon()
        if horizon is not None and end > horizon:
            return _not_delivered(key, horizon)
        return None


def _not_delivered(key: str, horizon: dt.date) -> str:
    newest = (horizon - dt.timedelta(days=1)).isoformat()
    return f"no source has delivered data for {key} yet (newest landed day: {newest})"


def _grid_keys(grid: str, lo: dt.date | None, hi: dt.date) -> Iterator[str]:
    """Keys of a project grid whose period starts in ``[lo, hi)`` (from the grid's first key)."""
    from pacific_assets.orchestration.partitions import START_DATE

    first = dt.date.fromisoformat(START_DATE)
    if grid == "weekly":
        first += dt.timedelta(days=-first.weekday() % 7)
    elif grid == "monthly" and first.day != 1:
        first = _add_months(first, 1)
    k = first
    if lo is not None and lo > k:  # jump near lo, then step
        k = lo if grid == "daily" else k
        while grid != "daily" and shift(grid, k, 1) <= lo:
            k = shift(grid, k, 1)
        if k < lo:
            k = shift(grid, k, 1)
    while k < hi:
        yield k.isoformat()
        k = shift(grid, k, 1)


def refuse_unlanded(
    lake, assets: Mapping[str, AssetLineage], keys: Mapping[str, Sequence[str]]
) -> None:
    """Refuse a step asked to build partitions no source delivered data for (``SourceData``):
    a manual run or backfill over such a range fails with this message, writing nothing."""
    state = LakeState(lake)
    graph = _project_graph()

    def spec_of(table: str) -> AssetLineage | None:
        if table in assets:
            return assets[table]
        key = dg.AssetKey(table)
        if graph is None or not graph.has(key) or not graph.get(key).is_materializable:
            return None
        return asset_lineage_from_graph(graph, key)

    data = SourceData(state, spec_of)
    problems = []
    for table, spec in assets.items():
        refused = {}
        for key in keys.get(table) or [UNPARTITIONED]:
            reason = data.why_not(spec, key)
            if reason is not None:
                refused[key] = reason
        if refused:
            ks = sorted(refused)
            span = ks[0] if len(ks) == 1 else f"{ks[0]}..{ks[-1]} ({len(ks)} partitions)"
            problems.append(f"{table} {span}: {refused[ks[0]]}")
    if problems:
        raise dg.Failure(
            description="Nothing to build these partitions from (a partition is built only from "
            "data a source delivered; docs/operations.md §3): " + "; ".join(problems)
        )


# -- rules from the asset graph --------------------------------------------------------------------
def derive_reads(
    metadata: Mapping[str, object],
    parents: Iterable[tuple[str, dg.PartitionMapping | None, bool, Mapping[str, object]]],
) -> tuple[Read, ...]:
    """The asset's declared ``pacific/reads``, else one Read per Dagster dependency.

    ``parents``: (table, partition mapping, parent is partitioned, parent metadata).
    """
    declared = metadata.get(READS_KEY)
    if declared is not None:
        value = getattr(declared, "value", declared)
        return tuple(Read(**r) for r in value)
    out = []
    for table, mapping, partitioned, parent_meta in parents:
        source = parent_meta.get(LANDING_SOURCE_KEY)
        source = getattr(source, "value", source)
        if source:
            out.append(Read(str(source), "landing"))
        elif not partitioned or isinstance(mapping, dg.AllPartitionMapping):
            out.append(Read(table, "all"))
        elif isinstance(mapping, dg.TimeWindowPartitionMapping):
            out.append(Read(table, "window", offset=mapping.start_offset))
        else:
            out.append(Read(table, "window"))
    return tuple(out)


def asset_lineage_from_graph(asset_graph, key: dg.AssetKey, project_graph=None) -> AssetLineage:
    """The asset's read rules from ``asset_graph``. A parent that the graph only knows as an
    unpartitioned stub (a run of a subset of the project, e.g. ``dg.materialize`` in a test) is
    looked up in ``project_graph``: the rules are the asset's, not the run's."""
    node = asset_graph.get(key)
    parents = []
    for pk in sorted(node.parent_keys, key=lambda k: k.to_user_string()):
        parent = asset_graph.get(pk)
        if not parent.is_materializable and parent.partitions_def is None:
            project_graph = project_graph or _project_graph()
        if (
            project_graph is not None
            and not parent.is_materializable
            and parent.partitions_def is None
            and project_graph.has(pk)
        ):
            parent = project_graph.get(pk)
        parents.append(
            (
                pk.to_user_string(),
                node.partition_mappings.get(pk),
                parent.partitions_def is not None,
                parent.metadata,
            )
        )
    without = node.metadata.get(BUILDS_WITHOUT_KEY)
    return AssetLineage(
        key.to_user_string(),
        grid_of(node.partitions_def),
        derive_reads(node.metadata, parents),
        tuple(getattr(without, "value", without) or ()),
    )


# -- writing: a step's recorder ------------------------------------------------------------------
class Recorder:
    """Captures, at the start of a step, what each partition it will write is built from, and
    stamps that on every partition the step writes (``lineage.json`` + per-partition metadata +
    the partition's Dagster data version).

    Dagster data versions: a step that writes one partition of an asset (or an unpartitioned
    asset) hands its content digest to Dagster, so the step's own materialization carries it. A
    range step cannot (Dagster gives every partition of one step output the same data version,
    dagster-io/dagster#34013): after the step, ``report_data_versions`` reports each partition
    whose latest materialization, the run's own, shows another version (docs/ARCHITECTURE.md
    "Data versions in the UI").
    """

    def __init__(
        self,
        lake,
        assets: Mapping[str, AssetLineage],
        keys: Mapping[str, Sequence[str]],
        run_id: str | None,
        context: dg.AssetExecutionContext | None = None,
    ):
        self.assets = dict(assets)
        self.lake = lake
        self.context = context
        self.instance = context.instance if context is not None else None
        self.run_id = run_id
        state = LakeState(lake)
        self.built_at = state.now.isoformat()
        self._keys = {table: list(keys.get(table) or [UNPARTITIONED]) for table in self.assets}
        self._inputs: dict[tuple[str, str], tuple[str, dict[str, str], dict[str, str]]] = {}
        for table, spec in self.assets.items():
            for key in self._keys[table]:
                self._inputs[(table, key)] = spec.inputs_detail(state, key)
        self._slices: dict[str, dict[str, dict[str, str]]] = {}
        #: (table, key) -> (record, per-partition metadata) of every partition published
        self.written: dict[tuple[str, str], tuple[Lineage, dict[str, object]]] = {}

    def tracks(self, table: str) -> bool:
        return table in self.assets

    def set_slices(self, table: str, slices: dict[str, tuple[dict[str, str], bool]]) -> None:
        """Publish per-day slices of an unpartitioned state table (set before writing it):
        name -> ({day: digest}, cumulative)."""
        self._slices[table] = slices

    def record(self, table: str, key: str, parquet: Path) -> Lineage:
        content, rows = content_digest(parquet)
        spec = self.assets[table]
        captured = self._inputs.get((table, key))
        if captured is None:  # a partition the step did not announce: what its inputs are now
            now = clock.parse_instant(self.built_at)
            captured = spec.inputs_detail(LakeState(self.lake, now), key)
        inputs, summary, versions = captured
        return Lineage(
            table=table,
            key=key,
            content=content,
            rows=rows,
            inputs=inputs,
            built_at=self.built_at,
            run_id=self.run_id,
            read=summary,
            input_versions=versions,
            slices={name: values for name, (values, _) in self._slices.get(table, {}).items()},
            cumulative=sorted(n for n, (_, c) in self._slices.get(table, {}).items() if c),
        )

    def published(self, record: Lineage, previous: Lineage | None) -> None:
        """After the version went live: per-partition metadata and data version for the UI."""
        if self.context is None:
            return
        unchanged = previous is not None and previous.content == record.content
        meta: dict[str, object] = {
            DATA_VERSION_KEY: record.content,
            "pacific/inputs_version": record.inputs,
            "pacific/input_versions": dg.MetadataValue.json(record.input_versions),
            "pacific/content_unchanged": unchanged,
            "dagster/row_count": record.rows,
        }
        self.written[(record.table, record.key)] = (record, meta)
        grid = self.assets[record.table].grid
        self.context.add_asset_metadata(
            meta,
            asset_key=record.table,
            partition_key=None if grid == "none" else record.key,
        )
        if self._keys[record.table] == [record.key]:  # the step's only partition of the asset
            set_step_data_version(self.context, dg.AssetKey(record.table), record.content)

    def report_data_versions(self) -> list[tuple[str, str]]:
        """After the step: give each partition it wrote its content digest as its Dagster data
        version where the run's own materialization shows another (a range step's partitions).

        Reports a runless materialization (``REPORTED_BY_KEY`` set) carrying the version, the
        provenance tags of the run's event and the partition's lineage metadata. A partition whose
        latest materialization is not this run's (the step failed before Dagster recorded it, or
        a later run wrote it since) is left alone: ``make sync`` reports what the lake holds.
        Returns the (table, key) reported.
        """
        if self.instance is None or not self.written:
            return []
        by_table: dict[str, list[str]] = {}
        for table, key in self.written:
            by_table.setdefault(table, []).append(key)
        reported = []
        for table, keys in sorted(by_table.items()):
            partitioned = self.assets[table].grid != "none"
            latest = latest_materializations(self.instance, table, keys if partitioned else None)
            for key in sorted(keys):
                event = latest.get(key if partitioned else None)
                record, meta = self.written[(table, key)]
                if event is None or event.run_id != self.run_id:
                    continue
                materialization = event.asset_materialization
                if materialization is None or event_data_version(materialization) == record.content:
                    continue
                self.instance.report_runless_asset_event(
                    dg.AssetMaterialization(
                        asset_key=table,
                        partition=key if partitioned else None,
                        metadata={
                            **meta,
                            "pacific/built_by_run": self.run_id or "",
                            REPORTED_BY_KEY: "pacific_assets.orchestration.lineage (the partition's own data "
                            "version, after its range step)",
                        },
                        tags={
                            **provenance_tags(materialization),
                            **data_version_tags(record.content),
                        },
                    )
                )
                reported.append((table, key))
        return reported


def latest_materializations(
    instance: dg.DagsterInstance, table: str, keys: Sequence[str] | None
) -> dict[str | None, dg.EventLogRecord]:
    """The latest materialization record of each of ``keys`` of ``table`` (of the table itself,
    under None, when ``keys`` is None), newest first through Dagster's public records API."""
    wanted: set[str | None] = set(keys) if keys is not None else {None}
    records_filter = dg.AssetRecordsFilter(
        asset_key=dg.AssetKey(table), asset_partitions=list(keys) if keys is not None else None
    )
    out: dict[str | None, dg.EventLogRecord] = {}
    cursor = None
    while True:
        result = instance.fetch_materializations(
            records_filter, limit=max(len(wanted), 100), cursor=cursor, ascending=False
        )
        for record in result.records:
            out.setdefault(record.partition_key if keys is not None else None, record)
        if wanted <= out.keys() or not result.has_more:
            return out
        cursor = result.cursor


def recorder_for(context: dg.AssetExecutionContext, lake) -> Recorder:
    """The recorder of the running step: its assets' rules and partition keys."""
    graph = _asset_graph(context)
    assets, keys = {}, {}
    for key in context.selected_asset_keys:
        table = key.to_user_string()
        assets[table] = asset_lineage_from_graph(graph, key)
        keys[table] = list(context.partition_keys) if graph.get(key).partitions_def else []
    refuse_unlanded(lake, assets, keys)
    return Recorder(lake, assets, keys, context.run.run_id, context)


def stale_partitions(
    lake, table: str, keys: Sequence[str], state: LakeState | None = None
) -> list[str]:
    """Of ``keys``, the partitions of ``table`` whose inputs changed since they were built (their
    recorded inputs digest differs from the one their inputs give now). Versions written before
    lineage existed are trusted; absent partitions are not listed (they are missing, not stale).
    """
    graph = _project_graph()
    if graph is None:
        raise LookupError(
            "stale_partitions needs the code location's asset graph: pacific_assets.definitions "
            "hands it in when it is imported"
        )
    state = state or LakeState(lake)
    spec = asset_lineage_from_graph(graph, dg.AssetKey(table))
    out = []
    for k in keys:
        record = state.lineage(table, k)
        if record is not None and spec.inputs_digest(state, k) != record.inputs:
            out.append(k)
    return out


def _project_graph():
    """The code location's graph (``use_project_graph``); None when none was handed in."""
    return _project_graph_source() if _project_graph_source is not None else None


def _asset_graph(context: dg.AssetExecutionContext):
    try:
        return context.repository_def.asset_graph
    except Exception:  # an in-process job run carries no repository
        return context.job_def.asset_layer.asset_graph


# -- slices of unpartitioned state tables -------------------------------------------------------
def publish_slices(lake, table: str, frame, sql_by_slice: Mapping[str, tuple[str, bool]]) -> None:
    """Compute and attach the per-day slices of an unpartitioned state table before it is written.

    Each SQL reads the table as view ``t`` and returns ``(key DATE, h HUGEINT)``: the hash of the
    rows that partition ``key`` of a daily reader depends on (one row may count on many days).
    ``cumulative``: day d depends on every row up to d (status carries forward), so the slice of
    d is the running total. Without a recorder (plain lake) nothing happens.
    """
    recorder = getattr(lake, "recorder", None)
    if recorder is None or not recorder.tracks(table):
        return
    hold = ExitStack()
    con = hold.enter_context(connect(lake=lake))  # UTC, bounded by the lake's limits
    try:
        con.register("t", frame.to_arrow())
        out: dict[str, tuple[dict[str, str], bool]] = {}
        for name, (sql, cumulative) in sql_by_slice.items():
            rows = con.execute(
                f"SELECT CAST(key AS VARCHAR), CAST(sum(CAST(h AS HUGEINT)) AS VARCHAR) "
                f"FROM (\n{sql}\n) WHERE key IS NOT NULL GROUP BY 1 ORDER BY 1"
            ).fetchall()
            values: dict[str, str] = {}
            running = 0
            for key, h in rows:
                if cumulative:
                    running += int(h)
                    values[key] = digest([name, str(running)])
                else:
                    values[key] = digest([name, h])
            out[name] = (values, cumulative)
    finally:
        hold.close()
    recorder.set_slices(table, out)
