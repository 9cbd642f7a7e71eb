"""Build experiment_results with two versions of the code on the same data, and compare them.

    .venv/bin/python scripts/compare_experiment_results.py --before bc713ff [--seeds 11,12,13]

Why: a remodel of the A/B tables (issue #30: covariates moved out of ab_unit_daily into
ab_unit_covariates) must leave every figure of experiment_results as it was. A test can only
run the code it ships with, so this runs both: the ``--before`` commit (``git archive`` into a
temporary folder) and the working tree, each in a fresh process, on the same simulated
companies (the chain of pacific_assets_tests/experiments/pipeline.py plus recognized revenue)
and on the synthetic fixture of test_experiment_results.py. Exit 0 when every frame is equal
bit for bit (polars ``DataFrame.equals``: same values, same nulls, same dtypes).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import polars as pl

REPO = Path(__file__).resolve().parent.parent
KEY = ["week_start", "experiment_id", "metric", "variant"]

#: Run by each version of the code (only APIs both versions have).
BUILD = """
import datetime as dt, os, sys, warnings
warnings.filterwarnings("ignore")
from pathlib import Path
out, seed = Path(sys.argv[1]), int(sys.argv[2])
root = out / "sim" / "data"
from pacific_tools.simulate import simulate
summary = simulate(root, seed=seed, profile="test", days=60, accounts=60,
                   events_per_user_day=1.5, batches_per_day=1)
import dagster as dg
from pacific_assets.storage.lake import Lake
from pacific_assets_tests.experiments import fixtures, helpers, pipeline
chain = (*pipeline.CHAIN, "stg_invoice_lines", "invoice_lines_current", "recognized_revenue_daily")
last = dt.date.fromisoformat(summary.end) - dt.timedelta(days=1)
pipeline.run_chain(root, dg.DagsterInstance.ephemeral(), dt.date(2025, 9, 1), last, assets=chain)
Lake(root).read("experiment_results").write_parquet(out / "simulated.parquet")
synthetic = Lake(out / "synthetic" / "data")
fixtures.synthetic_experiments(synthetic, seed=3)
units = [helpers.ab_unit_daily, *([helpers.ab_unit_covariates]
                                  if hasattr(helpers, "ab_unit_covariates") else [])]
assert helpers.materialize_range(units, synthetic, "2025-09-15", "2025-09-28").success
assert helpers.materialize_range([helpers.experiment_results], synthetic, "2025-09-15",
                                 "2025-09-22").success
synthetic.read("experiment_results").write_parquet(out / "synthetic.parquet")
"""


def build(code: Path, out: Path, seed: int) -> None:
    """Run BUILD with the code in ``code`` (first on sys.path) into ``out``."""
    out.mkdir(parents=True)
    env = {
        **os.environ,
        "PYTHONPATH": str(code),
        "PYTHONHASHSEED": "0",
        "PACIFIC_DATA_ROOT": str(out / "sim" / "data"),
    }
    env.pop("PACIFIC_START_DATE", None)
    done = subprocess.run(
        [sys.executable, "-c", BUILD, str(out), str(seed)],
        cwd=code,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise SystemExit(f"build with {code} failed:\n{done.stderr[-3000:]}")


def main(argv: list[str] | None = None) -> int:
    """Compare; print one line per frame."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--before", required=True, help="the commit to compare with")
    parser.add_argument("--seeds", default="11,12,13")
    args = parser.parse_args(argv)
    equal = True
    with tempfile.TemporaryDirectory(prefix="compare-results-") as tmp:
        before_code = Path(tmp) / "before"
        before_code.mkdir()
        archive = subprocess.run(
            ["git", "archive", args.before], cwd=REPO, capture_output=True, check=True
        )
        subprocess.run(["tar", "-x", "-C", str(before_code)], input=archive.stdout, check=True)
        for seed in (int(s) for s in args.seeds.split(",")):
            sides = {}
            for name, code in (("before", before_code), ("after", REPO)):
                build(code, Path(tmp) / f"{name}-{seed}", seed)
                sides[name] = Path(tmp) / f"{name}-{seed}"
            for frame in ("simulated", "synthetic"):
                a, b = (pl.read_parquet(sides[s] / f"{frame}.parquet").sort(KEY) for s in sides)
                same = a.equals(b)
                equal &= same
                differ = [c for c in a.columns if c in b.columns and not a[c].equals(b[c])]
                print(
                    f"seed {seed} {frame}: {a.height} vs {b.height} rows, "
                    f"{a['cuped_theta'].drop_nulls().len()} CUPED figures, "
                    f"{'equal bit for bit' if same else f'DIFFERENT: {differ or a.schema}'}"
                )
    return 0 if equal else 1


if __name__ == "__main__":
    sys.exit(main())
