"""`make demo`: simulate the company, materialize every asset over its whole history, summarize.

Runs in-process against the project-local Dagster instance (``DAGSTER_HOME``), so the runs, asset
materializations and check results show up in the UI afterwards (``make dev``). Assets run in
waves (an asset runs once everything upstream has), each wave split by partition grid, and each
run covers the grid's whole range: a handful of runs, never one per day.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections import defaultdict
from collections.abc import Collection
from pathlib import Path

import dagster as dg

from pacific_assets.dagster_compat import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
)
from pacific_assets.data_root import RECORD, GridsError
from pacific_assets.resources import LakeResource, lake_resource_from_env
from pacific_assets.storage.catalog import catalog_tables, refresh_catalog
from pacific_assets.storage.duck import connect

log = logging.getLogger("pacific_tools.demo")


#: The console shows warnings only; every event is still in the instance for the UI.
_QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def _range_tags(first_last: list[str] | None) -> dict[str, str]:
    if first_last is None:
        return {}
    first, last = first_last
    return {ASSET_PARTITION_RANGE_START_TAG: first, ASSET_PARTITION_RANGE_END_TAG: last}


def grid_waves(
    defs: dg.Definitions, keys: Collection[dg.AssetKey] | None = None
) -> list[tuple[dg.PartitionsDefinition | None, list[dg.AssetKey]]]:
    """The runs that build ``keys`` (default: every materializable asset) parents-first, as
    (partition grid, keys of one run); ``make demo``, the tests and the benchmark run in these.

    A wave holds the keys whose parents among ``keys`` ran in earlier waves (parents outside
    ``keys`` are taken as there); each wave is split by partition grid, in topological order.
    """
    graph = defs.resolve_asset_graph()
    wanted = set(graph.materializable_asset_keys if keys is None else keys)
    todo = [k for k in graph.toposorted_asset_keys if k in wanted]
    done: set[dg.AssetKey] = set()
    runs: list[tuple[dg.PartitionsDefinition | None, list[dg.AssetKey]]] = []
    while todo:
        wave = [
            k for k in todo if all(p in done or p not in wanted for p in graph.get(k).parent_keys)
        ]
        by_grid: dict[dg.PartitionsDefinition | None, list[dg.AssetKey]] = defaultdict(list)
        for key in wave:
            by_grid[graph.get(key).partitions_def].append(key)
        runs.extend(by_grid.items())
        done.update(wave)
        todo = [k for k in todo if k not in done]
    return runs


def materialize_all(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    quiet: bool = False,
    keys: Collection[dg.AssetKey] | None = None,
) -> list[dict]:
    """Materialize every asset (or ``keys``, parents first) over every partition its sources
    delivered data for (nothing is built from nothing: ``automation.Planner.buildable_runs``);
    returns one record per run."""
    say = (lambda _m: None) if quiet else (lambda m: print(m, flush=True))
    job = defs.resolve_implicit_global_asset_job_def()
    graph = defs.resolve_asset_graph()
    lake = defs.resources.get("lake") if defs.resources else None
    runs = []
    for pdef, wave in grid_waves(defs, keys):
        for keys, first_last in wave_runs(graph, lake, pdef, wave):
            started = time.monotonic()
            names = ", ".join(k.to_user_string() for k in keys)
            say(f"  materializing {names} ({_describe(first_last)}) ...")
            result = job.execute_in_process(
                run_config=_QUIET,
                instance=instance,
                asset_selection=keys,
                tags={**_range_tags(first_last), "pacific/source": "make-demo"},
                raise_on_error=False,
            )
            failed_checks = [
                f"{e.asset_check_evaluation_data.asset_check_key.name} "
                f"({e.asset_check_evaluation_data.asset_key.to_user_string()})"
                for e in result.all_events
                if e.event_type_value == "ASSET_CHECK_EVALUATION"
                and not e.asset_check_evaluation_data.passed
            ]
            runs.append(
                {
                    "assets": names,
                    "ok": result.success,
                    "seconds": round(time.monotonic() - started, 1),
                    "steps": step_seconds(instance, result.run_id),
                    "failed_checks": failed_checks,
                    "run_id": result.run_id,
                }
            )
            status = "ok" if result.success else "FAILED"
            say(f"    {status} in {runs[-1]['seconds']} s, run {result.run_id[:8]}")
    return runs


def wave_runs(
    graph,
    lake,
    pdef: dg.PartitionsDefinition | None,
    wave: list[dg.AssetKey],
    first: str | None = None,
    last: str | None = None,
) -> list[tuple[list[dg.AssetKey], list[str] | None]]:
    """The runs of one wave on one grid: (keys, [first, last] partition keys, or None when
    unpartitioned), over the grid's keys in ``first..last`` (default: all) that the sources
    delivered data for, when ``lake`` is the project's ``LakeResource``."""
    if pdef is None:
        return [(wave, None)]
    keys = [k for k in pdef.get_partition_keys() if (first or k) <= k <= (last or k)]
    if not keys:
        return []  # the grid has no partition yet (a replay's first days): nothing to run
    if not isinstance(lake, LakeResource):  # definitions without the project's lake
        return [(wave, [keys[0], keys[-1]])]
    from pacific_assets.automation import Planner

    planner = Planner(lake.lake, graph)
    runs = planner.buildable_runs([k.to_user_string() for k in wave], keys)
    return [([dg.AssetKey(t) for t in tables], [ks[0], ks[-1]]) for tables, ks in runs]


def step_seconds(instance: dg.DagsterInstance, run_id: str, digits: int = 1) -> dict[str, float]:
    """Seconds each step of a run spent in its asset body, as the instance recorded them."""
    return {
        s.step_key: round(s.end_time - s.start_time, digits)
        for s in instance.get_run_step_stats(run_id)
        if s.start_time and s.end_time
    }


def time_report(runs: list[dict], shown: int = 10) -> list[str]:
    """Where the materialize time went: the slowest steps (including the storing of their
    per-partition materialization events), then everything outside them (run creation)."""
    steps = sorted(((sec, key) for r in runs for key, sec in r["steps"].items()), reverse=True)
    total = sum(r["seconds"] for r in runs)
    in_steps = sum(sec for sec, _ in steps)
    lines = [f"    {key:34} {sec:7.1f} s" for sec, key in steps[:shown]]
    rest = steps[shown:]
    if rest:
        lines.append(f"    {f'{len(rest)} other steps':34} {sum(s for s, _ in rest):7.1f} s")
    lines.append(f"    {'outside the steps (orchestration)':34} {total - in_steps:7.1f} s")
    return lines


def _describe(first_last: list[str] | None) -> str:
    if first_last is None:
        return "unpartitioned"
    return f"{first_last[0]}…{first_last[1]}"


def _table_summary(lake) -> list[tuple[str, int, int, float]]:
    rows = []
    with connect() as con:
        for table in lake.tables():
            n = con.execute(
                f"select count(*) from read_parquet('{lake.glob(table)}', union_by_name=true)"
            ).fetchone()[0]
            size = sum(f.stat().st_size for f in map(Path, lake.partition_files(table)))
            rows.append((table, len(lake.partition_keys(table)), n, size / 1e6))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fresh", action="store_true", help="re-simulate even if data exists")
    parser.add_argument("--profile", default="demo", help="simulator profile (default: demo)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    started = time.monotonic()

    resource = lake_resource_from_env()
    lake = resource.lake
    from pacific_tools.simulate import simulate

    manifest = lake.truth / "fault_manifest.json"
    try:
        if args.fresh or not manifest.exists():
            print(
                f"1/3 simulating the '{args.profile}' company into {lake.landing} ...", flush=True
            )
            simulate(lake.root, profile=args.profile)
        else:
            print(f"1/3 using simulated data already in {lake.landing} (--fresh to regenerate)")
        # the grids are the data root's (pacific_assets.data_root): loaded once it holds a company
        from pacific_assets import partitions
    except GridsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    simulated_from = json.loads(manifest.read_text()).get("start")
    if simulated_from != partitions.START_DATE:
        # its days before the grid would never be built, or the grid's first days never land
        print(
            f"error: {lake.landing} holds a company simulated from {simulated_from}, but the "
            f"partition grids start on {partitions.START_DATE} ({lake.root / RECORD}); start "
            "over with `make clean`, or point PACIFIC_DATA_ROOT elsewhere",
            file=sys.stderr,
        )
        return 2

    print("2/3 materializing every asset (range runs) ...", flush=True)
    from pacific_assets.definitions import defs

    if not os.environ.get("DAGSTER_HOME"):
        print("error: DAGSTER_HOME is not set; run through `make demo`", file=sys.stderr)
        return 2
    # One "planned" event per asset and run instead of one per partition: the SQLite instance
    # stores each event in ~10 ms, and 458 days x 15 daily assets made that a minute of the demo
    # (docs/benchmarks.md). Dagster's own switch; its cost: a failed demo run leaves its
    # partitions "missing", not "failed", in the UI (the summary still names the failed run).
    os.environ.setdefault("DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS", "1")
    steps = {"simulate": time.monotonic() - started}
    t = time.monotonic()
    with dg.DagsterInstance.get() as instance:
        runs = materialize_all(defs, instance)
        steps["materialize"] = time.monotonic() - t
        # the instance knows every partition it built; anything else the lake holds (a lake
        # carried over from another instance) is reported, so the UI and sensors agree
        from pacific_tools.sync import sync

        t = time.monotonic()
        reported = sync(instance, defs.resolve_asset_graph(), lake)
        steps["sync"] = time.monotonic() - t

    # the catalog was built by its asset, duckdb_catalog, in the last wave (downstream of every
    # lake table); rebuilt here only if that run failed, so the analysts' file always works
    views = catalog_tables(lake)
    if views != lake.tables():
        print("3/3 refreshing the DuckDB catalog ...", flush=True)
        views = refresh_catalog(lake)

    print("\nSummary")
    print(f"  data root : {lake.root}")
    print(f"  catalog   : {lake.catalog_path} ({len(views)} views)")
    print(f'  try       : .venv/bin/duckdb -readonly {lake.catalog_path} "from unit_profit"')
    print(f"  {'table':32} {'partitions':>10} {'rows':>12} {'MB':>8}")
    for table, parts, n, mb in _table_summary(lake):
        print(f"  {table:32} {parts:>10} {n:>12,} {mb:>8.1f}")
    reports = sorted(lake.reports.rglob("*.html")) if lake.reports.exists() else []
    if reports:
        print(f"  reports   : {len(reports)} HTML packs, newest {reports[-1]}")
    failed_runs = [r for r in runs if not r["ok"]]
    failed_checks = sorted({c for r in runs for c in r["failed_checks"]})
    print(f"  runs      : {len(runs)} ({len(failed_runs)} failed)")
    if failed_checks:
        print(f"  checks    : {len(failed_checks)} failed (expected: the simulator injects faults)")
        for c in failed_checks:
            print(f"              - {c}")
    print(f"  synced    : {len(reported)} lake partition(s) the instance did not know")
    per_step = ", ".join(f"{name} {sec:.0f} s" for name, sec in steps.items())
    print(f"  wall time : {time.monotonic() - started:.0f} s ({per_step})")
    print("  materialize time by step (slowest first):")
    for line in time_report(runs):
        print(line)
    print("  UI        : make dev  ->  http://127.0.0.1:3000")
    return 1 if failed_runs else 0


if __name__ == "__main__":
    sys.exit(main())
