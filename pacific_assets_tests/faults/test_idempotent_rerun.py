"""Re-running any partition is idempotent: every table holds identical rows after a second run.

The generic test takes the whole asset graph of the code location (every pipeline), materializes
the simulated company's first six weeks in dependency waves (one range run per wave and grid, as
``make demo`` does), snapshots every lake table, runs the same waves again and compares row for
row. Every step must succeed both times (a step that fails twice proves nothing about its
table). A second run over the same inputs must not add, drop or change a row — no appended
duplicates, no run-time values in the data (columns that record *when* something ran are named
below, with the reason, and left out of the comparison). It runs in ``make test`` (~2-3 min on 2
cores): it is the only idempotency check of profit, growth, investor and experiments, and it
replaces the former in-process staging + engagement slice (those tables must be bit-identical).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import polars as pl

from pacific_assets.registry import discover
from pacific_assets.storage.lake import Lake
from pacific_assets_tests.faults.conftest import REPO, runner_env, sort_frame

#: Full periods of the first six weeks of the "test" profile (2025-09-01..2025-10-12): every
#: pipeline has partitions there (September closes profit, growth and the investor month; the
#: three simulated experiments start in the last days of September).
LAST = "daily=2025-10-12,weekly=2025-10-06,monthly=2025-09-01"
#: Columns that say when a run happened (not what the data is): excluded from the comparison.
RUN_TIME_COLUMNS: dict[str, set[str]] = {
    "rollup_input_status": {"assessed_at"},  # when the completeness record was assessed
}
#: Float columns may differ in the last bits between two runs when DuckDB or Spark sums doubles
#: in parallel (the order of additions varies): |a - b| <= 1e-9 * max(|a|, 1) is tolerated (far
#: below a cent on any money column), anything more fails. Staging and engagement (which sums
#: integer microseconds) must be bit-identical.
FLOAT_TOLERANCE = 1e-9
BIT_IDENTICAL_GROUPS = {"staging", "engagement"}


def materialize_everything(lake: Lake, groups: str | None = None, last: str = LAST) -> list[str]:
    """Every asset of the code location (of ``groups``) over the simulated range, in a fresh
    process; returns the steps that failed."""
    cmd = [sys.executable, "-m", "pacific_assets_tests.faults.runner", "--waves"]
    cmd += ["--start", "2025-09-01", "--last", last]
    if groups:
        cmd += ["--groups", groups]
    proc = subprocess.run(
        cmd, env=runner_env(lake), cwd=REPO, capture_output=True, text=True, timeout=1800
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads([ln for ln in proc.stdout.splitlines() if ln.startswith("{")][-1])
    return report["failed_steps"]


def lake_snapshot(lake: Lake) -> dict[str, pl.DataFrame]:
    out = {}
    for table in lake.tables():
        frame = lake.read(table)
        drop = [c for c in RUN_TIME_COLUMNS.get(table, ()) if c in frame.columns]
        out[table] = sort_frame(frame.drop(drop))
    return out


def _differences(first: dict, second: dict) -> tuple[list[str], list[str]]:
    """(problems, tables equal only up to float rounding) between two snapshots."""
    problems, rounding = [], []
    for table in sorted(set(first) | set(second)):
        a, b = first.get(table), second.get(table)
        if a is None or b is None:
            problems.append(f"{table}: present in only one run")
        elif a.height != b.height:
            problems.append(f"{table}: {a.height} rows, then {b.height}")
        elif not a.equals(b):
            cols = [c for c in a.columns if not a[c].equals(b[c])]
            beyond = [c for c in cols if not _close(a[c], b[c])]
            if beyond:
                problems.append(f"{table}: values differ in {beyond}")
            else:
                rounding.append(f"{table}: {cols}")
    return problems, rounding


def _close(a: pl.Series, b: pl.Series) -> bool:
    if not (a.dtype.is_float() and b.dtype.is_float()):
        return False
    if not a.is_null().equals(b.is_null()):
        return False
    scale = a.abs().clip(lower_bound=1.0)
    return bool(((a - b).abs() <= scale * FLOAT_TOLERANCE).fill_null(True).all())


def _tables_of_groups(groups: set[str]) -> set[str]:
    """Lake tables written by the assets of ``groups`` (a table is named after its asset)."""
    from pacific_assets.definitions import defs

    graph = defs.resolve_asset_graph()
    return {
        n.key.to_user_string()
        for n in graph.asset_nodes
        if n.group_name in groups and n.is_materializable
    }


def test_rerunning_every_asset_is_idempotent(sim_data, tmp_path) -> None:
    """Every asset of the code location, twice, in fresh processes (Spark included)."""
    lake = Lake(tmp_path / "data")
    shutil.copytree(sim_data.landing, lake.landing)
    failed_first = materialize_everything(lake)
    assert not failed_first, f"steps failed on the first run: {failed_first}"
    first = lake_snapshot(lake)
    failed_second = materialize_everything(lake)
    assert not failed_second, f"steps failed on the re-run: {failed_second}"
    problems, rounding = _differences(first, lake_snapshot(lake))
    assert not problems, "\n".join(problems)
    exact = _tables_of_groups(BIT_IDENTICAL_GROUPS) | {"quarantine"}
    assert not [r for r in rounding if r.split(":")[0] in exact], f"not bit-identical: {rounding}"
    print(f"equal up to {FLOAT_TOLERANCE:g} relative (parallel double sums): {rounding}")
    # every pipeline wrote its tables, so the comparison covered them all
    for group in {p.name for p in discover()} - {"operations"}:  # operations writes no lake table
        assert _tables_of_groups({group}) & set(first), f"no {group} table was written"
    for table in ("unit_profit", "account_growth", "investor_rollup", "experiment_results"):
        assert first[table].height > 0, f"{table} is empty: nothing was compared"
