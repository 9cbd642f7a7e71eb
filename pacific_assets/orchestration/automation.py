"""Which partitions to build now: the one decision behind every schedule and sensor.

Every schedule and sensor of the pipelines asks the same question of durable facts — the lake's
partitions and what each was built from (``pacific_assets.orchestration.lineage``), the landing zone, the clock
and the runs in progress — never of a cursor:

- a partition is **missing** when its period has ended, it is *due* (the tick of its pipeline's
  cadence schedule for that period has passed) and the lake has no version of it;
- it is **stale** when what it reads has changed since it was built (its inputs digest differs);
- it is **ready** when nothing it reads is itself missing, stale or being built — except
  partitions of the same request that run before it in the same run (same period, same grid);
- it is **in progress** when a queued or running run, or a requested backfill, targets it.

A request is made for ready partitions that are missing or stale and not in progress, grouped into
as few runs as possible: one run per set of assets and contiguous range of periods, so a backfill
of a year is a handful of runs. Unpartitioned tables run before their partitioned readers (those
wait for the next evaluation), unless they fit in the readers' single run. Run keys name the
state a request answers, so the daemon never launches the same request twice, even while a run is
queued.

Consequences (docs/operations.md): a fresh or restored instance, or a reset cursor, over an
up-to-date lake requests nothing; a lake missing partitions gets exactly those; late data
rebuilds exactly the partitions that read it, one layer per evaluation, and nothing that only
*could* have changed.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NoReturn

import dagster as dg

from pacific_assets import settings
from pacific_assets.orchestration import clock
from pacific_assets.orchestration.dagster_compat import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
    backfill_targets,
    next_cron_tick,
    run_partition_keys,
)
from pacific_assets.orchestration.lake_resource import LakeResource
from pacific_assets.orchestration.lineage import (
    UNPARTITIONED,
    AssetLineage,
    LakeState,
    SourceData,
    asset_lineage_from_graph,
    digest,
    keys_at,
    period,
    read_bounds,
)

#: Schedule metadata: the cron of the cadence and the assets it builds (their "due" time).
DUE_CRON_KEY = "pacific/due_cron"
DUE_ASSETS_KEY = "pacific/assets"
#: Sensors leave a missing partition to its schedule for this long after it is due.
SENSOR_GRACE = dt.timedelta(minutes=15)
#: A request whose run failed (a crash, a killed host, a bad input) is made again, under a new
#: run key, after RETRY_BACKOFF x 2^(failures - 1), at most MAX_RETRIES times; then it waits for
#: a person (a backfill, or a fix that changes its inputs and so the request).
RETRY_BACKOFF = dt.timedelta(minutes=15)
MAX_RETRIES = 3
#: Run tag naming the request a run answers (its run key without the attempt).
REQUEST_TAG = "pacific/request"
_ACTIVE = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]
_LAKE_RULES = ("window", "preceding", "through", "all", "weekdays", "slice")
#: Overrides the seconds one evaluation may take (default: half of Dagster's timeout for it).
TICK_BUDGET_ENV = settings.TICK_BUDGET_SECONDS


class TickBudgetExceeded(RuntimeError):
    """An evaluation ran out of its time budget (``TickBudget``)."""


class TickBudget:
    """The seconds one sensor or schedule evaluation may take before it stops with a clear error.

    Dagster cuts an evaluation off after its timeout (60 s unless the deployment sets
    ``DAGSTER_SENSOR_GRPC_TIMEOUT_SECONDS`` / ``..._SCHEDULE_...``) with a bare "timed out". A
    planner evaluation grows with the lake's history (docs/benchmarks.md, "The planner at
    scale"), so it checks its budget as it goes — half of that timeout, or
    ``PACIFIC_TICK_BUDGET_SECONDS`` — and past it raises an error naming the evaluation, the
    seconds spent and what it was doing: the tick fails in the UI with the reason, long before
    the timeout, and the next tick tries again.
    """

    def __init__(self, name: str, kind: str = "sensor", seconds: float | None = None):
        self.name = name
        self.kind = kind
        configured = settings.load()  # per evaluation: Dagster's timeouts and the budget
        self.timeout = configured.dagster_timeout_seconds[kind]
        if seconds is None:
            budget = configured.tick_budget_seconds
            seconds = budget if budget is not None else self.timeout / 2
        self.seconds = seconds
        self.started = time.monotonic()

    def exceeded(self) -> bool:
        """Whether the budget is spent (cheap: call it as often as a loop turns)."""
        return time.monotonic() - self.started > self.seconds

    def fail(self, doing: str) -> NoReturn:
        spent = time.monotonic() - self.started
        raise TickBudgetExceeded(
            f"{self.name} stopped after {spent:.1f} s, over its budget of {self.seconds:g} s "
            f"(Dagster stops a {self.kind} at {self.timeout} s), while {doing}. One evaluation "
            "grows with the lake's history and the disk's speed: see docs/operations.md §3 "
            f"(set {TICK_BUDGET_ENV} to change the budget)."
        )

    def check(self, doing: Callable[[], str]) -> None:
        """Fail when the budget is spent; ``doing`` says what the evaluation was doing."""
        if self.exceeded():
            self.fail(doing())


@dataclass
class AssetState:
    """What one asset's partitions need right now."""

    spec: AssetLineage
    keys: list[str]  # partitions that exist on the grid now (periods that have ended)
    needs: dict[str, str] = field(default_factory=dict)  # key -> "missing" | "stale"
    #: key -> why it cannot be built: no source delivered data for it (never requested)
    unlanded: dict[str, str] = field(default_factory=dict)
    in_progress: set[str] = field(default_factory=set)
    due_at: dict[str, dt.datetime] = field(default_factory=dict)

    def unsettled(self, now: dt.datetime) -> set[str]:
        """Partitions a reader must wait for: being built, stale, or missing and due by ``now``.

        A partition missing because its source has not landed yet (not due: September's filing
        lands on October 10th) never blocks a reader that is due: the reader is built with what
        exists now and turns stale when the input lands (docs/profit.md, late filing)."""
        return {
            k
            for k, why in self.needs.items()
            if not (why == "missing" and self.due_at.get(k, now) > now)
        } | self.in_progress


@dataclass(frozen=True)
class Plan:
    """The outcome of one evaluation: the requests, and what each asset needs, for logs."""

    requests: list[dg.RunRequest]
    needs: dict[str, dict[str, str]]
    waiting: dict[str, list[str]]
    unlanded: dict[str, dict[str, str]] = field(default_factory=dict)
    retrying: dict[str, str] = field(default_factory=dict)  # request -> when it is made again

    def describe(self) -> str:
        parts = []
        for table, needs in sorted(self.needs.items()):
            kinds = defaultdict(list)
            for k, why in needs.items():
                kinds[why].append(k)
            parts.append(
                f"{table}: " + ", ".join(f"{len(v)} {w} ({_span(v)})" for w, v in kinds.items())
            )
        return "; ".join(parts) or "everything is up to date"


def _span(keys: Sequence[str]) -> str:
    keys = sorted(keys)
    return keys[0] if len(keys) == 1 else f"{keys[0]}..{keys[-1]}"


# -- facts -----------------------------------------------------------------------------------------
def declared_cadence(schedule: dg.ScheduleDefinition) -> tuple[str, list[str]] | None:
    """(cron, assets) a ``cadence_schedule`` declares in its metadata; None for other schedules."""
    meta = schedule.metadata or {}
    cron, assets = meta.get(DUE_CRON_KEY), meta.get(DUE_ASSETS_KEY)
    if not isinstance(cron, dg.TextMetadataValue) or not isinstance(assets, dg.JsonMetadataValue):
        return None
    return cron.value, list(assets.value)  # type: ignore[arg-type]


def due_crons(repository_def) -> dict[str, str]:
    """Asset -> the cron of the cadence schedule that builds it (read from schedule metadata)."""
    out: dict[str, str] = {}
    for schedule in repository_def.schedule_defs:
        declared = declared_cadence(schedule)
        if declared is None:
            continue
        cron, assets = declared
        for table in assets:
            out[table] = cron
    return out


def in_progress(instance: dg.DagsterInstance, asset_graph) -> dict[str, set[str] | None]:
    """Asset -> partition keys targeted by queued/running runs and requested backfills (None:
    every partition, e.g. a run without partition tags)."""
    out: dict[str, set[str] | None] = {}

    def add(table: str, keys: Iterable[str] | None) -> None:
        if keys is None or out.get(table, set()) is None:
            out[table] = None
        else:
            out.setdefault(table, set()).update(keys)  # type: ignore[union-attr]

    for run in instance.get_runs(filters=dg.RunsFilter(statuses=_ACTIVE)):
        tags = run.tags
        for key in run.asset_selection or ():
            table = key.to_user_string()
            node = asset_graph.get(key) if asset_graph.has(key) else None
            pdef = node.partitions_def if node is not None else None
            if pdef is None:
                add(table, [UNPARTITIONED])
            else:
                add(table, run_partition_keys(tags, pdef))
    for table, keys in backfill_targets(instance).items():
        add(table, keys)
    return out


# -- the evaluation --------------------------------------------------------------------------------
class Planner:
    """Evaluates the lake against the graph for a set of target assets (and their ancestors)."""

    def __init__(
        self,
        lake,
        asset_graph,
        *,
        now: dt.datetime | None = None,
        due: Mapping[str, str] | None = None,
        running: Mapping[str, set[str] | None] | None = None,
        failures: Callable[[str], tuple[int, dt.datetime | None]] | None = None,
        budget: TickBudget | None = None,
    ):
        self.lake = lake
        self.failures = failures
        self.budget = budget
        self.graph = asset_graph
        self.now = now or clock.now()
        self.due = dict(due or {})
        self.running = dict(running or {})
        self.state = LakeState(lake, self.now)
        self.sources = SourceData(self.state, self._spec)
        self._assets: dict[str, AssetState] = {}
        self._specs: dict[str, AssetLineage | None] = {}
        #: request -> why it is not made now (its runs failed: ``_attempt``)
        self.retry_waits: dict[str, str] = {}

    def _spec(self, table: str) -> AssetLineage | None:
        if table not in self._specs:
            key = dg.AssetKey(table)
            node = self.graph.get(key) if self.graph.has(key) else None
            materializable = node is not None and node.is_materializable
            self._specs[table] = (
                asset_lineage_from_graph(self.graph, key) if materializable else None
            )
        return self._specs[table]

    def asset(self, table: str) -> AssetState | None:
        """The evaluated state of one lake asset (None for tables that are not assets)."""
        if table in self._assets:
            return self._assets[table]
        key = dg.AssetKey(table)
        if not self.graph.has(key) or not self.graph.get(key).is_materializable:
            return None
        spec = self._spec(table)
        assert spec is not None
        # Ancestors are evaluated when a partition of this asset needs something and asks what it
        # waits for (``blockers``), not before: a tick with nothing to do reads its targets only.
        node = self.graph.get(key)
        pdef = node.partitions_def
        keys = list(keys_at(pdef, self.now)) if pdef else [UNPARTITIONED]
        st = AssetState(spec, keys)
        running = self.running.get(table, set())
        st.in_progress = set(keys) if running is None else set(running) & set(keys)
        live = self.state.partitions(table)
        cron = self.due.get(table)
        budget = self.budget
        for i, k in enumerate(keys):
            if budget is not None and budget.exceeded():
                budget.fail(f"evaluating {table} ({i} of {len(keys)} partitions)")
            if k not in live:
                why = self.sources.why_not(spec, k)
                if why is not None:  # not landed is not missing: nothing to build it from
                    st.unlanded[k] = why
                    continue
                st.needs[k] = "missing"
                if cron and pdef is not None:
                    end = dt.datetime.combine(period(spec.grid, k)[1], dt.time(), dt.UTC)
                    st.due_at[k] = next_cron_tick(cron, end, "UTC")
                continue
            record = live[k][1]
            if record is None:
                continue  # written before lineage existed: trusted as built
            if spec.inputs_digest(self.state, k) != record.inputs:
                why = self.sources.why_not(spec, k)
                if why is not None:  # kept as it is: a rebuild would have nothing to read
                    st.unlanded[k] = why
                    continue
                st.needs[k] = "stale"
        self._assets[table] = st
        return st

    def buildable_runs(
        self, tables: Sequence[str], keys: Sequence[str]
    ) -> list[tuple[list[str], list[str]]]:
        """(tables, contiguous keys) runs that build ``tables`` over ``keys`` (in grid order)
        skipping what no source delivered data for (``SourceData``): the ranges a range run,
        e.g. ``make demo``'s, can be asked for without being refused."""
        by_span: dict[tuple[str, ...], list[str]] = defaultdict(list)
        for table in tables:
            spec = self._spec(table)
            spans, run = [], []
            for k in keys:
                if spec is not None and self.sources.why_not(spec, k) is not None:
                    if run:
                        spans.append(run)
                    run = []
                else:
                    run.append(k)
            if run:
                spans.append(run)
            for span in spans:
                by_span[tuple(span)].append(table)
        return [(sorted(ts), list(span)) for span, ts in sorted(by_span.items())]

    def blockers(self, table: str, key: str) -> list[tuple[str, str]]:
        """Upstream partitions that partition ``key`` reads and that are not settled."""
        st = self.asset(table)
        assert st is not None
        out = []
        start, end = period(st.spec.grid, key) if st.spec.grid != "none" else (None, None)
        for read in st.spec.reads:
            if read.rule not in _LAKE_RULES:
                continue
            parent = self.asset(read.table)
            if parent is None:
                continue
            unsettled = parent.unsettled(self.now)
            if not unsettled:
                continue
            if read.rule in ("all", "slice") or st.spec.grid == "none":
                hits = unsettled
            elif read.rule == "through":
                hits = {k for k in unsettled if k < end.isoformat()}
            elif read.rule == "weekdays":
                wanted = {
                    (start - dt.timedelta(weeks=w)).isoformat() for w in range(read.weeks + 1)
                }
                hits = unsettled & wanted
            else:  # window, preceding
                lo, hi = read_bounds(read, st.spec.grid, start, end)
                hits = {k for k in unsettled if lo.isoformat() <= k < hi.isoformat()}
            out.extend((read.table, k) for k in sorted(hits))
        return out

    def plan(
        self, targets: Sequence[str], *, horizon: dt.datetime, tags: Mapping[str, str] | None = None
    ) -> Plan:
        """Requests for the ``targets`` whose missing partitions are due by ``horizon``."""
        states = {t: self.asset(t) for t in targets}
        states = {t: s for t, s in states.items() if s is not None}
        order = [t for t in self._topo(list(states))]
        wanted: dict[str, set[str]] = {}
        waiting: dict[str, list[str]] = {}
        for table in order:
            st = states[table]
            for k, why in sorted(st.needs.items()):
                if self.budget is not None:
                    self.budget.check(lambda t=table, k=k: f"planning {t} {k}")
                if k in st.in_progress:
                    continue
                if why == "missing" and st.due_at.get(k, self.now) > horizon:
                    continue
                blocked = [
                    (p, pk)
                    for p, pk in self.blockers(table, k)
                    if not self._same_run(p, pk, table, k, wanted, states)
                ]
                if blocked or (why == "stale" and self._reads_missing(table, k)):
                    # a partition stale only because what it reads is missing waits for that
                    # input: rebuilt, it may well hold what it held (nothing to redo downstream)
                    waiting.setdefault(table, []).append(k)
                    continue
                wanted.setdefault(table, set()).add(k)
        requests = self._group_with_tables(wanted, states, dict(tags or {}), waiting)
        requests = [r for r in map(self._attempt, requests) if r is not None]
        needs = {t: dict(s.needs) for t, s in states.items() if s.needs}
        unlanded = {t: dict(s.unlanded) for t, s in states.items() if s.unlanded}
        return Plan(requests, needs, waiting, unlanded, dict(self.retry_waits))

    def _reads_missing(self, table: str, key: str) -> bool:
        return any(
            (self.asset(p) is not None and self.asset(p).needs.get(pk) == "missing")
            for p, pk in self.blockers(table, key)
        )

    def _same_run(self, parent, pkey, table, key, wanted, states) -> bool:
        """A blocker that this request builds first, in the same run (same grid and period)."""
        if parent not in states or pkey not in wanted.get(parent, set()):
            return False
        if states[parent].spec.grid == "none":
            return True  # the table joins its reader's run (``_group``)
        return states[parent].spec.grid == states[table].spec.grid and pkey == key

    def _topo(self, tables: list[str]) -> list[str]:
        done: list[str] = []

        def visit(t: str, seen: set[str]) -> None:
            if t in done or t in seen:
                return
            seen.add(t)
            for read in self._assets[t].spec.reads:
                if read.table in tables:
                    visit(read.table, seen)
            done.append(t)

        for t in sorted(tables):
            visit(t, set())
        return done

    def _group_with_tables(
        self,
        wanted: dict[str, set[str]],
        states: dict[str, AssetState],
        tags: dict[str, str],
        waiting: dict[str, list[str]],
    ) -> list[dg.RunRequest]:
        """An unpartitioned table runs in the one run that reads it (its readers see it built);
        when several runs would read it, it runs alone and its readers wait for it."""
        tables = {t for t, ks in wanted.items() if states[t].spec.grid == "none"}
        while True:
            runs = self._runs({t: k for t, k in wanted.items() if t not in tables}, states)
            alone = set()
            for table in tables:
                readers = [i for i, (_, assets, _) in enumerate(runs) if self._reads(assets, table)]
                if len(readers) > 1:
                    alone.add(table)
            if not alone:
                break
            dropped = self._drop_readers(alone, wanted, states, waiting)
            if not dropped:
                break
        requests = []
        placed: set[str] = set()
        for _grid, assets, keys in runs:
            joined = sorted(t for t in tables - alone if self._reads(assets, t))
            placed.update(joined)
            requests.append(self._request(joined + sorted(assets), keys, states, tags))
        for table in sorted(tables - placed):
            requests.insert(0, self._request([table], [UNPARTITIONED], states, tags))
        return requests

    def _reads(self, assets: Iterable[str], table: str) -> bool:
        return any(r.table == table for a in assets for r in self._assets[a].spec.reads)

    def _drop_readers(self, alone, wanted, states, waiting) -> bool:
        """Remove from ``wanted`` what reads a table of ``alone`` (and what runs after it)."""
        dropped = False
        changed = True
        gone = {(t, UNPARTITIONED) for t in alone}
        while changed:
            changed = False
            for table, keys in list(wanted.items()):
                if table in alone:
                    continue
                for k in sorted(keys):
                    # every input not settled, not only those still wanted: a dropped one has
                    # left ``wanted`` (it is in ``gone``), and what reads it waits as well
                    if any(b in gone for b in self.blockers(table, k)):
                        keys.discard(k)
                        gone.add((table, k))
                        waiting.setdefault(table, []).append(k)
                        changed = dropped = True
                if not keys:
                    wanted.pop(table)
        return dropped

    def _runs(
        self, wanted: dict[str, set[str]], states: dict[str, AssetState]
    ) -> list[tuple[str, frozenset[str], list[str]]]:
        """(grid, assets, contiguous keys) per run: one per set of assets and range on a grid."""
        out = []
        by_grid: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        for table, keys in wanted.items():
            for k in keys:
                by_grid[states[table].spec.grid][k].add(table)
        for grid, per_key in sorted(by_grid.items()):
            ordered = sorted(per_key)
            position = {k: i for i, k in enumerate(states[next(iter(per_key[ordered[0]]))].keys)}
            runs: list[tuple[frozenset[str], list[str]]] = []
            for k in ordered:
                assets = frozenset(per_key[k])
                prev = runs[-1] if runs else None
                if (
                    prev is not None
                    and prev[0] == assets
                    and position[k] == position[prev[1][-1]] + 1
                ):
                    prev[1].append(k)
                else:
                    runs.append((assets, [k]))
            out.extend((grid, assets, keys) for assets, keys in runs)
        return out

    def _attempt(self, request: dg.RunRequest) -> dg.RunRequest | None:
        """The request, under the run key of its next attempt when runs answering it failed
        (Dagster never launches a run key twice), or None while it backs off or has failed
        ``MAX_RETRIES`` times (its partitions are then listed as waiting)."""
        if self.failures is None:
            return request
        failed, last_end = self.failures(request.tags[REQUEST_TAG])
        if not failed:
            return request
        due = (last_end or self.now) + RETRY_BACKOFF * 2 ** (failed - 1)
        if failed > MAX_RETRIES or self.now < due:
            self.retry_waits[request.tags[REQUEST_TAG]] = f"failed {failed} time(s)" + (
                ", retried no more"
                if failed > MAX_RETRIES
                else f", retried from {due:%Y-%m-%d %H:%M}"
            )
            return None
        return request.with_replaced_attrs(run_key=f"{request.run_key}:attempt{failed + 1}")

    def _request(
        self, assets: list[str], keys: list[str], states: dict[str, AssetState], tags: dict
    ) -> dg.RunRequest:
        # the run key names the state it answers: the same request is never launched twice
        def own(t: str) -> list[str]:
            return [UNPARTITIONED] if states[t].spec.grid == "none" else keys

        fingerprint = digest(
            f"{t}:{k}:{states[t].spec.inputs_digest(self.state, k)}" for t in assets for k in own(t)
        )
        run_tags = dict(tags)
        if keys != [UNPARTITIONED]:
            run_tags.update(
                {ASSET_PARTITION_RANGE_START_TAG: keys[0], ASSET_PARTITION_RANGE_END_TAG: keys[-1]}
            )
        why = sorted({states[t].needs.get(k, "") for t in assets for k in own(t)} - {""})
        run_tags["pacific/why"] = ",".join(why)
        run_key = f"{'+'.join(assets)}:{keys[0]}..{keys[-1]}:{fingerprint}"
        run_tags[REQUEST_TAG] = run_key
        return dg.RunRequest(
            run_key=run_key, asset_selection=[dg.AssetKey(t) for t in assets], tags=run_tags
        )


# -- the schedules and sensors every pipeline declares ---------------------------------------------
def _planner(context, lake, now: dt.datetime, budget: TickBudget | None) -> Planner:
    repo = context.repository_def
    graph = repo.asset_graph
    return Planner(
        lake,
        graph,
        now=now,
        due=due_crons(repo),
        running=in_progress(context.instance, graph),
        failures=lambda request: failed_runs(context.instance, request),
        budget=budget,
    )


def failed_runs(instance: dg.DagsterInstance, request: str) -> tuple[int, dt.datetime | None]:
    """How many runs answering ``request`` (tag ``REQUEST_TAG``) failed or were canceled, and
    when the newest of them ended."""
    records = instance.get_run_records(
        filters=dg.RunsFilter(
            tags={REQUEST_TAG: request},
            statuses=[dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED],
        )
    )
    ends = [r.end_time for r in records if r.end_time is not None]
    return len(records), (dt.datetime.fromtimestamp(max(ends), dt.UTC) if ends else None)


def cadence_schedule(
    name: str,
    assets: Sequence[str],
    cron: str,
    description: str,
) -> dg.ScheduleDefinition:
    """The schedule of one cadence: at each tick, the partitions of ``assets`` that are due by
    then and missing or stale (none: a skip that says why). Its cron is also when those
    partitions become *due*, for every sensor's decision (``due_crons``)."""
    targets = list(assets)

    @dg.schedule(
        name=name,
        cron_schedule=cron,
        execution_timezone="UTC",
        target=dg.AssetSelection.assets(*targets),
        metadata={DUE_CRON_KEY: cron, DUE_ASSETS_KEY: targets},
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=description,
    )
    def _schedule(context: dg.ScheduleEvaluationContext, lake: LakeResource):
        budget = TickBudget(name, "schedule")
        now = clock.now()
        tick = context.scheduled_execution_time or now
        plan = _planner(context, lake.lake, now, budget).plan(
            targets, horizon=max(tick, now), tags={"pacific/trigger": name}
        )
        if not plan.requests:
            return dg.SkipReason(_skip_text(plan))
        return plan.requests

    return _schedule


def keeper_sensor(
    name: str,
    assets: Sequence[str],
    description: str,
    minimum_interval_seconds: int = 60,
) -> dg.SensorDefinition:
    """The sensor that keeps ``assets`` up to date between their schedules: stale partitions
    (late or corrected data upstream) as soon as they are ready, and missing partitions that
    their schedule left behind (``SENSOR_GRACE`` after they were due)."""
    targets = list(assets)

    @dg.sensor(
        name=name,
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        asset_selection=dg.AssetSelection.assets(*targets),
        description=description,
    )
    def _sensor(context: dg.SensorEvaluationContext, lake: LakeResource):
        budget = TickBudget(name, "sensor")
        now = clock.now()
        plan = _planner(context, lake.lake, now, budget).plan(
            targets, horizon=now - SENSOR_GRACE, tags={"pacific/trigger": name}
        )
        if plan.requests:
            context.log.info(f"{len(plan.requests)} request(s): {plan.describe()}")
            return dg.SensorResult(run_requests=plan.requests)
        return dg.SensorResult(skip_reason=_skip_text(plan))

    return _sensor


def _skip_text(plan: Plan) -> str:
    if plan.retrying:
        text = "waiting after failed runs: " + "; ".join(
            f"{request.split(':', 2)[0]} {request.split(':', 2)[1]} ({why})"
            for request, why in sorted(plan.retrying.items())
        )
    elif plan.waiting:
        text = "waiting for upstream partitions: " + "; ".join(
            f"{t} {_span(ks)}" for t, ks in sorted(plan.waiting.items())
        )
    elif plan.needs:
        text = f"nothing due yet ({plan.describe()})"
    else:
        text = "everything is up to date"
    if plan.unlanded:
        text += "; no source data yet for " + "; ".join(
            f"{t} {_span(list(ks))} ({len(ks)}: {ks[min(ks)]})"
            for t, ks in sorted(plan.unlanded.items())
        )
    return text
