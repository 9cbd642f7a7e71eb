"""The planner's decisions, rule by rule, on a toy graph (pacific_assets/orchestration/automation.py).

One asset per read rule of ``pacific_assets.orchestration.lineage`` (window with ``days_before`` or ``offset``,
``through``, ``weekdays``, ``all``, an unpartitioned table and its reader, a landed source), on
the project's grids (daily from 2025-09-01, Monday weeks, months). Lakes are built with
``lakes.mark_built`` (trusted partitions, no rows) and ``_rebuild`` (a new version, optionally
with a lineage record). Pure decision rules are asked of ``Planner`` directly; what the schedules
and sensors do with a plan (horizons, grace, skip texts, runs in progress, failed runs) is driven
through Dagster's public ``evaluate_tick`` on a temporary instance, clock moved with
``moved_clock``. Every expected value is written out by hand from the rules in the docstrings
of ``automation`` and ``lineage`` (docs/operations.md §3).

The file is the planner's first in ``[tool.pacific.mutation]``: it must stay fast (a few
seconds), since mutmut runs it whole for each of ~600 mutants.
"""

from __future__ import annotations

import datetime as dt
import functools
import time
from pathlib import Path

import dagster as dg
import pytest

# no public constructor of a backfill record, nor of its status (in_progress reads them)
from dagster._core.execution.backfill import BulkActionStatus, PartitionBackfill

from pacific_assets.orchestration import automation
from pacific_assets.orchestration.automation import (
    REQUEST_TAG,
    TICK_BUDGET_ENV,
    Plan,
    Planner,
    TickBudget,
    TickBudgetExceeded,
    _skip_text,
    cadence_schedule,
    declared_cadence,
    due_crons,
    failed_runs,
    in_progress,
    keeper_sensor,
)
from pacific_assets.orchestration.dagster_compat import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
    moved_clock,
)
from pacific_assets.orchestration.lineage import LINEAGE_FILE, Lineage, Read, reads_metadata
from pacific_assets.orchestration.partitions import daily, monthly, weekly
from pacific_assets.resources import LakeResource
from pacific_assets.storage.lake import Lake
from pacific_assets_tests.lakes import mark_built

#: Noon on October 1st: daily keys 09-01..09-30, weeks 09-01..09-22 (09-29 ends 10-06), month 09.
NOON = dt.datetime(2025, 10, 1, 12, tzinfo=dt.UTC)
SEPTEMBER = [f"2025-09-{d:02d}" for d in range(1, 31)]
WEEKS = ["2025-09-01", "2025-09-08", "2025-09-15", "2025-09-22"]


def _asset(name: str, pdef, *reads: Read, deps=()) -> dg.AssetsDefinition:
    @dg.asset(
        name=name,
        partitions_def=pdef,
        deps=list(deps),
        metadata=reads_metadata(*reads) if reads else None,
    )
    def _built() -> None: ...

    return _built


EVENTS = _asset("events", daily)  # reads nothing: always buildable
REGISTRY = _asset("registry", None, Read("events", "all"), deps=[EVENTS])
ASSETS = [
    EVENTS,
    _asset("daily_window", daily, Read("events", "window", days_before=2), deps=[EVENTS]),
    _asset("daily_offset", daily, Read("events", "window", offset=-1), deps=[EVENTS]),
    _asset("weekly_window", weekly, Read("events", "window"), deps=[EVENTS]),
    _asset("weekly_through", weekly, Read("events", "through"), deps=[EVENTS]),
    _asset("daily_weekdays", daily, Read("events", "weekdays", weeks=2), deps=[EVENTS]),
    _asset("monthly_all", monthly, Read("events", "all"), deps=[EVENTS]),
    REGISTRY,
    # an unpartitioned table reads every partition of its input, whatever its read's rule
    _asset("recent_table", None, Read("events", "window", days_before=2), deps=[EVENTS]),
    _asset("daily_from_registry", daily, Read("registry", "all"), deps=[REGISTRY]),
    _asset(
        "daily_after_registry",
        daily,
        Read("daily_from_registry", "window"),
        deps=[dg.AssetKey("daily_from_registry")],
    ),
    # a staged table: reads the accounts export (crm/accounts/date=...)
    _asset("landed", daily, Read("accounts", "landing")),
    dg.AssetSpec("raw_feed"),  # an external asset: not the planner's to build
]
GRAPH = dg.Definitions(assets=ASSETS).resolve_asset_graph()
DAILY_CRON = "0 3 * * *"  # events' cadence: a day is due at 03:00 the next day


def _root(tmp_path: Path, built: dict[str, list[str]]) -> Path:
    root = tmp_path / "data"
    for table, keys in built.items():
        mark_built(root, table, keys)
    return root


def _rebuild(root: Path, table: str, key: str, inputs: str | None = None) -> None:
    """A new live version of the partition (its content changes); with ``inputs``, a lineage
    record saying it was built from inputs of that digest."""
    tdir = root / "lake" / table
    versions = tdir / "_versions"
    versions.mkdir(parents=True, exist_ok=True)
    n = len(list(versions.glob(f"k={key}.*")))
    vdir = versions / f"k={key}.r{n}"
    vdir.mkdir()
    if inputs is not None:
        record = Lineage(table, key, f"content-{n}", 0, inputs, "2025-09-30T00:00:00+00:00")
        (vdir / LINEAGE_FILE).write_text(record.to_json())
    link = tdir / f"k={key}"
    if link.is_symlink():
        link.unlink()
    link.symlink_to(f"_versions/{vdir.name}")


def _without(keys: list[str], *gone: str) -> list[str]:
    return [k for k in keys if k not in gone]


def _planner(root: Path, now: dt.datetime = NOON, **kwargs) -> Planner:
    return Planner(Lake(root), GRAPH, now=now, **kwargs)


def _runs(plan: Plan) -> list[tuple[list[str], str, str]]:
    """(assets, first key, last key) per request; ("current", "current") when unpartitioned."""
    return [
        (
            [k.to_user_string() for k in r.asset_selection],
            r.tags.get(ASSET_PARTITION_RANGE_START_TAG, "current"),
            r.tags.get(ASSET_PARTITION_RANGE_END_TAG, "current"),
        )
        for r in plan.requests
    ]


# -- what a partition reads, per rule: its blockers ------------------------------------------
E = "events"


@pytest.mark.parametrize(
    "table, key, expected",
    [
        # window, days_before 2: day k reads events k-2..k
        ("daily_window", "2025-09-09", []),
        ("daily_window", "2025-09-10", ["2025-09-10"]),
        ("daily_window", "2025-09-12", ["2025-09-10"]),
        ("daily_window", "2025-09-13", []),
        # window, offset -1 (a period of the reader's grid): day k reads k-1..k
        ("daily_offset", "2025-09-11", ["2025-09-10"]),
        ("daily_offset", "2025-09-12", []),
        # window on a weekly reader: the week's seven days
        ("weekly_window", "2025-09-08", ["2025-09-10"]),
        ("weekly_window", "2025-09-22", []),
        # through: every day before the period's end (09-29 is the next week's)
        ("weekly_through", "2025-09-01", []),
        ("weekly_through", "2025-09-08", ["2025-09-10"]),
        ("weekly_through", "2025-09-22", ["2025-09-10", "2025-09-20"]),
        # weekdays, 2 weeks: k, k-7, k-14
        ("daily_weekdays", "2025-09-24", ["2025-09-10"]),
        ("daily_weekdays", "2025-09-27", ["2025-09-20"]),
        ("daily_weekdays", "2025-09-29", ["2025-09-29"]),
        ("daily_weekdays", "2025-09-25", []),
        # all: every partition; and an unpartitioned reader reads everything
        ("monthly_all", "2025-09-01", ["2025-09-10", "2025-09-20", "2025-09-29"]),
        ("registry", "current", ["2025-09-10", "2025-09-20", "2025-09-29"]),
        ("recent_table", "current", ["2025-09-10", "2025-09-20", "2025-09-29"]),
    ],
)
def test_blockers_follow_each_read_rule(tmp_path: Path, table, key, expected) -> None:
    """Events 09-10, 09-20 and 09-29 are missing (no cadence: missing counts at once)."""
    root = _root(tmp_path, {E: _without(SEPTEMBER, "2025-09-10", "2025-09-20", "2025-09-29")})
    assert _planner(root).blockers(table, key) == [(E, k) for k in expected]


def test_weekdays_reads_that_many_weeks_back_and_no_more(tmp_path: Path) -> None:
    """weeks=2: day k reads k, k-7 and k-14. Events 09-02 is missing: it blocks 09-16 (k-14),
    not 09-23 (k-21)."""
    root = _root(tmp_path, {E: _without(SEPTEMBER, "2025-09-02")})
    planner = _planner(root)
    assert planner.blockers("daily_weekdays", "2025-09-16") == [(E, "2025-09-02")]
    assert planner.blockers("daily_weekdays", "2025-09-23") == []


def test_an_unpartitioned_input_blocks_all_its_readers_until_built(tmp_path: Path) -> None:
    root = _root(tmp_path, {E: SEPTEMBER})
    assert _planner(root).blockers("daily_from_registry", "2025-09-05") == [("registry", "current")]
    mark_built(root, "registry", ["current"])
    assert _planner(root).blockers("daily_from_registry", "2025-09-05") == []


def test_a_settled_input_does_not_hide_the_next_inputs_blockers(tmp_path: Path) -> None:
    """A day that reads the registry (built) and then events (09-10 missing): the settled first
    input must not end the search; the second still blocks."""
    two_inputs = _asset(
        "daily_two_inputs",
        daily,
        Read("registry", "all"),
        Read(E, "window"),
        deps=[REGISTRY, EVENTS],
    )
    graph = dg.Definitions(assets=[EVENTS, REGISTRY, two_inputs]).resolve_asset_graph()
    root = _root(tmp_path, {E: _without(SEPTEMBER, "2025-09-10"), "registry": ["current"]})
    planner = Planner(Lake(root), graph, now=NOON)
    assert planner.blockers("daily_two_inputs", "2025-09-10") == [(E, "2025-09-10")]
    assert planner.blockers("daily_two_inputs", "2025-09-11") == []


def test_a_missing_partition_blocks_its_readers_once_it_is_due(tmp_path: Path) -> None:
    """With events' cadence at 03:00, day 09-29 is due 09-30 03:00 and 09-28 a day earlier: a
    reader of both is blocked by 09-28 only until 03:00, then by both (due at 03:00 exactly)."""
    root = _root(tmp_path, {E: _without(SEPTEMBER, "2025-09-28", "2025-09-29")})
    before = dt.datetime(2025, 9, 30, 2, 59, tzinfo=dt.UTC)
    at = dt.datetime(2025, 9, 30, 3, tzinfo=dt.UTC)
    due = {E: DAILY_CRON}
    assert _planner(root, before, due=due).blockers("daily_window", "2025-09-29") == [
        (E, "2025-09-28")
    ]
    assert _planner(root, at, due=due).blockers("daily_window", "2025-09-29") == [
        (E, "2025-09-28"),
        (E, "2025-09-29"),
    ]
    state = _planner(root, before, due=due).asset(E)
    assert state.due_at == {
        "2025-09-28": dt.datetime(2025, 9, 29, 3, tzinfo=dt.UTC),
        "2025-09-29": at,
    }
    assert state.unsettled(before) == {"2025-09-28"}
    assert state.unsettled(at) == {"2025-09-28", "2025-09-29"}


def test_stale_and_in_progress_partitions_block_their_readers(tmp_path: Path) -> None:
    """Stale: built from inputs other than today's (its lineage says so). In progress: a run or
    backfill targets it (None: the whole asset)."""
    root = _root(tmp_path, {E: SEPTEMBER})
    _rebuild(root, E, "2025-09-15", inputs="what it read before")
    planner = _planner(root, running={E: {"2025-09-20", "2025-10-05"}})
    assert planner.asset(E).needs == {"2025-09-15": "stale"}
    assert planner.asset(E).in_progress == {"2025-09-20"}  # 10-05 is not on the grid yet
    assert planner.blockers("daily_window", "2025-09-16") == [(E, "2025-09-15")]
    assert planner.blockers("daily_window", "2025-09-21") == [(E, "2025-09-20")]
    assert planner.blockers("daily_window", "2025-09-25") == []
    everything = _planner(root, running={E: None})
    assert everything.asset(E).in_progress == set(SEPTEMBER)
    assert everything.blockers("daily_window", "2025-09-02") == [
        (E, "2025-09-01"),
        (E, "2025-09-02"),
    ]


def test_only_materializable_assets_are_planned(tmp_path: Path) -> None:
    root = _root(tmp_path, {E: _without(SEPTEMBER, "2025-09-10")})
    planner = _planner(root)
    assert planner.asset("raw_feed") is None
    assert planner.asset("no_such_table") is None
    plan = planner.plan(["raw_feed", E], horizon=NOON)
    assert _runs(plan) == [([E], "2025-09-10", "2025-09-10")]


# -- the plan: range runs, same-run blockers, waiting ----------------------------------------
def test_missing_partitions_become_one_run_per_contiguous_range(tmp_path: Path) -> None:
    gone = ("2025-09-10", "2025-09-11", "2025-09-12", "2025-09-14", "2025-09-20")
    root = _root(tmp_path, {E: _without(SEPTEMBER, *gone)})
    plan = _planner(root).plan([E], horizon=NOON, tags={"pacific/trigger": "a test"})
    assert _runs(plan) == [
        ([E], "2025-09-10", "2025-09-12"),
        ([E], "2025-09-14", "2025-09-14"),
        ([E], "2025-09-20", "2025-09-20"),
    ]
    first = plan.requests[0]
    assert first.run_key.startswith("events:2025-09-10..2025-09-12:")
    assert first.tags[REQUEST_TAG] == first.run_key
    assert first.tags["pacific/why"] == "missing"
    assert first.tags["pacific/trigger"] == "a test"
    assert plan.needs == {E: dict.fromkeys(gone, "missing")}
    assert plan.waiting == {} and plan.unlanded == {} and plan.retrying == {}


def test_a_reader_runs_with_its_input_only_for_the_same_period(tmp_path: Path) -> None:
    """Events 09-10 is missing. daily_window 09-10 reads it and joins its run (same grid, same
    period: built after it in the run); daily_window 09-11 and the week of 09-08 read it too but
    are other periods (other grids): they wait for the next evaluation."""
    root = _root(
        tmp_path,
        {
            E: _without(SEPTEMBER, "2025-09-10"),
            "daily_window": _without(SEPTEMBER, "2025-09-10", "2025-09-11"),
            "weekly_window": ["2025-09-01", "2025-09-15", "2025-09-22"],
        },
    )
    # listed reader first: the planner orders assets upstream first itself
    plan = _planner(root).plan(["weekly_window", "daily_window", E], horizon=NOON)
    assert _runs(plan) == [(["daily_window", E], "2025-09-10", "2025-09-10")]
    assert plan.waiting == {"daily_window": ["2025-09-11"], "weekly_window": ["2025-09-08"]}
    assert plan.requests[0].run_key.startswith("daily_window+events:2025-09-10..2025-09-10:")


def test_runs_group_partitions_that_need_the_same_assets(tmp_path: Path) -> None:
    """Events 09-05..09-06 and daily_window 09-05..09-08 are missing. daily_window 09-05 joins
    events' run (same period); 09-06 reads events 09-05 (days_before 2), built by another
    period of the run: it waits, and so do 09-07 and 09-08. A range run builds the same assets
    over each of its keys: 09-05 (both) and 09-06 (events) are two runs. Once events is built,
    the four days are one run."""
    gone = ("2025-09-05", "2025-09-06")
    root = _root(
        tmp_path,
        {
            E: _without(SEPTEMBER, *gone),
            "daily_window": _without(SEPTEMBER, *gone, "2025-09-07", "2025-09-08"),
        },
    )
    plan = _planner(root).plan(["daily_window", E], horizon=NOON)
    assert _runs(plan) == [
        (["daily_window", E], "2025-09-05", "2025-09-05"),
        ([E], "2025-09-06", "2025-09-06"),
    ]
    assert plan.waiting == {"daily_window": ["2025-09-06", "2025-09-07", "2025-09-08"]}
    mark_built(root, E, gone)
    plan = _planner(root).plan(["daily_window", E], horizon=NOON)
    assert _runs(plan) == [(["daily_window"], "2025-09-05", "2025-09-08")]


def test_a_partition_stale_only_because_its_input_is_missing_waits(tmp_path: Path) -> None:
    """daily_window 09-10 is stale (its lineage says so) and reads events 09-10, which is
    missing: events 09-10 is built first; the stale day waits (rebuilt, it may hold what it
    held). Stale 09-20 reads nothing missing: rebuilt now, on its own. (The other days of
    daily_window were written without lineage: trusted, neither stale nor waiting.)"""
    root = _root(tmp_path, {E: _without(SEPTEMBER, "2025-09-10"), "daily_window": SEPTEMBER})
    _rebuild(root, "daily_window", "2025-09-10", inputs="before")
    _rebuild(root, "daily_window", "2025-09-20", inputs="before")
    plan = _planner(root).plan([E, "daily_window"], horizon=NOON)
    assert _runs(plan) == [
        ([E], "2025-09-10", "2025-09-10"),
        (["daily_window"], "2025-09-20", "2025-09-20"),
    ]
    assert plan.requests[1].tags["pacific/why"] == "stale"
    assert plan.waiting == {"daily_window": ["2025-09-10"]}


def test_a_missing_partition_is_requested_once_due_by_the_horizon(tmp_path: Path) -> None:
    root = _root(tmp_path, {E: _without(SEPTEMBER, "2025-09-29")})
    now = dt.datetime(2025, 9, 30, 1, tzinfo=dt.UTC)
    due_at = dt.datetime(2025, 9, 30, 3, tzinfo=dt.UTC)
    early = _planner(root, now, due={E: DAILY_CRON}).plan(
        [E], horizon=due_at - dt.timedelta(minutes=1)
    )
    assert early.requests == [] and early.waiting == {}
    assert early.needs == {E: {"2025-09-29": "missing"}}
    assert early.describe() == "events: 1 missing (2025-09-29)"
    on_time = _planner(root, now, due={E: DAILY_CRON}).plan([E], horizon=due_at)
    assert _runs(on_time) == [([E], "2025-09-29", "2025-09-29")]


def test_partitions_in_progress_are_not_requested_again(tmp_path: Path) -> None:
    root = _root(tmp_path, {E: _without(SEPTEMBER, "2025-09-10", "2025-09-11", "2025-09-12")})
    plan = _planner(root, running={E: {"2025-09-11"}}).plan([E], horizon=NOON)
    assert _runs(plan) == [([E], "2025-09-10", "2025-09-10"), ([E], "2025-09-12", "2025-09-12")]
    assert _planner(root, running={E: None}).plan([E], horizon=NOON).requests == []


def test_an_unpartitioned_table_joins_the_one_run_that_reads_it(tmp_path: Path) -> None:
    """The registry (unpartitioned) and two contiguous days of its reader are missing: one run,
    the table first. With two separate ranges, it would be read by two runs: it runs alone and
    the readers wait for it."""
    root = _root(
        tmp_path,
        {E: SEPTEMBER, "daily_from_registry": _without(SEPTEMBER, "2025-09-05", "2025-09-06")},
    )
    plan = _planner(root).plan(["daily_from_registry", "registry"], horizon=NOON)
    assert _runs(plan) == [(["registry", "daily_from_registry"], "2025-09-05", "2025-09-06")]
    assert plan.requests[0].run_key.startswith("registry+daily_from_registry:2025-09-05..")
    assert plan.waiting == {}

    two = _root(tmp_path / "two", {E: SEPTEMBER, "daily_from_registry": SEPTEMBER[:4]})
    mark_built(two, "daily_from_registry", ["2025-09-06", *SEPTEMBER[7:]])
    plan = _planner(two).plan(["daily_from_registry", "registry"], horizon=NOON)
    assert _runs(plan) == [(["registry"], "current", "current")]
    assert plan.requests[0].run_key.startswith("registry:current..current:")
    assert ASSET_PARTITION_RANGE_START_TAG not in plan.requests[0].tags
    assert plan.waiting == {"daily_from_registry": ["2025-09-05", "2025-09-07"]}


def test_what_reads_a_waiting_partition_waits_too(tmp_path: Path) -> None:
    """The registry is read by two runs (09-05 and 09-07 of daily_from_registry): it runs alone
    and those days wait for it (as above). daily_after_registry 09-05 and 09-07 read those
    waiting days: they wait too, whatever the order the planner visits them in. (They were
    requested: ``_drop_readers`` looked for dropped inputs among the partitions still wanted,
    where a dropped one no longer is.)"""
    gone = ("2025-09-05", "2025-09-07")
    root = _root(
        tmp_path,
        {
            E: SEPTEMBER,
            "daily_from_registry": _without(SEPTEMBER, *gone),
            "daily_after_registry": _without(SEPTEMBER, *gone),
        },
    )
    targets = ["daily_after_registry", "daily_from_registry", "registry"]
    plan = _planner(root).plan(targets, horizon=NOON)
    assert _runs(plan) == [(["registry"], "current", "current")]
    assert plan.waiting == {
        "daily_from_registry": list(gone),
        "daily_after_registry": list(gone),
    }


def test_the_unpartitioned_table_runs_first_when_alone(tmp_path: Path) -> None:
    """The registry reads every events partition: while events 09-03 is missing it waits. Once
    built, the registry (read by no run of this request) runs on its own, before the others."""
    root = _root(tmp_path, {E: _without(SEPTEMBER, "2025-09-03"), "daily_from_registry": []})
    plan = _planner(root).plan([E, "registry"], horizon=NOON)
    assert _runs(plan) == [([E], "2025-09-03", "2025-09-03")]
    assert plan.waiting == {"registry": ["current"]}
    mark_built(root, E, ["2025-09-03"])
    mark_built(root, "daily_window", _without(SEPTEMBER, "2025-09-20"))
    both = _planner(root).plan(["daily_window", "registry"], horizon=NOON)
    assert _runs(both) == [
        (["registry"], "current", "current"),
        (["daily_window"], "2025-09-20", "2025-09-20"),
    ]


def test_a_table_read_by_several_targets_is_planned_once(tmp_path: Path) -> None:
    """The registry is an input of daily_from_registry and a target itself, and both read
    events: listed in any order, each is judged once (the registry waits once for events)."""
    root = _root(tmp_path, {E: _without(SEPTEMBER, "2025-09-03"), "daily_from_registry": SEPTEMBER})
    plan = _planner(root).plan([E, "daily_from_registry", "registry"], horizon=NOON)
    assert _runs(plan) == [([E], "2025-09-03", "2025-09-03")]
    assert plan.waiting == {"registry": ["current"]}


def test_the_run_key_names_the_state_a_request_answers(tmp_path: Path) -> None:
    """The same lake gives the same run key (the daemon launches it once); a new version of an
    input the request reads gives a new key, one it does not read leaves the key as it was."""
    root = _root(tmp_path, {E: SEPTEMBER, "daily_window": _without(SEPTEMBER, "2025-09-12")})

    def key() -> str:
        (request,) = _planner(root).plan(["daily_window"], horizon=NOON).requests
        return request.run_key

    first = key()
    assert first.startswith("daily_window:2025-09-12..2025-09-12:") and key() == first
    _rebuild(root, E, "2025-09-05")  # not read by 09-12 (reads 09-10..09-12)
    assert key() == first
    _rebuild(root, E, "2025-09-11")
    changed = key()
    assert changed != first and changed.rsplit(":", 1)[0] == first.rsplit(":", 1)[0]
    _rebuild(root, E, "2025-09-10")  # the window's first day
    assert key() != changed

    # an unpartitioned table's key follows what it reads (every events partition)
    def table_key() -> str:
        (request,) = _planner(root).plan(["registry"], horizon=NOON).requests
        return request.run_key

    first = table_key()
    _rebuild(root, E, "2025-09-30")
    assert table_key() != first


# -- failed runs: a new attempt after a backoff -----------------------------------------------
@pytest.mark.parametrize(
    "failed, ended_minutes_ago, attempt, why",
    [
        (0, None, "", None),
        (1, 15, ":attempt2", None),
        (1, 14, None, "failed 1 time(s), retried from 2025-10-01 12:01"),
        (1, None, None, "failed 1 time(s), retried from 2025-10-01 12:15"),
        (2, 30, ":attempt3", None),
        (2, 29, None, "failed 2 time(s), retried from 2025-10-01 12:01"),
        (3, 60, ":attempt4", None),
        (3, 59, None, "failed 3 time(s), retried from 2025-10-01 12:01"),
        (4, 24 * 60, None, "failed 4 time(s), retried no more"),
    ],
)
def test_a_failed_request_backs_off_15_30_60_minutes_then_stops(
    tmp_path: Path, failed, ended_minutes_ago, attempt, why
) -> None:
    """RETRY_BACKOFF × 2^(failures − 1) after the newest failure ended (15, 30, 60 minutes), at
    most 3 retries; no end time known: the backoff counts from now."""
    root = _root(tmp_path, {E: _without(SEPTEMBER, "2025-09-10")})
    asked: list[str] = []

    def failures(request: str) -> tuple[int, dt.datetime | None]:
        asked.append(request)
        ago = ended_minutes_ago
        return failed, (None if ago is None else NOON - dt.timedelta(minutes=ago))

    (plain,) = _planner(root).plan([E], horizon=NOON).requests
    plan = _planner(root, failures=failures).plan([E], horizon=NOON)
    assert asked == [plain.run_key]
    if why is None:
        assert [r.run_key for r in plan.requests] == [plain.run_key + attempt]
        assert plan.retrying == {}
    else:
        assert plan.requests == [] and plan.retrying == {plain.run_key: why}


# -- not landed is not missing ----------------------------------------------------------------
def _land_accounts(root: Path, days: list[str]) -> None:
    for day in days:
        folder = root / "landing" / "crm" / "accounts" / f"date={day}"
        folder.mkdir(parents=True)
        (folder / "export.csv").touch()


def test_buildable_runs_skip_what_no_source_delivered(tmp_path: Path) -> None:
    """Accounts landed 09-05..09-08 and 09-10 (09-09 is a quiet day inside the source's life):
    ``landed`` can be built for 09-05..09-10; before 09-05 the source had not started, after
    09-10 nothing has been delivered yet. ``events`` reads nothing: every key."""
    root = tmp_path / "data"
    _land_accounts(root, ["2025-09-05", "2025-09-06", "2025-09-07", "2025-09-08", "2025-09-10"])
    keys = SEPTEMBER[:12]
    runs = _planner(root).buildable_runs(["landed", E, "not_an_asset"], keys)
    assert runs == [(["events", "not_an_asset"], keys), (["landed"], SEPTEMBER[4:10])]
    gap = _planner(root).buildable_runs(["landed"], ["2025-09-04", "2025-09-05", "2025-09-11"])
    assert gap == [(["landed"], ["2025-09-05"])]


def test_unlanded_partitions_are_neither_missing_nor_stale(tmp_path: Path) -> None:
    root = tmp_path / "data"
    _land_accounts(root, ["2025-09-05", "2025-09-06"])
    mark_built(root, "landed", ["2025-09-05"])
    _rebuild(root, "landed", "2025-09-20", inputs="before")  # built once; nothing landed since
    plan = _planner(root).plan(["landed"], horizon=NOON)
    assert _runs(plan) == [(["landed"], "2025-09-06", "2025-09-06")]
    assert plan.needs == {"landed": {"2025-09-06": "missing"}}
    unlanded = plan.unlanded["landed"]
    assert set(unlanded) == set(SEPTEMBER) - {"2025-09-05", "2025-09-06"}
    assert unlanded["2025-09-04"] == "accounts first landed for 2025-09-05"
    assert unlanded["2025-09-20"] == (
        "no source has delivered data for 2025-09-20 yet (newest landed day: 2025-09-06)"
    )


# -- the tick's time budget (docs/operations.md §3) ------------------------------------------
_TIMEOUT_ENVS = ("DAGSTER_SENSOR_GRPC_TIMEOUT_SECONDS", "DAGSTER_SCHEDULE_GRPC_TIMEOUT_SECONDS")


@pytest.fixture
def seconds(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The monotonic clock TickBudget reads, set by hand (``seconds[0]``): a budget test must not
    race the machine. No budget variable is set."""
    now = [1000.0]
    monkeypatch.setattr(automation.time, "monotonic", lambda: now[0])
    for name in (TICK_BUDGET_ENV, *_TIMEOUT_ENVS):
        monkeypatch.delenv(name, raising=False)
    return now


@pytest.mark.parametrize(
    "env, kind, budget, timeout",
    [
        ({}, "sensor", 30, 60),  # half of Dagster's 60 s
        ({}, "schedule", 30, 60),
        ({"DAGSTER_SENSOR_GRPC_TIMEOUT_SECONDS": "90"}, "sensor", 45, 90),
        ({"DAGSTER_SENSOR_GRPC_TIMEOUT_SECONDS": "90"}, "schedule", 30, 60),
        ({"DAGSTER_SCHEDULE_GRPC_TIMEOUT_SECONDS": "120"}, "schedule", 60, 120),
        ({TICK_BUDGET_ENV: "12.5"}, "sensor", 12.5, 60),
        (
            {TICK_BUDGET_ENV: "12.5", "DAGSTER_SENSOR_GRPC_TIMEOUT_SECONDS": "90"},
            "sensor",
            12.5,
            90,
        ),
    ],
)
def test_a_tick_budget_is_half_of_dagsters_timeout_unless_set(
    seconds, monkeypatch: pytest.MonkeyPatch, env, kind, budget, timeout
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    tick = TickBudget("a tick", kind)
    assert (tick.seconds, tick.timeout) == (budget, timeout)
    assert TickBudget("a tick", kind, seconds=3).seconds == 3  # given: the variables are not read


def test_a_tick_over_its_budget_fails_saying_what_it_was_doing(seconds) -> None:
    tick = TickBudget("events_keeper", "sensor", seconds=30)
    seconds[0] += 30
    assert not tick.exceeded()
    tick.check(lambda: pytest.fail("what it is doing is asked only once the budget is spent"))
    seconds[0] += 1.5
    assert tick.exceeded()
    with pytest.raises(TickBudgetExceeded) as error:
        tick.check(lambda: "planning events 2025-09-10")
    assert str(error.value) == (
        "events_keeper stopped after 31.5 s, over its budget of 30 s (Dagster stops a sensor at "
        "60 s), while planning events 2025-09-10. One evaluation grows with the lake's history "
        "and the disk's speed: see docs/operations.md §3 (set PACIFIC_TICK_BUDGET_SECONDS to "
        "change the budget)."
    )
    with pytest.raises(TickBudgetExceeded, match="Dagster stops a schedule at 60 s"):
        TickBudget("events_daily", "schedule", seconds=0).fail("judging")


def test_the_planner_checks_its_budget_per_partition_it_judges_and_plans(
    tmp_path: Path, seconds
) -> None:
    """Over budget while reading an asset's partitions: it names the asset and how far it got.
    Within budget while reading, over it while planning: it names the partition."""
    root = _root(tmp_path, {E: _without(SEPTEMBER, "2025-09-10")})
    budget = TickBudget("events_keeper", seconds=10)
    seconds[0] += 11
    with pytest.raises(TickBudgetExceeded, match=r"while evaluating events \(0 of 30 partitions\)"):
        _planner(root, budget=budget).asset(E)
    budget = TickBudget("events_keeper", seconds=10)
    planner = _planner(root, budget=budget)
    assert planner.asset(E).needs == {"2025-09-10": "missing"}
    seconds[0] += 11
    with pytest.raises(TickBudgetExceeded, match="while planning events 2025-09-10"):
        planner.plan([E], horizon=NOON)


# -- runs in progress and failed runs, from the instance ---------------------------------------
@pytest.fixture(scope="module")
def _one_instance():
    with dg.instance_for_test() as instance:
        yield instance


@pytest.fixture
def instance(_one_instance):
    """One temporary instance for the file (creating one costs ~0.3-1 s, and mutmut runs the
    file for every mutant), emptied after each test: runs deleted, backfills canceled."""
    yield _one_instance
    for run in _one_instance.get_runs():
        _one_instance.delete_run(run.run_id)
    for backfill in _one_instance.get_backfills():
        _one_instance.update_backfill(backfill.with_status(BulkActionStatus.CANCELED))


def _run(instance, run_id: str, assets: list[str], tags: dict[str, str], status=None) -> None:
    instance.add_run(
        dg.DagsterRun(
            job_name="__ASSET_JOB",
            run_id=run_id,
            status=status or dg.DagsterRunStatus.STARTED,
            asset_selection=frozenset(dg.AssetKey(a) for a in assets),
            tags=tags,
        )
    )


def _range(first: str, last: str) -> dict[str, str]:
    return {ASSET_PARTITION_RANGE_START_TAG: first, ASSET_PARTITION_RANGE_END_TAG: last}


def test_in_progress_reads_active_runs_and_requested_backfills(instance) -> None:
    _run(instance, "a", [E], _range("2025-09-10", "2025-09-11"))
    _run(instance, "b", [E], {"dagster/partition": "2025-09-20"})
    _run(instance, "c", ["daily_window"], {})  # no partition tags: the whole asset
    _run(instance, "d", ["daily_window"], _range("2025-09-01", "2025-09-02"))
    _run(instance, "e", ["registry"], {})
    _run(instance, "f", ["weekly_window"], _range("2025-09-01", "2025-09-01"))
    instance.report_run_failed(instance.get_run_by_id("f"))  # over: not in progress
    _run(instance, "g", ["monthly_all"], {}, status=dg.DagsterRunStatus.NOT_STARTED)
    backfill = PartitionBackfill.from_asset_partitions(
        backfill_id="bf",
        asset_graph=GRAPH,
        partition_names=["2025-09-08"],
        asset_selection=[dg.AssetKey("weekly_through")],
        backfill_timestamp=time.time(),
        tags={},
        dynamic_partitions_store=instance,
        all_partitions=False,
        title=None,
        description=None,
        run_config=None,
    )
    instance.add_backfill(backfill)
    assert in_progress(instance, GRAPH) == {
        E: {"2025-09-10", "2025-09-11", "2025-09-20"},
        "daily_window": None,
        "registry": {"current"},
        "monthly_all": None,
        "weekly_through": {"2025-09-08"},
    }


def test_failed_runs_counts_failed_and_canceled_runs_of_the_request(instance) -> None:
    first, newest = NOON, NOON + dt.timedelta(minutes=7)
    assert failed_runs(instance, "req") == (0, None)
    for run_id, request in (("x", "req"), ("y", "req"), ("z", "other"), ("ok", "req")):
        _run(instance, run_id, [E], {REQUEST_TAG: request})
    with moved_clock(lambda: first):
        instance.report_run_failed(instance.get_run_by_id("x"))
        instance.report_run_failed(instance.get_run_by_id("z"))
    with moved_clock(lambda: newest):
        instance.report_run_canceled(instance.get_run_by_id("y"))
    assert failed_runs(instance, "req") == (2, newest)


# -- the schedules and sensors --------------------------------------------------------------
@functools.cache
def _defs() -> dg.Definitions:
    """The toy graph with two schedules and two keepers. Built on first use, inside a test, not
    at import: mutmut's workers fork from a process that imported this file, so a schedule
    built at import would be the unmutated one in every mutant run."""
    return dg.Definitions(
        assets=ASSETS,
        schedules=[
            # a schedule that declares no cadence (listed first): due_crons skips it
            dg.ScheduleDefinition(
                name="a_plain_schedule",
                cron_schedule="0 1 * * *",
                target=dg.AssetSelection.assets("monthly_all"),
            ),
            cadence_schedule("events_daily", [E, "daily_window"], DAILY_CRON, "the daily build"),
            cadence_schedule("weekly_build", ["weekly_through"], "0 4 * * 1", "the weekly build"),
        ],
        sensors=[
            keeper_sensor("events_keeper", [E, "daily_window"], "keeps events", 120),
            keeper_sensor("landed_keeper", ["landed"], "keeps landed"),
        ],
        resources={"lake": LakeResource()},  # each evaluation hands in its own data root
    )


def _repo() -> dg.RepositoryDefinition:
    return _defs().get_repository_def()


def _sense(root: Path, now: dt.datetime, instance, name: str = "events_keeper"):
    with (
        moved_clock(lambda: now),
        dg.build_sensor_context(
            instance=instance,
            definitions=_defs(),
            resources={"lake": LakeResource(data_root=str(root))},
        ) as context,
    ):
        return _defs().resolve_sensor_def(name).evaluate_tick(context)


def test_schedules_declare_their_cadence_and_sensors_their_assets() -> None:
    assert due_crons(_repo()) == {
        E: DAILY_CRON,
        "daily_window": DAILY_CRON,
        "weekly_through": "0 4 * * 1",
    }
    plain = dg.ScheduleDefinition(
        name="plain", cron_schedule="0 1 * * *", target=dg.AssetSelection.assets(E)
    )
    assert declared_cadence(plain) is None
    schedule = _repo().get_schedule_def("events_daily")
    assert declared_cadence(schedule) == (DAILY_CRON, [E, "daily_window"])
    assert (schedule.cron_schedule, schedule.execution_timezone) == (DAILY_CRON, "UTC")
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    assert schedule.description == "the daily build"
    sensor = _repo().get_sensor_def("events_keeper")
    assert sensor.minimum_interval_seconds == 120
    assert _repo().get_sensor_def("landed_keeper").minimum_interval_seconds == 60
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert sensor.description == "keeps events"
    assert sensor.asset_selection.resolve(GRAPH) == {dg.AssetKey(E), dg.AssetKey("daily_window")}


def test_the_keeper_leaves_a_due_partition_to_its_schedule_for_15_minutes(
    tmp_path: Path, instance
) -> None:
    """Events 09-30 is due 10-01 03:00 (the schedule's tick); the sensor requests it from
    03:15 on, and says before then what it leaves to the schedule."""
    root = _root(tmp_path, {E: SEPTEMBER[:-1], "daily_window": SEPTEMBER})
    at = dt.datetime(2025, 10, 1, 3, 14, tzinfo=dt.UTC)
    early = _sense(root, at, instance)
    assert early.run_requests == []
    assert early.skip_message == "nothing due yet (events: 1 missing (2025-09-30))"
    late = _sense(root, at + dt.timedelta(minutes=1), instance)
    assert [(r.tags[ASSET_PARTITION_RANGE_START_TAG], r.tags["pacific/trigger"])
            for r in late.run_requests] == [("2025-09-30", "events_keeper")]  # fmt: skip


def test_the_schedule_builds_what_is_due_by_its_tick(tmp_path: Path, instance) -> None:
    """The tick of 10-01 03:00 builds 09-30 even when evaluated a minute early (the horizon is
    the later of the tick and now), and says why it skips when nothing is due."""
    root = _root(tmp_path, {E: SEPTEMBER[:-1], "daily_window": SEPTEMBER[:-1]})
    tick = dt.datetime(2025, 10, 1, 3, tzinfo=dt.UTC)

    def evaluate(now: dt.datetime, at: dt.datetime):
        with (
            moved_clock(lambda: now),
            dg.build_schedule_context(
                instance=instance,
                scheduled_execution_time=at,
                resources={"lake": LakeResource(data_root=str(root))},
                repository_def=_repo(),
            ) as context,
        ):
            return _repo().get_schedule_def("events_daily").evaluate_tick(context)

    result = evaluate(tick - dt.timedelta(minutes=1), tick)
    assert [(r.run_key.split(":")[0], r.tags["pacific/trigger"]) for r in result.run_requests] == [
        ("daily_window+events", "events_daily")
    ]
    early = evaluate(tick - dt.timedelta(hours=2), tick - dt.timedelta(hours=2))
    assert early.run_requests == []
    assert early.skip_message == (
        "nothing due yet (daily_window: 1 missing (2025-09-30); events: 1 missing (2025-09-30))"
    )


def test_skip_texts_say_what_waits_and_for_what(tmp_path: Path, instance) -> None:
    root = _root(tmp_path, {E: SEPTEMBER, "daily_window": SEPTEMBER})
    assert _sense(root, NOON, instance).skip_message == "everything is up to date"
    # events 09-12 in progress: the stale reader days that read it wait
    _rebuild(root, "daily_window", "2025-09-13", inputs="before")
    _rebuild(root, "daily_window", "2025-09-14", inputs="before")
    _run(instance, "running", [E], {"dagster/partition": "2025-09-12"})
    assert _sense(root, NOON, instance).skip_message == (
        "waiting for upstream partitions: daily_window 2025-09-13..2025-09-14"
    )


def test_skip_text_after_failed_runs_names_the_request_and_when_it_is_retried(
    tmp_path: Path, instance
) -> None:
    root = _root(tmp_path, {E: _without(SEPTEMBER, "2025-09-10"), "daily_window": SEPTEMBER})
    (request,) = _sense(root, NOON, instance).run_requests
    assert request.tags[REQUEST_TAG].startswith("events:2025-09-10..2025-09-10:")
    _run(instance, "failed", [E], {REQUEST_TAG: request.tags[REQUEST_TAG]})
    with moved_clock(lambda: NOON):
        instance.report_run_failed(instance.get_run_by_id("failed"))
    result = _sense(root, NOON + dt.timedelta(minutes=5), instance)
    assert result.run_requests == []
    assert result.skip_message == (
        "waiting after failed runs: events 2025-09-10..2025-09-10 "
        "(failed 1 time(s), retried from 2025-10-01 12:15)"
    )


def test_skip_text_lists_what_no_source_delivered(tmp_path: Path, instance) -> None:
    root = tmp_path / "data"
    _land_accounts(root, ["2025-09-05", "2025-09-06"])
    mark_built(root, "landed", ["2025-09-05", "2025-09-06"])
    result = _sense(root, NOON, instance, "landed_keeper")
    assert result.skip_message == (
        "everything is up to date; no source data yet for landed 2025-09-01..2025-09-30 "
        "(28: accounts first landed for 2025-09-05)"
    )


def test_skip_texts_list_every_request_table_and_kind() -> None:
    """Several requests, tables and kinds in one text, each joined as written by hand here: the
    tick's skip reason is what the on-call reads in the UI (docs/operations.md §3)."""
    needs = {
        "events": {"2025-09-10": "missing", "2025-09-11": "stale", "2025-09-12": "missing"},
        "daily_window": {"2025-09-13": "stale"},
    }
    plan = Plan([], needs, {})
    assert plan.describe() == (
        "daily_window: 1 stale (2025-09-13); events: 2 missing (2025-09-10..2025-09-12), "
        "1 stale (2025-09-11)"
    )
    assert _skip_text(plan) == f"nothing due yet ({plan.describe()})"
    waiting = {"weekly_window": ["2025-09-08"], "daily_window": ["2025-09-14", "2025-09-13"]}
    assert _skip_text(Plan([], needs, waiting)) == (
        "waiting for upstream partitions: daily_window 2025-09-13..2025-09-14; "
        "weekly_window 2025-09-08"
    )
    retrying = {
        "events:2025-09-10..2025-09-10:f00d": "failed 1 time(s), retried from 2025-10-01 12:15",
        "daily_window+events:2025-09-12..2025-09-13:beef": "failed 4 time(s), retried no more",
    }
    unlanded = {
        "landed": {"2025-09-02": "accounts first landed for 2025-09-05", "2025-09-01": "first"},
        "staged": {"2025-09-30": "no source has delivered data for 2025-09-30 yet"},
    }
    assert _skip_text(Plan([], needs, waiting, unlanded, retrying)) == (
        "waiting after failed runs: daily_window+events 2025-09-12..2025-09-13 (failed 4 "
        "time(s), retried no more); events 2025-09-10..2025-09-10 (failed 1 time(s), retried "
        "from 2025-10-01 12:15); no source data yet for landed 2025-09-01..2025-09-02 (2: "
        "first); staged 2025-09-30 (1: no source has delivered data for 2025-09-30 yet)"
    )
