"""`make demo` says where its time went: per step, from what a real instance recorded; and it
refuses landed data simulated for another partition grid."""

from __future__ import annotations

import json
import time
from pathlib import Path

import dagster as dg

from pacific_assets import partitions
from pacific_tools import demo
from pacific_tools.demo import materialize_all, time_report


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


def test_the_demo_refuses_data_simulated_from_another_first_day(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    (tmp_path / "truth").mkdir()
    manifest = {"profile": "demo", "start": "2025-09-01"}
    (tmp_path / "truth" / "fault_manifest.json").write_text(json.dumps(manifest))
    monkeypatch.setenv("PACIFIC_DATA_ROOT", str(tmp_path))
    monkeypatch.setattr(partitions, "START_DATE", "2026-06-01")

    assert demo.main([]) == 2
    err = capsys.readouterr().err
    assert "simulated from 2025-09-01" in err and "start on 2026-06-01" in err
    assert not (tmp_path / "lake").exists(), "nothing may be built on the mismatched data"
