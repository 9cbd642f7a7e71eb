"""`make demo` says where its time went: per step, from what a real instance recorded; and it
refuses landed data simulated for another partition grid."""

from __future__ import annotations

import json
import time
from pathlib import Path

import dagster as dg

from pacific_assets import demo, partitions
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


def _demo_start_date():
    """scripts/demo_start_date.py (make runs it with the system Python, outside the package)."""
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "scripts" / "demo_start_date.py"
    spec = importlib.util.spec_from_file_location("demo_start_date", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.demo_start_date


def test_a_new_demo_starts_on_the_1st_four_months_back_and_an_old_one_keeps_its_day(
    tmp_path: Path,
) -> None:
    """The demo's window: four closed months and the current one (120-151 days) for a new data
    root, across a year end; a data root that holds a company keeps the day it starts on."""
    import datetime as dt

    demo_start_date = _demo_start_date()
    D = dt.date
    assert demo_start_date(tmp_path, D(2026, 12, 4)) == D(2026, 8, 1)
    assert demo_start_date(tmp_path, D(2027, 1, 31)) == D(2026, 9, 1)
    assert demo_start_date(tmp_path, D(2027, 4, 1)) == D(2026, 12, 1)
    assert demo_start_date(tmp_path, D(2027, 5, 1)) == D(2027, 1, 1)
    for today in (D(2027, 3, 1), D(2027, 3, 31), D(2028, 2, 29)):
        days = (today - demo_start_date(tmp_path, today)).days
        assert 120 <= days <= 151, (today, days)

    (tmp_path / "truth").mkdir()
    (tmp_path / "truth" / "fault_manifest.json").write_text(json.dumps({"start": "2026-06-01"}))
    assert demo_start_date(tmp_path, D(2027, 5, 1)) == D(2026, 6, 1)
