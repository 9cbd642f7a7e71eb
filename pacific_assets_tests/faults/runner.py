"""A real Dagster run of the real code location in its own process (the fault tests' subject).

    PACIFIC_DATA_ROOT=<root> python -m pacific_assets_tests.faults.runner \
        --assets stg_clicks,user_engagement_daily [--partition K | --start K --end K] [--barrier DIR]
    PACIFIC_DATA_ROOT=<root> python -m pacific_assets_tests.faults.runner --waves \
        --start 2025-09-01 --last daily=2025-12-09,weekly=2025-12-01,monthly=2025-11-01 \
        [--groups staging,engagement]

Loads ``pacific_assets.definitions`` (resources from the environment, like a launched run),
then runs the selected assets with ``job.execute_in_process`` on an ephemeral instance. With
``--barrier DIR`` it writes ``DIR/<pid>.ready`` after loading and waits for ``DIR/go`` before the
run starts, so a test can make two processes run at the same moment. Prints one JSON line:
ok, run wall-clock start/end, failures. ``--waves`` runs every materializable asset (of
``--groups``) in dependency waves, one range run per wave and partition grid, like ``make demo``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path


def _grain(pdef) -> str | None:
    import dagster as dg

    if pdef is None:
        return None
    if isinstance(pdef, dg.WeeklyPartitionsDefinition):
        return "weekly"
    if isinstance(pdef, dg.MonthlyPartitionsDefinition):
        return "monthly"
    return "daily"


def run_waves(start: str, last: dict[str, str], groups: set[str] | None) -> dict:
    """Every materializable asset in dependency waves; returns the failed step keys."""
    import dagster as dg

    from pacific_assets.definitions import defs
    from pacific_assets_tests.runs import range_tags
    from pacific_tools.demo import grid_waves, wave_runs

    graph = defs.resolve_asset_graph()
    job = defs.resolve_implicit_global_asset_job_def()
    instance = dg.DagsterInstance.ephemeral()
    keys = {
        k
        for k in graph.materializable_asset_keys
        if groups is None or graph.get(k).group_name in groups
    }
    failed: list[str] = []
    lake = defs.resources["lake"]
    for pdef, wave in grid_waves(defs, keys):
        grain = _grain(pdef)
        for batch, first_last in wave_runs(graph, lake, pdef, wave, start, last.get(grain)):
            tags = range_tags(*first_last) if first_last else {}
            result = job.execute_in_process(
                instance=instance, asset_selection=batch, tags=tags, raise_on_error=False
            )
            failed += [
                e.step_key
                for e in result.all_events
                if e.event_type_value == "STEP_FAILURE" and e.step_key
            ]
    return {"ok": True, "failed_steps": sorted(failed)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--assets")
    parser.add_argument("--waves", action="store_true")
    parser.add_argument("--last", help="grain=last key,... (with --waves)")
    parser.add_argument("--groups", help="comma-separated group names (with --waves)")
    parser.add_argument("--partition")
    parser.add_argument("--start")
    parser.add_argument("--end")
    parser.add_argument("--barrier")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")

    if args.waves:
        last = dict(item.split("=", 1) for item in args.last.split(","))
        groups = set(args.groups.split(",")) if args.groups else None
        print(json.dumps(run_waves(args.start, last, groups)), flush=True)
        return 0

    import dagster as dg

    from pacific_assets.definitions import defs
    from pacific_assets_tests.runs import range_tags

    job = defs.resolve_implicit_global_asset_job_def()
    tags = {}
    if args.start:
        tags = range_tags(args.start, args.end or args.start)
    if args.barrier:
        barrier = Path(args.barrier)
        (barrier / f"{os.getpid()}.ready").touch()
        deadline = time.monotonic() + 120
        while not (barrier / "go").exists():
            if time.monotonic() > deadline:
                print(json.dumps({"ok": False, "failures": ["barrier: no go within 120 s"]}))
                return 1
            time.sleep(0.02)
    started = time.time()
    result = job.execute_in_process(
        instance=dg.DagsterInstance.ephemeral(),
        asset_selection=[dg.AssetKey(a) for a in args.assets.split(",")],
        partition_key=args.partition,
        tags=tags,
        raise_on_error=False,
    )
    failures = [
        f"{e.step_key}: {e.step_failure_data.error.message.strip()[:400]}"
        for e in result.all_events
        if e.event_type_value == "STEP_FAILURE" and e.step_failure_data.error
    ]
    print(
        json.dumps(
            {
                "ok": result.success,
                "started": started,
                "finished": time.time(),
                "failures": failures,
            }
        ),
        flush=True,
    )
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main())
