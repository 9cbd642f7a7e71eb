"""`make demo` says where its time went: per step, from what a real instance recorded."""

from __future__ import annotations

import time

import dagster as dg

from pacific_assets.demo import materialize_all, time_report


@dg.asset
def slow_parent() -> int:
    time.sleep(0.3)
    return 1


@dg.asset
def quick_child(slow_parent: int) -> int:
    return slow_parent + 1


def test_the_demo_reports_each_steps_time_and_the_time_outside_the_steps() -> None:
    defs = dg.Definitions(assets=[slow_parent, quick_child])
    with dg.instance_for_test() as instance:
        runs = materialize_all(defs, instance, quiet=True)

    assert [r["assets"] for r in runs] == ["slow_parent", "quick_child"]
    assert all(r["ok"] for r in runs)
    assert set(runs[0]["steps"]) == {"slow_parent"}
    assert set(runs[1]["steps"]) == {"quick_child"}
    assert runs[0]["steps"]["slow_parent"] >= 0.3
    assert runs[0]["steps"]["slow_parent"] <= runs[0]["seconds"]

    lines = time_report(runs, shown=1)
    assert lines[0].split()[0] == "slow_parent"
    assert lines[1].split()[:3] == ["1", "other", "steps"]
    outside = float(lines[2].split()[-2])
    in_steps = runs[0]["steps"]["slow_parent"] + runs[1]["steps"]["quick_child"]
    assert abs(outside - (runs[0]["seconds"] + runs[1]["seconds"] - in_steps)) < 0.11
