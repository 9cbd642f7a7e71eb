"""The work the benchmark measures, one task per fresh process: ``python -m bench.child <task>``.

The parent (bench/run.py) sets ``PACIFIC_DATA_ROOT``, ``DAGSTER_HOME`` (a temporary instance with
SQLite storage, like a launched run's), the DuckDB and Spark memory settings, and ``BENCH_REPORT``:
the file this process writes its JSON report to. Tasks:

- ``materialize --assets a,b [--start K --end K | --partition K]``: the real Dagster assets of the
  code location (``pacific_assets.definitions``) in one run, ``job.execute_in_process`` with the
  range tags — the way a single-run backfill of a range executes;
- ``waves --target T --start D --end D``: every missing upstream asset of ``T`` over the data's
  range, in dependency waves (data preparation for the Spark rollup, not measured);
- ``sql-baseline --start D --end D --out DIR``: the hand-written DuckDB query (sql/) doing the
  engagement chain's work in one statement;
- ``planner-lake --years N`` / ``planner-tick --sensor NAME``: a synthetic data root of N years
  of history, and one sensor tick over it (bench/planner.py).
- ``tick --iterations N``: on the instance of ``DAGSTER_HOME`` (SQLite or PostgreSQL: the
  ``instance`` section), the lake reported to it (``pacific_tools.sync``), then every sensor
  evaluated through Dagster's public ``evaluate_tick`` and Dagster's own sensor-daemon iteration
  (instigator state, tick rows, run keys) over the code location loaded in process.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
import traceback
import warnings
from pathlib import Path

SQL_DIR = Path(__file__).with_name("sql")


def _report(payload: dict) -> None:
    path = os.environ.get("BENCH_REPORT")
    text = json.dumps(payload, indent=2, default=str)
    if path:
        Path(path).write_text(text)
    else:
        print(text)


def _range_tags(start: str, end: str) -> dict[str, str]:
    # imported here: the code location's import is timed in _load_definitions
    from pacific_assets.dagster_compat import (
        ASSET_PARTITION_RANGE_END_TAG,
        ASSET_PARTITION_RANGE_START_TAG,
    )

    return {
        ASSET_PARTITION_RANGE_START_TAG: start,
        ASSET_PARTITION_RANGE_END_TAG: end,
    }


def _rss_mb() -> float:
    import psutil

    return round(psutil.Process().memory_info().rss / 2**20, 1)


def _load_definitions():
    """Import the code location (timed: this is what every launched run pays first)."""
    warnings.filterwarnings("ignore")
    started = time.perf_counter()
    from pacific_assets.definitions import defs

    job = defs.resolve_implicit_global_asset_job_def()
    return defs, job, time.perf_counter() - started


def _run_summary(instance, result) -> dict:
    """Step wall times from the instance (compute inside the asset bodies) and failures."""
    from pacific_tools.demo import step_seconds

    steps = step_seconds(instance, result.run_id, digits=3)
    failures = [
        f"{e.step_key}: {_root_cause(e.step_failure_data.error)}"
        for e in result.all_events
        if e.event_type_value == "STEP_FAILURE" and e.step_failure_data.error
    ]
    materialized = sum(
        1 for e in result.all_events if e.event_type_value == "ASSET_MATERIALIZATION"
    )
    return {"steps": steps, "failures": failures, "materializations": materialized}


def _root_cause(error) -> str:
    """The innermost error message (Dagster wraps the asset's exception in its own)."""
    while error.cause is not None:
        error = error.cause
    return error.message.strip()[:800]


def materialize(args: argparse.Namespace) -> dict:
    import dagster as dg

    _defs, job, import_seconds = _load_definitions()
    keys = [dg.AssetKey(a) for a in args.assets.split(",")]
    tags = {"pacific/source": "bench"}
    partition_key = None
    if args.partition:
        partition_key = args.partition
    elif args.start:
        tags.update(_range_tags(args.start, args.end or args.start))
    with dg.DagsterInstance.get() as instance:
        rss_before_run = _rss_mb()  # the code location and instance loaded, no data read yet
        started = time.perf_counter()
        result = job.execute_in_process(
            instance=instance,
            asset_selection=keys,
            partition_key=partition_key,
            tags=tags,
            raise_on_error=False,
        )
        run_seconds = time.perf_counter() - started
        summary = _run_summary(instance, result)
    return {
        "ok": result.success,
        "import_seconds": round(import_seconds, 3),
        "run_seconds": round(run_seconds, 3),
        "rss_before_run_mb": rss_before_run,
        "run_id": result.run_id,
        **summary,
    }


def _ancestors(graph, key) -> set:
    seen: set = set()
    todo = [key]
    while todo:
        for parent in graph.get(todo.pop()).parent_keys:
            if parent not in seen:
                seen.add(parent)
                todo.append(parent)
    return seen


def _keys_for(pdef, start: dt.date, end: dt.date) -> list[str]:
    """Partition keys whose window starts in [start, end] (inclusive days)."""
    if pdef is None:
        return []
    last = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), dt.UTC)
    keys = pdef.get_partition_keys(current_time=last + dt.timedelta(days=40))
    return [k for k in keys if start.isoformat() <= k <= end.isoformat()]


def waves(args: argparse.Namespace) -> dict:
    """Materialize what ``--target`` needs and the lake lacks, wave by wave, range runs only."""
    import dagster as dg

    from pacific_assets.resources import lake_resource_from_env
    from pacific_tools.demo import grid_waves

    defs, job, _ = _load_definitions()
    graph = defs.resolve_asset_graph()
    lake = lake_resource_from_env().lake
    start, end = dt.date.fromisoformat(args.start), dt.date.fromisoformat(args.end)
    wanted = _ancestors(graph, dg.AssetKey(args.target)) & graph.materializable_asset_keys
    todo = []
    for key in wanted:
        keys = _keys_for(graph.get(key).partitions_def, start, end)
        present = set(lake.partition_keys(key.to_user_string()))
        done_already = set(keys) <= present if keys else bool(present)
        if done_already:
            continue
        todo.append(key)
    runs = []
    with dg.DagsterInstance.get() as instance:
        for pdef, keys in grid_waves(defs, todo):
            pkeys = _keys_for(pdef, start, end)
            tags = _range_tags(pkeys[0], pkeys[-1]) if pkeys else {}
            started = time.perf_counter()
            result = job.execute_in_process(
                instance=instance, asset_selection=keys, tags=tags, raise_on_error=False
            )
            runs.append(
                {
                    "assets": [k.to_user_string() for k in keys],
                    "partitions": f"{pkeys[0]}..{pkeys[-1]}" if pkeys else "unpartitioned",
                    "ok": result.success,
                    "seconds": round(time.perf_counter() - started, 1),
                    **_run_summary(instance, result),
                }
            )
            print(json.dumps(runs[-1]), file=sys.stderr, flush=True)
    return {"ok": all(r["ok"] for r in runs), "runs": runs}


def prepare(args: argparse.Namespace) -> dict:
    """Simulate a data root, then stage the directory and register the landed click batches."""
    import dagster as dg

    from pacific_tools.simulate import simulate

    root = Path(os.environ["PACIFIC_DATA_ROOT"])
    started = time.perf_counter()
    summary = simulate(root, profile=args.profile, seed=args.seed, **json.loads(args.overrides))
    simulate_seconds = time.perf_counter() - started
    directory = sorted(
        p.name.split("=", 1)[1] for p in (root / "landing" / "directory" / "users").glob("date=*")
    )
    _defs, job, _ = _load_definitions()
    runs = {}
    with dg.DagsterInstance.get() as instance:
        for asset, tags in (
            ("stg_directory_users", _range_tags(directory[0], directory[-1])),
            ("raw_clicks", {}),
        ):
            started = time.perf_counter()
            result = job.execute_in_process(
                instance=instance,
                asset_selection=[dg.AssetKey(asset)],
                tags=tags,
                raise_on_error=False,
            )
            runs[asset] = {
                "ok": result.success,
                "seconds": round(time.perf_counter() - started, 1),
                **_run_summary(instance, result),
            }
    return {
        "ok": all(r["ok"] for r in runs.values()),
        "simulate_seconds": round(simulate_seconds, 1),
        "simulated": {
            "start": summary.start,
            "end_exclusive": summary.end,
            "sources": summary.sources,
        },
        "directory_dates": [directory[0], directory[-1]],
        "runs": runs,
    }


def sql_baseline(args: argparse.Namespace) -> dict:
    """One hand-written DuckDB statement over the same landed files and directory table."""
    from pacific_assets.engagement.landing import ClickLanding
    from pacific_assets.resources import lake_resource_from_env

    resource = lake_resource_from_env()
    lake = resource.lake
    started = time.perf_counter()
    days = [
        (dt.date.fromisoformat(args.start) + dt.timedelta(days=i)).isoformat()
        for i in range(
            (dt.date.fromisoformat(args.end) - dt.date.fromisoformat(args.start)).days + 1
        )
    ]
    files = [str(f) for f in ClickLanding(lake.landing).files_for_dates(days)]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with resource.duckdb() as con:
        tmp = lake.root / "tmp" / "duckdb-baseline"
        tmp.mkdir(parents=True, exist_ok=True)
        con.execute(f"SET temp_directory = '{tmp.as_posix()}'")
        con.execute("SET preserve_insertion_order = false")
        con.execute("SET enable_progress_bar = false")
        con.execute(
            (SQL_DIR / "engagement_hours_one_query.sql").read_text(),
            {
                "files": files,
                "start": dt.date.fromisoformat(args.start),
                "end": dt.date.fromisoformat(args.end),
                "directory_glob": lake.glob("stg_directory_users"),
            },
        )
        rows = con.execute("SELECT count(*) FROM engagement_hours_baseline").fetchone()[0]
        con.execute(
            f"COPY engagement_hours_baseline TO '{out.as_posix()}' "
            "(FORMAT parquet, PARTITION_BY (date), OVERWRITE_OR_IGNORE true)"
        )
    return {
        "ok": True,
        "run_seconds": round(time.perf_counter() - started, 3),
        "rows": rows,
        "files_read": len(files),
    }


def planner_lake(args: argparse.Namespace) -> dict:
    from bench import planner

    return {"ok": True, **planner.build_lake(Path(os.environ["PACIFIC_DATA_ROOT"]), args.years)}


def planner_tick(args: argparse.Namespace) -> dict:
    from bench import planner

    return {"ok": True, **planner.tick(args.sensor)}


def tick(args: argparse.Namespace) -> dict:
    """Sync, then the sensors' evaluations and the sensor daemon's iterations, timed."""
    import logging
    import statistics

    import dagster as dg
    import dagster._daemon  # (imports the daemon package in its working order)
    from dagster._core.remote_origin import InProcessCodeLocationOrigin
    from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
    from dagster._core.workspace.context import WorkspaceProcessContext
    from dagster._core.workspace.load_target import InProcessWorkspaceLoadTarget
    from dagster._daemon.sensor import execute_sensor_iteration

    from pacific_assets.dagster_compat import moved_clock
    from pacific_assets.resources import lake_resource_from_env
    from pacific_tools.sync import sync

    defs, _job, import_seconds = _load_definitions()
    lake = lake_resource_from_env().lake
    log = logging.getLogger("bench.tick")
    log.setLevel(logging.ERROR)
    with dg.DagsterInstance.get() as instance:
        storage = type(instance.run_storage).__name__
        started = time.perf_counter()
        reported = sync(instance, defs.resolve_asset_graph(), lake)
        sync_seconds = time.perf_counter() - started

        # 1. what the code server computes per sensor and tick (public evaluate_tick)
        evaluations: dict[str, list[float]] = {s.name: [] for s in defs.sensors}
        requested: dict[str, int] = {}
        for _ in range(args.iterations):
            for sensor in defs.sensors:
                with dg.build_sensor_context(
                    instance=instance, definitions=defs, resources=defs.resources
                ) as context:
                    started = time.perf_counter()
                    result = sensor.evaluate_tick(context)
                    evaluations[sensor.name].append(time.perf_counter() - started)
                requested[sensor.name] = len(result.run_requests or [])

        # 2. Dagster's sensor daemon: one iteration evaluates every sensor that is due (each
        # evaluation opens the instance from its ref, as the code server does), records its tick
        # and submits what it requests (queued: no run launcher works here). The clock moves an
        # hour per iteration so that every sensor, the hourly ones too, is due each time.
        origin = InProcessCodeLocationOrigin(
            LoadableTargetOrigin(module_name="pacific_assets.definitions", working_directory="."),
            location_name="pacific_assets",
        )
        base = dt.datetime.now(dt.UTC)
        iterations = []
        with WorkspaceProcessContext(instance, InProcessWorkspaceLoadTarget(origin)) as workspace:
            for i in range(args.iterations + 1):  # the first creates the sensors' state rows
                now = base + dt.timedelta(hours=i + 1)
                with moved_clock(lambda now=now: now):
                    started = time.perf_counter()
                    for error in execute_sensor_iteration(workspace, log, None, None):
                        if error is not None and hasattr(error, "message"):
                            raise RuntimeError(error.message)
                    iterations.append(time.perf_counter() - started)
        queued = len(instance.get_run_records(dg.RunsFilter(statuses=[dg.DagsterRunStatus.QUEUED])))

    def ms(values: list[float]) -> float:
        return round(statistics.median(values) * 1000, 1)

    keepers = ("clicks_late_data_sensor", "growth_late_crm_events", "profit_late_billing")
    return {
        "ok": True,
        "storage": storage,
        "import_seconds": round(import_seconds, 3),
        "sync_seconds": round(sync_seconds, 3),
        "synced_partitions": len(reported),
        "sensors": len(evaluations),
        "evaluate_ms": {name: ms(v) for name, v in evaluations.items()},
        "evaluate_all_ms": round(sum(ms(v) for v in evaluations.values()), 1),
        "evaluate_keepers_ms": {k: ms(evaluations[k]) for k in keepers if k in evaluations},
        "requests_per_evaluation": requested,
        "daemon_first_iteration_ms": round(iterations[0] * 1000, 1),
        "daemon_iteration_ms": ms(iterations[1:]),
        "daemon_iterations_ms": [round(x * 1000, 1) for x in iterations],
        "runs_queued_by_daemon": queued,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.child")
    sub = parser.add_subparsers(dest="task", required=True)
    m = sub.add_parser("materialize")
    m.add_argument("--assets", required=True, help="comma-separated asset keys")
    m.add_argument("--start")
    m.add_argument("--end")
    m.add_argument("--partition")
    w = sub.add_parser("waves")
    w.add_argument("--target", required=True)
    w.add_argument("--start", required=True)
    w.add_argument("--end", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("--profile", required=True)
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--overrides", default="{}", help="simulator overrides as JSON")
    s = sub.add_parser("sql-baseline")
    s.add_argument("--start", required=True)
    s.add_argument("--end", required=True)
    s.add_argument("--out", required=True)
    pl_ = sub.add_parser("planner-lake")
    pl_.add_argument("--years", type=int, required=True)
    pt = sub.add_parser("planner-tick")
    pt.add_argument("--sensor", required=True)
    t = sub.add_parser("tick")
    t.add_argument("--iterations", type=int, default=3)
    args = parser.parse_args(argv)
    task = {
        "materialize": materialize,
        "waves": waves,
        "prepare": prepare,
        "sql-baseline": sql_baseline,
        "planner-lake": planner_lake,
        "planner-tick": planner_tick,
        "tick": tick,
    }[args.task]
    try:
        report = task(args)
    except Exception as exc:
        traceback.print_exc()
        report = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:2000]}
    _report(report)
    return 0 if report.get("ok") else 1


if __name__ == "__main__":
    sys.exit(main())
