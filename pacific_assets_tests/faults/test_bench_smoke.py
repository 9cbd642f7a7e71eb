"""`python -m bench.run --quick` end to end on tiny data, so the benchmark harness cannot rot.

The quick run simulates the tiny "test" company (3 days, and the x10 variant), runs every
section but the slow ones (Spark rollup, make demo) once, and writes bench.json + bench.md. The
hand-written DuckDB query must agree with the engagement assets row for row — the check that the
benchmark compares equal work. The Spark section (local, and on a standalone cluster) has its own
(chaos) smoke test.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from pacific_assets_tests.faults.conftest import REPO


def _bench(tmp_path, *extra: str) -> dict:
    out = tmp_path / "results"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.run",
            "--quick",
            "--data-dir",
            str(tmp_path / "data"),
            "--out",
            str(out),
            *extra,
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert (out / "bench.md").read_text().startswith("# Benchmark results (quick)")
    return json.loads((out / "bench.json").read_text())


def test_quick_bench_runs_end_to_end(tmp_path) -> None:
    results = _bench(tmp_path)
    sections = results["sections"]
    assert set(sections) == {"engagement", "backfill", "memory", "load"}
    assert results["skipped_sections"] == ["spark", "demo", "planner", "instance"]
    engagement = sections["engagement"]
    assert engagement["results_identical"]["identical"], engagement["results_identical"]
    assert engagement["events"] > 0 and engagement["ratio_run"] > 0
    # the disk's floor: every landed byte of the range, read back after dropping its pages
    floor = engagement["physical_floor"]
    landed = sorted((tmp_path / "data" / "x1" / "landing").rglob("batch-*.jsonl"))
    assert floor["landed_bytes"] == sum(f.stat().st_size for f in landed) > 0
    assert floor["bytes_per_event"] == round(floor["landed_bytes"] / engagement["events"], 1)
    assert floor["sequential_read_mb_per_s"] > 0 and floor["floor_seconds"] > 0
    per_core = engagement["events_per_second_per_core"]
    assert per_core["dagster"] * per_core["cores"] == pytest.approx(
        engagement["events_per_second"]["dagster"], rel=0.01
    )
    backfill = sections["backfill"]
    assert backfill["one_run_per_partition"]["runs_launched"] == backfill["days"] == 3
    assert backfill["range_run"]["runs_launched"] == 1
    memory = sections["memory"]
    assert (
        memory["engagement_x10"]["events_in_range"] > 5 * memory["engagement_x1"]["events_in_range"]
    )
    assert all(m["peak_rss_mb"] > 0 for m in memory["engagement_x10"]["runs"])
    half = memory["engagement_x10_half_limit"]
    assert half["all_ok"] and memory["half_limit"] == "477MiB", memory["half_limit"]
    before = half["median_rss_before_run_mb"]
    assert 0 < before < half["median_peak_rss_mb"]
    assert sections["load"]["definitions_validate"]["all_ok"]
    machine = results["machine"]
    assert machine["logical_cores"] >= 1 and machine["memory_gb"] > 0


@pytest.mark.chaos
@pytest.mark.spark
def test_quick_bench_spark_section(tmp_path) -> None:
    spark = _bench(tmp_path, "--only", "spark")["sections"]["spark"]
    # the asset runs on the data set that delivers the whole month (a 3-day set is refused)
    assert spark["asset_data_set"] == "x1_month"
    month = spark["x1_month"]
    assert month["all_ok"], month
    assert month["median_peak_jvm_rss_mb"] > 0, "the JVM was not sampled"
    assert month["inputs"]["user_engagement_daily"] > 0
    cluster = month["cluster"]  # the same rollup on the standalone cluster
    assert cluster["all_ok"], cluster
    assert cluster["ratio_wall_over_local"] > 0 and cluster["median_peak_cluster_rss_mb"] > 0
    for name in ("x1", "x10"):  # 3 days: the computation alone, through the memory probe
        assert spark[name]["asset"].startswith("not run: 3 days"), spark[name]
        assert spark[name]["probe"]["all_ok"], spark[name]["probe"]
        assert spark[name]["probe"]["median_jvm_live_heap_peak_mb"] > 0
    assert spark["heap_ratio_x10_over_control"] > 0
    assert spark["cluster"]["left_running"] == [], spark["cluster"]["stopped"]
