"""Two runs over overlapping partitions, at the same time, give exactly what one serial run gives.

Two real Dagster runs in two processes (the code location as a launched run loads it) cover
overlapping ranges of the engagement chain and a staging table. A barrier makes them start their
runs at the same moment, so the shared days are written by both while the other one reads them.
The lake's atomic partition switch means nobody sees half a file and the last writer wins with
identical content; the result must equal one serial run over the union of the ranges.

Only assets whose partition d depends on inputs for day d are used: engagement_completeness reads
four weeks of history, so concurrent runs legitimately see different histories mid-flight.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

from pacific_assets_tests.faults.conftest import (
    REPO,
    assert_same_tables,
    copy_lake,
    run_in_subprocess,
    runner_command,
    runner_env,
    snapshot,
)

ASSETS = ["stg_accounts", "stg_clicks", "user_engagement_daily", "engagement_hours"]
TABLES = [*ASSETS, "quarantine"]
RANGE_A = ("2025-09-01", "2025-09-20")
RANGE_B = ("2025-09-10", "2025-09-30")
ALL_DAYS = [f"2025-09-{d:02d}" for d in range(1, 31)]


def _concurrently(lake, ranges, barrier, **env) -> list[dict]:
    barrier.mkdir()
    procs = [
        subprocess.Popen(
            runner_command(ASSETS, start=a, end=b, barrier=barrier),
            env=runner_env(lake, **env),
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for a, b in ranges
    ]
    deadline = time.monotonic() + 300
    while len(list(barrier.glob("*.ready"))) < len(procs):
        assert all(p.poll() is None for p in procs), "a runner exited before the barrier"
        assert time.monotonic() < deadline, "runners did not load in time"
        time.sleep(0.05)
    (barrier / "go").touch()
    reports = []
    for p in procs:
        out, err = p.communicate(timeout=600)
        assert p.returncode == 0, err[-3000:]
        reports.append(json.loads([ln for ln in out.splitlines() if ln.startswith("{")][-1]))
    return reports


def test_overlapping_concurrent_runs_equal_one_serial_run(staged_template, tmp_path):
    concurrent = copy_lake(staged_template, tmp_path / "concurrent")
    serial = copy_lake(staged_template, tmp_path / "serial")

    a, b = _concurrently(concurrent, [RANGE_A, RANGE_B], tmp_path / "barrier")
    code, report, stderr = run_in_subprocess(serial, ASSETS, start=RANGE_A[0], end=RANGE_B[1])
    assert code == 0 and report["ok"], stderr

    # the two runs really overlapped in time
    assert a["started"] < b["finished"] and b["started"] < a["finished"]
    for table in ASSETS:
        assert concurrent.partition_keys(table) == serial.partition_keys(table), table
    assert_same_tables(snapshot(concurrent, TABLES), snapshot(serial, TABLES))


SPILL_SCRIPT = """
import sys, time
from pathlib import Path
from pacific_assets.storage.duck import connect, spill_next_to_lake as prepare
from pacific_assets.storage.lake import Lake

barrier = Path(sys.argv[2])
(barrier / sys.argv[3]).touch()
while not (barrier / "go").exists():
    time.sleep(0.01)
with connect(memory_limit="64MB", threads=1) as con:
    prepare(con, Lake(sys.argv[1]))  # the engagement assets' spill settings
    row = con.execute(
        "SELECT count(*), sum(hash(s)) FROM (SELECT repeat('x', 20) || i AS s "
        "FROM range(6000000) t(i) ORDER BY s)"
    ).fetchone()
print(row[0], row[1])
"""


def test_two_runs_spilling_at_the_same_time_both_finish(tmp_path):
    """Two processes configured like the engagement assets spill to disk at the same moment."""
    root, barrier = tmp_path / "data", tmp_path / "barrier"
    root.mkdir()
    barrier.mkdir()
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", SPILL_SCRIPT, str(root), str(barrier), name],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("a", "b")
    ]
    deadline = time.monotonic() + 120
    while not ((barrier / "a").exists() and (barrier / "b").exists()):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    (barrier / "go").touch()
    outputs = [p.communicate(timeout=600) for p in procs]
    codes = [p.returncode for p in procs]
    assert codes == [0, 0], f"return codes {codes}: {[e[-500:] for _o, e in outputs]}"
    assert outputs[0][0] == outputs[1][0]
