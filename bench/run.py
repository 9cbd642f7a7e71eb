"""`make bench`: measured speed and memory of the pipelines, written to bench/results/.

    python -m bench.run            # full scale (data generated once under bench/data/, reused)
    python -m bench.run --quick    # tiny data, one repeat: a smoke run of the whole harness

What it measures (every measurement is a fresh child process, see bench/measure.py; medians of
``--repeats`` runs; ratios against baselines measured in the same run):

1. engagement overhead — the real engagement assets (stg_clicks -> user_engagement_daily ->
   engagement_hours) materialized for the whole range in ONE Dagster run, against ONE
   hand-written DuckDB query doing the same work over the same landed files (bench/sql/);
   the ratio is what the framework and the asset design cost (goal <= 1.25x); events/second;
2. backfill — the same days as one range run versus one run per day (wall time, runs launched);
3. memory — peak RSS of the engagement chain at clicks x1 and x10 (same days, DuckDB
   memory_limit set), and of the Spark investor rollup in a fresh process (JVM included),
   against the fixed driver memory; the same rollup on a Spark standalone cluster on localhost
   (PACIFIC_SPARK_MASTER=spark://..., stack/spark_cluster.py): wall time and
   peak driver memory as ratios against local Spark;
4. code location load time (`dagster definitions validate`) and `make demo` wall time;
5. planner — one tick of each keeper and SLA sensor over synthetic data roots of 1, 3 and 10
   years of daily history for every asset (bench/planner.py): seconds cold and warm, peak RSS,
   growth with history (goal: <= 2 s at 3 years, no worse than linear).
6. instance — the same work on a SQLite instance and on a PostgreSQL one (the stack's, started
   by ``stack``), alternating, in the same session, over a demo-sized lake built once: the lake
   reported to a new instance (sync), the daemon's sensor tick (every sensor's evaluation, and
   Dagster's sensor-daemon iteration with its tick bookkeeping) and a range run of the engagement
   chain over the whole lake; reported as PostgreSQL / SQLite ratios.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import math
import os
import re
import secrets
import shutil
import signal
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

from bench import data as bench_data
from bench import report
from bench.measure import REPO, Measured, child, machine, median, run_measured
from stack.spark_cluster import StandaloneCluster, free_port

CHAIN = ("stg_clicks", "user_engagement_daily", "engagement_hours")
SECTIONS = ("engagement", "backfill", "memory", "spark", "load", "demo", "planner", "instance")
GOAL_RATIO = 1.25
#: --quick leaves out what needs minutes even on tiny data (a JVM, a whole demo); ask with --only.
QUICK_SKIPS = ("spark", "demo", "planner", "instance")
ROLLUP_MONTH = "2025-09-01"
#: Memory goal (issue #6): the engagement chain's memory does not grow with click volume.
MEMORY_GOAL_CLICKS = 10
MEMORY_GOAL_GROWTH = 0.25
_UNITS = {"KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12, "KIB": 2**10, "MIB": 2**20, "GIB": 2**30}
#: The probe acts as of the day after the month (the asset run uses "now").
ROLLUP_AS_OF = "2025-10-02T00:00:00Z"


def _log(msg: str) -> None:
    print(msg, flush=True)


class Bench:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.quick = args.quick
        self.datasets = bench_data.QUICK if args.quick else bench_data.FULL
        if args.days:  # the x1 company over fewer days: a data set (and data root) of its own
            self.datasets = {
                **self.datasets,
                "x1": bench_data.fewer_days(self.datasets["x1"], args.days),
            }
        self.data_dir = Path(args.data_dir).resolve()
        self.out = Path(args.out).resolve()
        self.work = Path(tempfile.mkdtemp(prefix="pacific-bench-"))
        self.dagster_home = self.work / "dagster_home"
        self.dagster_home.mkdir()
        (self.dagster_home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
        self.env_common = {
            "PACIFIC_DUCKDB_MEMORY_LIMIT": args.memory_limit,
            "PACIFIC_DUCKDB_THREADS": str(args.threads),
            "PACIFIC_SPARK_DRIVER_MEMORY": args.spark_driver_memory,
            "PACIFIC_SPARK_MASTER": f"local[{args.threads}]",
            "SPARK_LOCAL_IP": "127.0.0.1",
            "PYTHONHASHSEED": "0",
        }
        self.prepared: dict[str, bench_data.Prepared] = {}
        self.results: dict = {
            "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "mode": "quick" if args.quick else "full",
            "command": "python -m bench.run " + " ".join(_no_machine_paths(sys.argv[1:])),
            "machine": machine(),
            "settings": {
                "repeats": args.repeats,
                "backfill_repeats": args.backfill_repeats,
                "backfill_days": args.backfill_days,
                "duckdb_memory_limit": args.memory_limit,
                "duckdb_threads": args.threads,
                "spark_driver_memory": args.spark_driver_memory,
                "spark_master": f"local[{args.threads}]",
                "spark_cluster": {
                    "workers": args.spark_cluster_workers,
                    "cores_per_worker": 1,
                    "memory_per_worker": args.spark_worker_memory,
                },
                "chain": list(CHAIN),
            },
            "datasets": {},
            "sections": {},
        }

    # -- helpers -----------------------------------------------------------------------------
    def env(self, p: bench_data.Prepared, **extra: str) -> dict[str, str]:
        return bench_data.child_env(p.root, self.dagster_home, {**self.env_common, **extra})

    def data(self, name: str) -> bench_data.Prepared:
        if name not in self.prepared:
            same = [p for p in self.prepared.values() if p.dataset is self.datasets[name]]
            if same:  # --quick: one data set under two names
                self.prepared[name] = same[0]
                return same[0]
            p = bench_data.prepare(self.datasets[name], self.data_dir, self.dagster_home, _log)
            self.prepared[name] = p
            self.results["datasets"][name] = bench_data.describe(p)
        return self.prepared[name]

    def chain_run(self, p: bench_data.Prepared, start: str, end: str, **env: str) -> Measured:
        args = ["--assets", ",".join(CHAIN)]
        args += ["--partition", start] if start == end else ["--start", start, "--end", end]
        return self._checked(
            run_measured(
                child("materialize", *args), env=self.env(p, **env), timeout=self.args.timeout
            ),
            f"engagement chain {start}..{end}" + "".join(f" {k}={v}" for k, v in env.items()),
        )

    def _checked(self, m: Measured, what: str) -> Measured:
        status = "ok" if m.ok else "FAILED"
        _log(f"    {what}: {status} in {m.seconds:.1f} s, peak RSS {m.peak_rss_mb:.0f} MB")
        if not m.ok:
            detail = m.report.get("error") or m.report.get("failures") or m.stderr_tail[-800:]
            _log(f"      {detail}")
        return m

    @staticmethod
    def _runs(ms: list[Measured]) -> dict:
        return {
            "runs": [
                {
                    "ok": m.ok,
                    "wall_seconds": round(m.seconds, 2),
                    "run_seconds": m.report.get("run_seconds"),
                    "run_cpu_seconds": m.report.get("run_cpu_seconds"),
                    "import_seconds": m.report.get("import_seconds"),
                    "peak_rss_mb": m.peak_rss_mb,
                    "peak_jvm_rss_mb": m.peak_jvm_rss_mb,
                    "load_at_start": m.load_at_start,
                    "steps": m.report.get("steps"),
                    "failures": m.report.get("failures") or m.report.get("error"),
                }
                for m in ms
            ],
            "all_ok": all(m.ok for m in ms),
            "median_wall_seconds": median([m.seconds for m in ms]),
            "median_run_seconds": median([m.report.get("run_seconds") for m in ms]),
            "median_run_cpu_seconds": median([m.report.get("run_cpu_seconds") for m in ms]),
            "median_peak_rss_mb": median([m.peak_rss_mb for m in ms]),
        }

    # -- 1. engagement overhead --------------------------------------------------------------
    def engagement(self) -> dict:
        p = self.data("x1")
        start, end = p.start, p.end
        baseline_out = self.work / "baseline_engagement_hours"
        _log(
            f"[engagement] {start}..{end}: Dagster range run vs one DuckDB query, x{self.args.repeats}"
        )
        dagster_runs, sql_runs = [], []
        for i in range(self.args.repeats):
            _log(f"  repeat {i + 1}/{self.args.repeats}")
            dagster_runs.append(self.chain_run(p, start, end))
            sql_runs.append(
                self._checked(
                    run_measured(
                        child(
                            "sql-baseline",
                            "--start",
                            start,
                            "--end",
                            end,
                            "--out",
                            str(baseline_out),
                        ),
                        env=self.env(p),
                        timeout=self.args.timeout,
                    ),
                    "hand-written DuckDB query",
                )
            )
        d, s = self._runs(dagster_runs), self._runs(sql_runs)
        pairs = [
            round(a.report["run_seconds"] / b.report["run_seconds"], 3)
            for a, b in zip(dagster_runs, sql_runs, strict=True)
            if a.ok and b.ok
        ]
        ratio = (
            round(d["median_run_seconds"] / s["median_run_seconds"], 3)
            if d["all_ok"] and s["all_ok"]
            else None
        )
        # CPU (user + system) of the run: moves less than wall time with the shared machine's load
        ratio_cpu = (
            round(d["median_run_cpu_seconds"] / s["median_run_cpu_seconds"], 3)
            if d["all_ok"] and s["all_ok"] and s["median_run_cpu_seconds"]
            else None
        )
        ratio_wall = (
            round(d["median_wall_seconds"] / s["median_wall_seconds"], 3)
            if d["all_ok"] and s["all_ok"]
            else None
        )
        volume = _events_in(p.root, start, end)
        events = volume["events"]
        steps = _median_steps(dagster_runs)
        # per run (run time minus its own steps), then the median: medians of steps taken from
        # different runs do not add up to any one run
        outside = [
            m.report["run_seconds"] - sum(m.report["steps"].values())
            for m in dagster_runs
            if m.report.get("steps") and m.report.get("run_seconds") is not None
        ]
        section = {
            "range": f"{start}..{end}",
            "days": len(p.days),
            "dataset": "x1",
            **volume,
            "dagster_range_run": d,
            "hand_written_query": s,
            "ratio_run": ratio,
            "ratio_process_wall": ratio_wall,
            "ratio_run_cpu": ratio_cpu,
            "ratio_per_repeat": pairs,
            "goal_ratio": GOAL_RATIO,
            "meets_goal": ratio is not None and ratio <= GOAL_RATIO,
            "events_per_second": {
                "dagster": _rate(events, d["median_run_seconds"]),
                "hand_written_query": _rate(events, s["median_run_seconds"]),
            },
            "events_per_second_per_core": {
                "cores": self.args.threads,
                "dagster": _rate(events, d["median_run_seconds"] * self.args.threads),
                "hand_written_query": _rate(events, s["median_run_seconds"] * self.args.threads),
            },
            "physical_floor": _physical_floor(p.root, p.days, events),
            "median_step_seconds": steps,
            "orchestration_seconds": median(outside),
            "results_identical": (
                _compare_hours(p.root, baseline_out, start, end)
                if d["all_ok"] and s["all_ok"]
                else None
            ),
        }
        self.results["sections"]["engagement"] = section
        # reused by the backfill (and, on tiny data, the memory) section
        self._range_runs = {(str(p.root), start, end): dagster_runs}
        return section

    # -- 2. backfill -------------------------------------------------------------------------
    def backfill(self) -> dict:
        p = self.data("x1")
        days = p.days[: self.args.backfill_days]
        start, end = days[0], days[-1]
        _log(
            f"[backfill] {start}..{end}: one range run vs {len(days)} one-partition runs, "
            f"x{self.args.backfill_repeats}"
        )
        reused = getattr(self, "_range_runs", {}).get((str(p.root), start, end), [])
        if reused:
            _log("  range run: the engagement section's runs of the same range (reused)")
        range_runs, totals = list(reused), []
        for i in range(self.args.backfill_repeats):
            _log(f"  repeat {i + 1}/{self.args.backfill_repeats}")
            if not reused:
                range_runs.append(self.chain_run(p, start, end))
            singles = [
                run_measured(
                    child("materialize", "--assets", ",".join(CHAIN), "--partition", day),
                    env=self.env(p),
                    timeout=self.args.timeout,
                )
                for day in days
            ]
            ok = all(m.ok for m in singles)
            wall = sum(m.seconds for m in singles)
            run = sum(m.report.get("run_seconds") or 0 for m in singles)
            _log(
                f"    {len(days)} one-partition runs: {'ok' if ok else 'FAILED'} in {wall:.1f} s "
                f"(per run median {median([m.seconds for m in singles]):.1f} s)"
            )
            if not ok:
                bad = next(m for m in singles if not m.ok)
                _log(
                    f"      {bad.report.get('error') or bad.report.get('failures') or bad.stderr_tail[-800:]}"
                )
            totals.append(
                {
                    "ok": ok,
                    "runs_launched": len(singles),
                    "total_wall_seconds": round(wall, 2),
                    "total_run_seconds": round(run, 2),
                    "median_wall_seconds_per_run": median([m.seconds for m in singles]),
                    "median_import_seconds_per_run": median(
                        [m.report.get("import_seconds") for m in singles]
                    ),
                    "max_peak_rss_mb": max(m.peak_rss_mb for m in singles),
                }
            )
        r = self._runs(range_runs)
        single_wall = median([t["total_wall_seconds"] for t in totals])
        from pacific_assets.orchestration.partitions import single_run_backfill

        per_run = single_run_backfill.max_partitions_per_run or len(days)
        section = {
            "range": f"{start}..{end}",
            "days": len(days),
            "dataset": "x1",
            "slice_note": (
                ""
                if len(days) == len(p.days)
                else f"first {len(days)} of {len(p.days)} days (--backfill-days)"
            ),
            "range_run": {**r, "runs_launched": 1, "reused_from_engagement": bool(reused)},
            "one_run_per_partition": {
                "repeats": totals,
                "runs_launched": len(days),
                "median_total_wall_seconds": single_wall,
            },
            "ratio_wall": (
                round(single_wall / r["median_wall_seconds"], 2)
                if r["all_ok"] and all(t["ok"] for t in totals)
                else None
            ),
            "runs_a_dagster_backfill_launches": math.ceil(len(days) / per_run),
            "backfill_policy": "single_run()",
        }
        self.results["sections"]["backfill"] = section
        return section

    # -- 3. memory ---------------------------------------------------------------------------
    def memory(self) -> dict:
        """x10 against its control x1_3d (the same company and days, only the clicks differ), and
        x10 again at half the DuckDB memory_limit: if the limit, not the volume, sets the memory,
        the peak moves with the limit."""
        x1, x10 = self.data("x1_3d"), self.data("x10")
        start, end = x10.days[0], x10.days[-1]
        limit_mb = _size_mb(self.args.memory_limit)
        half = f"{limit_mb / 2:.0f}MiB"
        _log(
            f"[memory] engagement chain {start}..{end} at clicks x1 and x10 "
            f"(DuckDB memory_limit {self.args.memory_limit}; x10 also at {half}), "
            f"x{self.args.repeats}"
        )
        reused = getattr(self, "_range_runs", {}).get((str(x1.root), start, end), [])
        runs: dict[str, list[Measured]] = {"x1": list(reused), "x10": [], "x10_half_limit": []}
        if reused:
            _log("  x1: the engagement section's runs of the same data and range (reused)")
        for i in range(self.args.repeats):
            _log(f"  repeat {i + 1}/{self.args.repeats}")
            if not reused:
                runs["x1"].append(self.chain_run(x1, start, end))
            runs["x10"].append(self.chain_run(x10, start, end))
            runs["x10_half_limit"].append(
                self.chain_run(x10, start, end, PACIFIC_DUCKDB_MEMORY_LIMIT=half)
            )
        section: dict = {
            "range": f"{start}..{end}",
            "datasets": {"x1": x1.dataset.name, "x10": x10.dataset.name, "x10_half_limit": "x10"},
            "duckdb_memory_limit": self.args.memory_limit,
            "duckdb_memory_limit_mb": round(limit_mb, 1),
            "half_limit": half,
        }
        for name, p in (("x1", x1), ("x10", x10), ("x10_half_limit", x10)):
            volume = _events_in(p.root, start, end)
            summary = self._runs(runs[name])
            above = [m.peak_rss_mb - (m.report.get("rss_before_run_mb") or 0) for m in runs[name]]
            section[f"engagement_{name}"] = {
                **summary,
                "events_in_range": volume["events"],
                "landed_lines_read": volume["landed_lines_read"],
                "max_peak_rss_mb": max(m.peak_rss_mb for m in runs[name]),
                # what the run itself added on top of the loaded code location and instance
                "median_rss_before_run_mb": median(
                    [m.report.get("rss_before_run_mb") for m in runs[name]]
                ),
                "median_rss_above_loaded_mb": median(above),
                "max_rss_above_loaded_mb": round(max(above), 1),
                "events_per_second": _rate(volume["events"], summary["median_run_seconds"]),
                "median_step_seconds": _median_steps(runs[name]),
            }
        a, b = section["engagement_x1"], section["engagement_x10"]
        h = section["engagement_x10_half_limit"]
        section["rss_ratio_x10_over_x1"] = _ratio(b["median_peak_rss_mb"], a["median_peak_rss_mb"])
        section["events_ratio_x10_over_x1"] = _ratio(b["events_in_range"], a["events_in_range"])
        # beyond DuckDB's limit: its allocations outside the buffer manager (JSON reader buffers,
        # result chunks), the allocator's retained pages, and Python; constant, not per click
        section["x10_rss_above_loaded_minus_limit_mb"] = round(
            b["median_rss_above_loaded_mb"] - limit_mb, 1
        )
        section["x10_peak_drop_at_half_limit_mb"] = round(
            b["median_peak_rss_mb"] - h["median_peak_rss_mb"], 1
        )
        section["goal"] = (
            f"memory does not grow with volume: x{MEMORY_GOAL_CLICKS} the clicks raise peak RSS "
            f"by at most {MEMORY_GOAL_GROWTH:.0%} (the half-limit run shows what sets it instead)"
        )
        section["meets_goal"] = bool(
            section["rss_ratio_x10_over_x1"] is not None
            and section["rss_ratio_x10_over_x1"] <= 1 + MEMORY_GOAL_GROWTH
        )
        self.results["sections"]["memory"] = section
        return section

    # -- 3b. Spark rollup --------------------------------------------------------------------
    def spark(self) -> dict:
        workers, memory = self.args.spark_cluster_workers, self.args.spark_worker_memory
        section: dict = {
            "asset": "investor_rollup",
            "partition": ROLLUP_MONTH,
            "spark_driver_memory": self.args.spark_driver_memory,
            "spark_master": f"local[{self.args.threads}]",
            "cluster": {
                "what": f"Spark standalone cluster on 127.0.0.1 from the installed pyspark: one "
                f"master, {workers} workers x 1 core x {memory} (one executor each, "
                f"spark.executor.memory {memory}); driver memory {self.args.spark_driver_memory}",
                "workers": workers,
                "cores_per_worker": 1,
                "memory_per_worker": memory,
            },
        }
        _log(
            f"[spark] investor_rollup {ROLLUP_MONTH} in a fresh process "
            f"(driver memory {self.args.spark_driver_memory}) on local[{self.args.threads}] and "
            f"on a standalone cluster ({workers} workers x 1 core x {memory}), "
            f"x{self.args.repeats}"
        )
        # The asset (local and on the cluster) runs on a data set that delivers the whole month:
        # a month partition is built only then (docs/operations.md §3), and the 3-day sets would
        # be refused, correctly. x10 and its control cover 3 days, so their memory comparison is
        # the rollup's computation alone (the probe) over the days they hold.
        month = "x1" if self.datasets["x1_month"] is self.datasets["x1"] else "x1_month"
        names = [month, *(n for n in ("x1", "x1_3d", "x10") if n != month)]
        if self.datasets["x1_3d"] is self.datasets["x1"]:
            names.remove("x1_3d")  # --quick: the same data set
        section["asset_data_set"] = month
        for name in names:  # the upstream tables first: the cluster need not idle through them
            bench_data.prepare_rollup_inputs(self.data(name), self.dagster_home, _log)
        cluster = self._start_cluster(section)
        try:
            for name in names:
                section[name] = self._spark_dataset(name, cluster, asset=name == month)
        finally:
            if cluster is not None:
                section["cluster"]["stopped"] = cluster.stop()
                section["cluster"]["left_running"] = cluster.alive()
        control_name = "x1_3d" if "x1_3d" in section else "x1"
        control, x10 = section[control_name]["probe"], section["x10"]["probe"]
        section["control_for_x10"] = control_name
        section["rss_ratio_x10_over_control"] = _ratio(
            x10["median_rss_peak_mb"], control["median_rss_peak_mb"]
        )
        section["heap_ratio_x10_over_control"] = _ratio(
            x10["median_jvm_live_heap_peak_mb"], control["median_jvm_live_heap_peak_mb"]
        )
        self.results["sections"]["spark"] = section
        return section

    def _start_cluster(self, section: dict) -> StandaloneCluster | None:
        """The standalone cluster the rollup also runs on (None, with the error, if it fails)."""
        cluster = StandaloneCluster(
            self.work / "spark-cluster",
            workers=self.args.spark_cluster_workers,
            cores=1,
            memory=self.args.spark_worker_memory,
        )
        started = time.monotonic()
        try:
            cluster.start()
            cluster.wait_ready()
        except Exception as exc:
            cluster.stop()
            section["cluster"]["error"] = f"{type(exc).__name__}: {exc}"[:3000]
            section["cluster"]["all_ok"] = False  # a bench without its cluster figures failed
            _log(f"  cluster: FAILED to start: {section['cluster']['error'][:800]}")
            return None
        section["cluster"]["start_seconds"] = round(time.monotonic() - started, 1)
        _log(f"  cluster {cluster.url} up in {section['cluster']['start_seconds']} s")
        return cluster

    def _spark_dataset(
        self, name: str, cluster: StandaloneCluster | None, *, asset: bool = True
    ) -> dict:
        """The rollup on ``name``'s data: memory probes and, when ``asset`` (the data set that
        delivers the whole month), the asset's local runs and, interleaved (a slow phase of the
        shared machine hits both), the same asset on the cluster."""
        p = self.data(name)
        prep = bench_data.prepare_rollup_inputs(p, self.dagster_home, _log)
        rollup = child("materialize", "--assets", "investor_rollup", "--partition", ROLLUP_MONTH)
        runs, probes, on_cluster = [], [], []
        for i in range(self.args.repeats):  # interleaved: a slow phase hits both
            if asset:
                runs.append(
                    self._checked(
                        run_measured(rollup, env=self.env(p), timeout=self.args.timeout),
                        f"{name} investor_rollup asset {i + 1}/{self.args.repeats}",
                    )
                )
            probes.append(self._probe(p, f"{name} rollup memory probe {i + 1}"))
            if asset and cluster is not None:
                m = run_measured(
                    rollup,
                    env=self.env(p, **cluster.driver_env()),
                    timeout=self.args.timeout,
                    also_sample=list(cluster.pids.values()),
                )
                on_cluster.append(
                    self._checked(
                        m,
                        f"{name} investor_rollup asset on the cluster {i + 1}/{self.args.repeats}",
                    )
                )
                _log(
                    f"      cluster processes (master, workers, executors): {m.peak_other_rss_mb:.0f} MB"
                )
        probe_ok = [r for r in probes if r.get("succeeded")]
        result: dict = {
            "data_set_days": f"{p.start}..{p.end} ({len(p.days)})",
            "probe": {
                "what": "bench.rollup_memory: compute_rollup alone in a "
                "fresh process, JVM heap read through JMX",
                "runs": probes,
                "all_ok": len(probe_ok) == len(probes) > 0,
                "median_jvm_live_heap_peak_mb": median(
                    [r.get("jvm_live_heap_peak_mb") for r in probe_ok]
                ),
                "median_jvm_heap_max_mb": median([r.get("jvm_heap_max_mb") for r in probe_ok]),
                "median_rss_peak_mb": median([r.get("rss_peak_mb") for r in probe_ok]),
                "median_rollup_seconds": median([r.get("rollup_seconds") for r in probe_ok]),
            },
            "inputs": _rollup_inputs(p.root, ROLLUP_MONTH),
            "upstream_preparation": {
                "ok": prep.get("ok"),
                "seconds": prep.get("seconds"),
                "failed_runs": [r for r in prep.get("runs", []) if not r["ok"]],
            },
        }
        if not asset:
            result["asset"] = (
                f"not run: {len(p.days)} days do not deliver the month {ROLLUP_MONTH}, which the "
                "asset refuses (docs/operations.md §3); the probe measures the computation alone"
            )
            return result
        summary = self._runs(runs)
        return {
            **summary,
            **result,
            "median_peak_jvm_rss_mb": median([m.peak_jvm_rss_mb for m in runs]),
            "cluster": _cluster_summary(self._runs(on_cluster), on_cluster, summary)
            if on_cluster
            else None,
        }

    def _probe(self, p: bench_data.Prepared, what: str) -> dict:
        """The rollup memory probe (bench/rollup_memory.py): compute_rollup alone, heap via JMX."""
        out = self.work / "probe.json"
        out.unlink(missing_ok=True)
        m = run_measured(
            [
                sys.executable,
                "-m",
                "bench.rollup_memory",
                "--data-root",
                str(p.root),
                "--grain",
                "monthly",
                "--periods",
                ROLLUP_MONTH,
                "--as-of",
                ROLLUP_AS_OF,
                "--driver-memory",
                self.args.spark_driver_memory,
                "--out",
                str(out),
            ],
            env=self.env(p),
            timeout=self.args.timeout,
        )
        try:
            report = json.loads(out.read_text())
        except (OSError, json.JSONDecodeError):
            report = {"succeeded": False, "error": m.stderr_tail[-600:]}
        report["tree_peak_rss_mb_by_bench"] = m.peak_rss_mb
        status = "ok" if report.get("succeeded") else "FAILED"
        _log(
            f"    {what}: {status} in {m.seconds:.1f} s, JVM live heap peak "
            f"{report.get('jvm_live_heap_peak_mb')} MB of {report.get('jvm_heap_max_mb')} MB"
        )
        return report

    # -- 4. load time and demo ---------------------------------------------------------------
    def load(self) -> dict:
        _log(f"[load] dagster definitions validate, x{self.args.repeats}")
        empty = self.work / "no-data"
        env = {
            **self.env_common,
            "PACIFIC_DATA_ROOT": str(empty),
            "DAGSTER_HOME": str(self.dagster_home),
        }
        dagster = str(Path(sys.executable).parent / "dagster")
        validate = [
            self._checked(
                run_measured(
                    [dagster, "definitions", "validate", "-m", "pacific_assets.definitions"],
                    env=env,
                    timeout=600,
                ),
                "definitions validate",
            )
            for _ in range(self.args.repeats)
        ]
        imports = [
            self._checked(
                run_measured(
                    [sys.executable, "-c", "import pacific_assets.definitions"],
                    env=env,
                    timeout=600,
                ),
                "import pacific_assets.definitions",
            )
            for _ in range(self.args.repeats)
        ]
        section = {
            "definitions_validate": self._runs(validate),
            "import_definitions": self._runs(imports),
        }
        self.results["sections"]["load"] = section
        return section

    def demo(self) -> dict:
        repeats = self.args.demo_repeats
        _log(f"[demo] make demo in a fresh DAGSTER_HOME and data root, x{repeats}")
        runs = []
        for i in range(repeats):
            home, root = self.work / f"demo{i}" / "home", self.work / f"demo{i}" / "data"
            home.mkdir(parents=True)
            cmd = ["make", "-s", "demo", f"DAGSTER_HOME={home}", f"PACIFIC_DATA_ROOT={root}"]
            m = run_measured(cmd, env={**self.env_common}, timeout=self.args.timeout)
            # make demo exits 1 when a run failed; the injected faults only fail checks
            self._checked(m, f"make demo {i + 1}/{repeats}")
            runs.append(m)
            shutil.rmtree(self.work / f"demo{i}", ignore_errors=True)
        section = {
            "command": "make demo (fresh .dagster_home and data root each time)",
            **self._runs(runs),
        }
        self.results["sections"]["demo"] = section
        return section

    # -- 5. the planner at scale --------------------------------------------------------------
    def planner(self) -> dict:
        from bench import planner

        years = planner.QUICK_YEARS if self.quick else planner.YEARS
        home = self.work / "planner_home"  # an instance of its own: no run of other sections
        home.mkdir(exist_ok=True)
        (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
        _log(f"[planner] one tick per sensor over {', '.join(f'{y}y' for y in years)} of history")
        section: dict = {
            "now": planner.NOW.isoformat(),
            "goal_seconds_at_3y": planner.GOAL_SECONDS_AT_3Y,
            "lakes": {},
            "sensors": {},
        }
        roots = {}
        for y in years:
            roots[y] = self.data_dir / "planner" / f"{y}y"
            built = self._checked(
                run_measured(
                    child("planner-lake", "--years", str(y)),
                    env=bench_data.child_env(roots[y], home, self.env_common),
                    timeout=self.args.timeout,
                ),
                f"data root of {y} years",
            )
            section["lakes"][f"{y}y"] = {
                "days": (planner.NOW.date() - planner.first_day(y)).days,
                **{k: v for k, v in built.report.items() if k != "ok"},
                "all_ok": built.ok,
            }
        for sensor in planner.SENSORS:
            per_years = {}
            for y in years:
                runs = [
                    self._checked(
                        run_measured(
                            child("planner-tick", "--sensor", sensor),
                            env=bench_data.child_env(roots[y], home, self.env_common),
                            timeout=600,
                        ),
                        f"{sensor} over {y} years",
                    )
                    for _ in range(self.args.repeats)
                ]
                per_years[f"{y}y"] = planner.summarize(
                    [m.report | {"ok": m.ok} for m in runs], [m.peak_rss_mb for m in runs]
                )
            section["sensors"][sensor] = {
                "by_history": per_years,
                "growth_cold": planner.growth(per_years, "cold_seconds"),
                "growth_warm": planner.growth(per_years, "warm_seconds"),
                "growth_busy": planner.growth(per_years, "busy_seconds"),
                "growth_peak_rss": planner.growth(per_years, "peak_rss_mb"),
            }
        self.results["sections"]["planner"] = section
        return section

    # -- 6. instance: SQLite vs PostgreSQL ---------------------------------------------------
    def _instance_lake(self) -> Path:
        """The demo company (quick: the test company) simulated and built once, every asset
        over its whole range (``python -m pacific_tools.demo``), kept under the data folder."""
        profile = "test" if self.quick else "demo"
        root = self.data_dir / f"instance-{profile}"
        spec = {"section": "instance", "profile": profile, "version": 1}
        if _read_json(root / bench_data.MARKER) == spec:
            _log(f"  lake: {root} (built earlier)")
            return root
        shutil.rmtree(root, ignore_errors=True)
        home = self.work / "instance-build-home"
        home.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / "dagster.yaml", home / "dagster.yaml")
        _log(f"  lake: building the {profile!r} company into {root} (python -m pacific_tools.demo)")
        m = run_measured(
            [sys.executable, "-m", "pacific_tools.demo", "--profile", profile],
            env={**self.env_common, "PACIFIC_DATA_ROOT": str(root), "DAGSTER_HOME": str(home)},
            timeout=self.args.timeout,
        )
        if not m.ok:
            raise RuntimeError(f"building the instance section's lake failed: {m.stderr_tail}")
        _log(f"  lake: built in {m.seconds:.0f} s")
        (root / bench_data.MARKER).write_text(json.dumps(spec, indent=2))
        return root

    def instance(self) -> dict:
        from pacific_assets.storage.lake import Lake
        from stack.services import Settings, Stack

        root = self._instance_lake()
        keys = Lake(root).partition_keys("engagement_hours")
        start, end = keys[0], keys[-1]
        iterations = 2 if self.quick else 4
        _log(
            f"[instance] SQLite vs PostgreSQL over {root.name} ({start}..{end}): sync, sensor "
            f"tick (x{iterations}), engagement range run; x{self.args.repeats}, alternating"
        )
        # PostgreSQL as the stack runs it (a server in a folder of its own, on a free port);
        # as root it runs as the postgres user, who must be able to enter the folder.
        self.work.chmod(0o755)
        pg_env = {
            "PACIFIC_STACK_DIR": str(self.work / "postgres-stack"),
            "PACIFIC_DATA_ROOT": str(root),
            "PACIFIC_PG_PORT": str(free_port()),
            "PACIFIC_PG_PASSWORD": secrets.token_urlsafe(16),  # this run's only, never stored
        }
        stack = Stack(Settings.from_env(pg_env), say=lambda _m: None, env=pg_env)
        results: dict[str, dict[str, list[Measured]]] = {
            k: {"tick": [], "range_run": []} for k in ("sqlite", "postgres")
        }
        try:
            started = time.monotonic()
            stack.up(["postgres"], sync=False)
            pg_start = round(time.monotonic() - started, 1)
            _log(f"  postgres up in {pg_start} s")
            for i in range(self.args.repeats):
                order = ("sqlite", "postgres") if i % 2 == 0 else ("postgres", "sqlite")
                _log(f"  repeat {i + 1}/{self.args.repeats}: {' then '.join(order)}")
                for kind in order:
                    env = self._instance_env(kind, i, root, stack)
                    results[kind]["tick"].append(
                        self._checked(
                            run_measured(
                                child("tick", "--iterations", str(iterations)),
                                env=env,
                                timeout=self.args.timeout,
                            ),
                            f"{kind}: sync + sensor tick",
                        )
                    )
                    results[kind]["range_run"].append(
                        self._checked(
                            run_measured(
                                child(
                                    "materialize",
                                    "--assets",
                                    ",".join(CHAIN),
                                    "--start",
                                    start,
                                    "--end",
                                    end,
                                ),
                                env=env,
                                timeout=self.args.timeout,
                            ),
                            f"{kind}: engagement chain {start}..{end}",
                        )
                    )
        finally:
            stack.down(["postgres"])
        section: dict = {
            "lake": root.name,
            "range": f"{start}..{end}",
            "days": len(keys),
            "postgres_start_seconds": pg_start,
            "sensor_iterations_per_repeat": iterations,
            "order": "alternating per repeat (SQLite first on odd repeats)",
        }
        for kind, runs in results.items():
            ticks = [m.report for m in runs["tick"] if m.ok]
            section[kind] = {
                "storage": ticks[0].get("storage") if ticks else None,
                "tick": {
                    "all_ok": all(m.ok for m in runs["tick"]),
                    "runs": [m.report for m in runs["tick"]],
                    "median_sync_seconds": median([t["sync_seconds"] for t in ticks]),
                    "synced_partitions": ticks[0]["synced_partitions"] if ticks else None,
                    "median_evaluate_all_ms": median([t["evaluate_all_ms"] for t in ticks]),
                    "median_keeper_ms": median(
                        [t["evaluate_ms"]["clicks_late_data_sensor"] for t in ticks]
                    ),
                    "median_daemon_iteration_ms": median([t["daemon_iteration_ms"] for t in ticks]),
                },
                "range_run": self._runs(runs["range_run"]),
            }
        sq, pg = section["sqlite"], section["postgres"]
        section["ratios_postgres_over_sqlite"] = {
            "sync": _ratio(pg["tick"]["median_sync_seconds"], sq["tick"]["median_sync_seconds"]),
            "evaluate_every_sensor": _ratio(
                pg["tick"]["median_evaluate_all_ms"], sq["tick"]["median_evaluate_all_ms"]
            ),
            "evaluate_keeper": _ratio(
                pg["tick"]["median_keeper_ms"], sq["tick"]["median_keeper_ms"]
            ),
            "daemon_sensor_iteration": _ratio(
                pg["tick"]["median_daemon_iteration_ms"], sq["tick"]["median_daemon_iteration_ms"]
            ),
            "range_run": _ratio(
                pg["range_run"]["median_run_seconds"], sq["range_run"]["median_run_seconds"]
            ),
            "range_run_process_wall": _ratio(
                pg["range_run"]["median_wall_seconds"], sq["range_run"]["median_wall_seconds"]
            ),
        }
        self.results["sections"]["instance"] = section
        return section

    def _instance_env(self, kind: str, i: int, root: Path, stack) -> dict[str, str]:
        """A new, migrated instance of ``kind`` for repeat ``i`` (not measured)."""
        home = self.work / f"instance-{kind}-{i}"
        home.mkdir(parents=True)
        env = {**self.env_common, "PACIFIC_DATA_ROOT": str(root), "DAGSTER_HOME": str(home)}
        if kind == "sqlite":
            shutil.copy(REPO / "dagster.yaml", home / "dagster.yaml")
        else:
            shutil.copy(REPO / "stack" / "dagster.yaml", home / "dagster.yaml")
            db = f"bench_{i}"
            with contextlib.closing(stack._pg_connect("postgres")) as con:
                con.autocommit = True
                with con.cursor() as cur:
                    cur.execute(f'drop database if exists "{db}"')
                    cur.execute(f'create database "{db}"')
            s = stack.s
            env.update(
                PACIFIC_PG_HOST=s.host,
                PACIFIC_PG_PORT=str(s.pg_port),
                PACIFIC_PG_USER=s.pg_user,
                PACIFIC_PG_DB=db,
                PACIFIC_PG_PASSWORD=stack.password(),
            )
        dagster = str(Path(sys.executable).parent / "dagster")
        m = run_measured([dagster, "instance", "migrate"], env=env, timeout=600)
        if not m.ok:
            raise RuntimeError(f"dagster instance migrate ({kind}) failed: {m.stderr_tail}")
        return env

    # -- run ---------------------------------------------------------------------------------
    def run(self, sections: list[str]) -> int:
        started = time.monotonic()
        _log(f"bench ({self.results['mode']}): data in {self.data_dir}, results to {self.out}")
        _log("preparing data ...")
        wanted = {"x1"} if {"engagement", "backfill"} & set(sections) else set()
        if "memory" in sections:
            wanted |= {"x1_3d", "x10"}
        if "spark" in sections:
            wanted |= {"x1", "x1_3d", "x10"}
        for name in self.datasets:
            if name in wanted:
                self.data(name)
        if self.args.prepare_only:
            return 0
        steps: dict[str, Callable[[], dict]] = {
            "engagement": self.engagement,
            "backfill": self.backfill,
            "memory": self.memory,
            "spark": self.spark,
            "load": self.load,
            "demo": self.demo,
            "planner": self.planner,
            "instance": self.instance,
        }
        failed = []
        for name in sections:
            measured = {
                "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "git_commit": self.results["machine"]["git_commit"],
                "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
            }
            try:
                steps[name]()
            except Exception as exc:  # one broken section must not lose the others' numbers
                _log(f"[{name}] ERROR: {type(exc).__name__}: {exc}")
                self.results["sections"][name] = {"error": f"{type(exc).__name__}: {exc}"}
                failed.append(name)
            self.results["sections"][name]["measured"] = measured
            self._write()  # after every section, so a long run leaves partial results
        self.results["total_seconds"] = round(time.monotonic() - started, 1)
        self.results["skipped_sections"] = [
            s for s in SECTIONS if s not in self.results["sections"]
        ]
        paths = self._write()
        _log("")
        _log(report.summary_lines(self.results))
        _log(f"results: {paths[0]} and {paths[1]} ({self.results['total_seconds']:.0f} s)")
        shutil.rmtree(self.work, ignore_errors=True)
        return 1 if failed or not report.all_ok(self.results) else 0

    def merge_previous(self) -> None:
        """--merge: keep the other sections (and data sets) of the previous results file."""
        previous = self.out / "bench.json"
        if not previous.exists():
            return
        old = json.loads(previous.read_text())
        if old.get("mode") != self.results["mode"]:
            return
        self.results["sections"] = dict(old.get("sections", {}))
        self.results["datasets"] = {**old.get("datasets", {}), **self.results["datasets"]}
        self.results["merged_with"] = old.get("generated_at")

    def _write(self) -> tuple[Path, Path]:
        self.out.mkdir(parents=True, exist_ok=True)
        js, md = self.out / "bench.json", self.out / "bench.md"
        js.write_text(json.dumps(self.results, indent=2, default=str) + "\n")
        md.write_text(report.markdown(self.results))
        return js, md


def _cluster_summary(c: dict, runs: list[Measured], local: dict) -> dict:
    """The rollup on the cluster: the driver's process tree (Python + driver JVM; executors are
    the workers' children) measured like the local runs, and ratios against them."""
    ok = c["all_ok"] and local["all_ok"]
    return {
        **c,
        "median_peak_driver_jvm_rss_mb": median([m.peak_jvm_rss_mb for m in runs]),
        "median_peak_cluster_rss_mb": median([m.peak_other_rss_mb for m in runs]),
        "peak_cluster_rss_means": "master + workers + executors, summed",
        "ratio_wall_over_local": _ratio(c["median_wall_seconds"], local["median_wall_seconds"])
        if ok
        else None,
        "ratio_run_over_local": _ratio(c["median_run_seconds"], local["median_run_seconds"])
        if ok
        else None,
        "ratio_peak_driver_rss_over_local": _ratio(
            c["median_peak_rss_mb"], local["median_peak_rss_mb"]
        )
        if ok
        else None,
    }


def _median_steps(runs: list[Measured]) -> dict[str, float]:
    keys = sorted({k for m in runs for k in (m.report.get("steps") or {})})
    return {k: median([(m.report.get("steps") or {}).get(k) for m in runs]) for k in keys}


def _rate(events: int | None, seconds: float | None) -> int | None:
    return round(events / seconds) if events and seconds else None


def _compare_hours(root: Path, baseline: Path, start: str, end: str) -> dict:
    """The hand-written query must produce exactly the asset's engagement_hours measures."""
    from pacific_assets.storage.duck import connect
    from pacific_assets.storage.lake import Lake

    lake = Lake(root)
    with connect() as con:
        diff = con.execute(
            f"""
            WITH a AS (
                SELECT * FROM read_parquet('{lake.glob("engagement_hours")}', hive_partitioning = false)
                WHERE date BETWEEN DATE '{start}' AND DATE '{end}'
            ),
            b AS (SELECT * FROM read_parquet('{baseline}/*/*.parquet', hive_partitioning = true))
            SELECT
                (SELECT count(*) FROM a) AS asset_rows,
                (SELECT count(*) FROM b) AS query_rows,
                count(*) FILTER (WHERE a.account_id IS NULL OR b.account_id IS NULL) AS unmatched,
                count(*) FILTER (
                    WHERE a.licensed_users IS DISTINCT FROM b.licensed_users
                       OR a.active_users IS DISTINCT FROM b.active_users
                       OR a.active_licensed_users IS DISTINCT FROM b.active_licensed_users
                       OR a.sessions IS DISTINCT FROM b.sessions
                       OR a.events IS DISTINCT FROM b.events
                       OR a.late_events IS DISTINCT FROM b.late_events
                       OR abs(a.total_hours - b.total_hours) > 1e-6
                ) AS differing
            FROM a FULL JOIN b ON a.date = CAST(b.date AS DATE) AND a.account_id = b.account_id
            """
        ).fetchone()
    asset_rows, query_rows, unmatched, differing = diff
    return {
        "identical": unmatched == 0 and differing == 0 and asset_rows == query_rows,
        "asset_rows": asset_rows,
        "query_rows": query_rows,
        "unmatched_rows": unmatched,
        "differing_rows": differing,
    }


def _events_in(root: Path, start: str, end: str) -> dict[str, int]:
    """De-duplicated events the chain processed in [start, end] (stg_clicks rows), and the landed
    lines of the batch files it had to read for those days (duplicates and other days included)."""
    from pacific_assets.engagement.landing import ClickLanding
    from pacific_assets.storage.duck import connect
    from pacific_assets.storage.lake import Lake

    lake = Lake(root)
    first, last = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    days = [(first + dt.timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]
    files = lake.partition_files("stg_clicks", days)
    events = 0
    if files:
        with connect() as con:
            events = con.execute(
                f"SELECT count(*) FROM read_parquet({files!r}, hive_partitioning = false)"
            ).fetchone()[0]
    lines = sum(
        e.rows for e in ClickLanding(lake.landing).manifest() if set(e.event_dates) & set(days)
    )
    return {"events": events, "landed_lines_read": lines}


def _physical_floor(root: Path, days: list[str], events: int) -> dict[str, float]:
    """What reading the landed batches costs at the disk's speed: the chain and the query must
    both read every byte of them, so bytes / sequential bandwidth is a floor neither can beat.

    Bandwidth: the files' pages are dropped from the page cache (``posix_fadvise`` DONTNEED,
    no root needed), then read in 8 MiB blocks, up to 2 GB. On a VM the host may still cache the
    disk, so this is the best case the guest sees, which is what a floor wants.
    """
    from pacific_assets.engagement.landing import ClickLanding

    files = ClickLanding(Path(root) / "landing").files_for_dates(days)
    total = sum(f.stat().st_size for f in files)
    read, started, budget = 0, time.monotonic(), 2 * 10**9
    for f in files:
        if read >= budget:
            break
        fd = os.open(f, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            while read < budget and (block := os.read(fd, 8 << 20)):
                read += len(block)
        finally:
            os.close(fd)
    seconds = time.monotonic() - started
    mb_per_s = read / 1e6 / seconds if seconds > 0 else float("nan")
    return {
        "landed_bytes": total,
        "bytes_per_event": round(total / events, 1) if events else None,
        "sequential_read_mb_per_s": round(mb_per_s, 1),
        # three significant digits: the quick data set reads in well under a millisecond
        "floor_seconds": float(f"{total / 1e6 / mb_per_s:.3g}") if mb_per_s > 0 else None,
    }


def _rollup_inputs(root: Path, month: str) -> dict[str, int]:
    """Rows of each rollup input in the month (what the Spark job joins)."""
    from pacific_assets.investor.inputs import MONTHLY
    from pacific_assets.storage.duck import connect
    from pacific_assets.storage.lake import Lake

    lake = Lake(root)
    first = dt.date.fromisoformat(month)
    last = MONTHLY.period_end(first)
    out = {}
    with connect() as con:
        for table in MONTHLY.inputs:
            files = lake.partition_files(table.table)
            if not files:
                out[table.table] = 0
                continue
            col = table.partition_col
            where = (
                ""
                if table.grain == "dimension"
                else f"WHERE {col} >= DATE '{first}' AND {col} < DATE '{last}'"
            )
            out[table.table] = con.execute(
                f"SELECT count(*) FROM read_parquet({files!r}, hive_partitioning = false, "
                f"union_by_name = true) {where}"
            ).fetchone()[0]
    return out


def _no_machine_paths(argv: list[str]) -> list[str]:
    """Command-line arguments as the results record them (a path inside the repo made relative)."""
    return [
        os.path.relpath(a, REPO) if os.path.isabs(a) and a.startswith(str(REPO)) else a
        for a in argv
    ]


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a is not None and b else None


def _size_mb(text: str) -> float:
    """A DuckDB size setting in MiB (DuckDB reads "1GB" as 10^9 bytes and "1GiB" as 2^30)."""
    match = re.fullmatch(r"\s*([0-9.]+)\s*([A-Za-z]*)\s*", text)
    if not match:
        raise ValueError(f"not a DuckDB size: {text!r}")
    number, unit = match.groups()
    return float(number) * _UNITS.get(unit.upper(), 1) / 2**20


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny data, 1 repeat, no Spark/demo")
    parser.add_argument("--repeats", type=int, help="runs per measurement (default 3; quick 1)")
    parser.add_argument("--backfill-repeats", type=int, help="default 1 (each is N runs)")
    parser.add_argument("--backfill-days", type=int, default=30, help="days in the backfill test")
    parser.add_argument("--demo-repeats", type=int, help="default: --repeats")
    parser.add_argument("--only", help=f"comma-separated sections: {','.join(SECTIONS)}")
    parser.add_argument("--skip", help="comma-separated sections to leave out")
    parser.add_argument("--data-dir", help="where data sets live (default bench/data[/quick])")
    parser.add_argument(
        "--out", help="results folder (default bench/results, quick: bench/results/tmp)"
    )
    parser.add_argument(
        "--days",
        type=int,
        help="x1's company over its first N days (data set x1_<N>d): iterate on less data",
    )
    parser.add_argument("--memory-limit", default="1GB", help="DuckDB memory_limit (default 1GB)")
    parser.add_argument("--threads", type=int, default=2, help="DuckDB threads / Spark cores")
    parser.add_argument("--spark-driver-memory", default="1g")
    parser.add_argument(
        "--spark-cluster-workers", type=int, default=2, help="standalone workers, 1 core each"
    )
    parser.add_argument(
        "--spark-worker-memory", default="1g", help="each worker's memory = executor memory"
    )
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per child process")
    parser.add_argument("--prepare-only", action="store_true", help="generate/prepare data, exit")
    parser.add_argument(
        "--merge",
        action="store_true",
        help="re-measure only the selected sections, keep the others from the results file",
    )
    args = parser.parse_args(argv)
    args.repeats = args.repeats or (1 if args.quick else 3)
    # one backfill repeat is already 30 runs (a sum of 30 samples); more on request
    args.backfill_repeats = args.backfill_repeats or 1
    args.demo_repeats = args.demo_repeats or args.repeats
    args.data_dir = args.data_dir or str(REPO / "bench" / "data" / ("quick" if args.quick else ""))
    args.out = args.out or str(REPO / "bench" / "results" / ("tmp" if args.quick else ""))
    return args


def main(argv: list[str] | None = None) -> int:
    warnings.filterwarnings("ignore")  # Dagster's beta/preview notes, printed on import
    # SIGTERM unwinds like Ctrl-C, so the Spark cluster's finally stops the JVMs it started
    # (they run in sessions of their own and would outlive the bench)
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    args = parse_args(argv)
    sections = (
        args.only.split(",")
        if args.only
        else [s for s in SECTIONS if not (args.quick and s in QUICK_SKIPS)]
    )
    if args.skip:
        sections = [s for s in sections if s not in args.skip.split(",")]
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        print(
            f"error: unknown section(s) {sorted(unknown)}; choose from {SECTIONS}", file=sys.stderr
        )
        return 2
    bench = Bench(args)
    if args.merge:
        bench.merge_previous()
    return bench.run(sections)


if __name__ == "__main__":
    sys.exit(main())
