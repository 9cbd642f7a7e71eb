"""What every asset declares is part of the interface: snapshot it, and load the location cheaply."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg

from pacific_assets.definitions import defs

SNAPSHOT = Path(__file__).parent / "snapshots" / "asset_declarations.json"
METRIC_ASSETS = {
    "unit_profit",
    "account_growth",
    "engagement_hours",
    "investor_rollup",
    "ab_unit_daily",
}


def _partitions(pdef) -> str | None:
    if pdef is None:
        return None
    if isinstance(pdef, dg.TimeWindowPartitionsDefinition):
        return f"{pdef.cron_schedule} from {pdef.start.date().isoformat()} ({pdef.timezone})"
    return type(pdef).__name__


def _freshness(policy) -> str | None:
    return None if policy is None else repr(policy)  # records repr all their fields


def declarations() -> dict[str, dict]:
    graph = defs.resolve_asset_graph()
    out = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        out[key.to_user_string()] = {
            "group": node.group_name,
            "owners": sorted(node.owners),
            "kinds": sorted(node.kinds),
            "partitions": _partitions(node.partitions_def),
            "deps": sorted(p.to_user_string() for p in node.parent_keys),
            "freshness": _freshness(node.freshness_policy),
            "checks": sorted(c.name for c in node.check_keys),
            "materializable": node.is_materializable,
        }
    return out


def test_asset_declarations_match_snapshot() -> None:
    """Keys, groups, owners, partitions, deps, freshness and checks change only on purpose.

    The snapshot is never written by a plain test run: a missing or different snapshot fails.
    After an intended change, regenerate it deliberately with ``make snapshot`` (which runs this
    test with ``PACIFIC_UPDATE_SNAPSHOTS=1``) and review the diff of
    ``pacific_assets_tests/snapshots/asset_declarations.json`` before committing it.
    """
    current = declarations()
    if os.environ.get("PACIFIC_UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.parent.mkdir(parents=True, exist_ok=True)
        SNAPSHOT.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n")
    assert SNAPSHOT.exists(), (
        f"{SNAPSHOT} is missing: create it deliberately with `make snapshot` "
        "(PACIFIC_UPDATE_SNAPSHOTS=1) and commit it after review"
    )
    recorded = json.loads(SNAPSHOT.read_text())
    changed = sorted(k for k in set(current) | set(recorded) if current.get(k) != recorded.get(k))
    assert current == recorded, (
        f"asset declarations differ from the snapshot for {changed}; if intended, run "
        "`make snapshot` and review the diff"
    )


def test_every_asset_has_owners_group_and_description() -> None:
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        name = key.to_user_string()
        assert node.group_name and node.group_name != "default", f"{name} has no pipeline group"
        assert node.owners, f"{name} has no owners"
        assert "team:data-engineering" in node.owners, f"{name}: DE is secondary owner everywhere"
        assert node.description and "Runbook" in node.description, f"{name} carries no runbook"


def test_metric_asset_keys_are_the_published_interface() -> None:
    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert keys >= METRIC_ASSETS, f"missing metric assets: {sorted(METRIC_ASSETS - keys)}"


def test_loading_the_code_location_starts_no_jvm_and_reads_no_data(tmp_path) -> None:
    """Every run process imports the location: it must be cheap (no Spark, no data access)."""
    empty_root = tmp_path / "no-data-here"
    script = (
        "import json, sys, psutil\n"
        "import pacific_assets.definitions as d\n"
        "d.defs.resolve_asset_graph()\n"
        "spark = 'pyspark' in sys.modules and __import__('pyspark').SparkContext._active_spark_context is not None\n"
        "kids = [c.name() for c in psutil.Process().children(recursive=True)]\n"
        "print(json.dumps({'spark': spark, 'children': kids}))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PACIFIC_DATA_ROOT": str(empty_root)},
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report == {"spark": False, "children": []}
    assert not empty_root.exists(), "importing the code location created the data root"


def test_dagster_definitions_validate_passes() -> None:
    proc = subprocess.run(
        [
            str(Path(sys.executable).parent / "dagster"),
            "definitions",
            "validate",
            "-m",
            "pacific_assets.definitions",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
