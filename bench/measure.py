"""How the benchmark measures: fresh child processes, wall time, peak RSS of the process tree.

Every measured piece of work runs in its own child process (``python -m bench.child ...``), so
nothing is warm from the previous measurement (imports, DuckDB caches, a JVM that ``getOrCreate``
would reuse) and the memory figure is that piece of work alone. The parent samples the resident
set size of the child *and all its descendants* (the Spark JVM is a grandchild) every 50 ms with
psutil and keeps the peak of the sum. Shared pages are counted once per process, so the sum can
slightly overstate what the machine really used; it never understates it.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psutil

SAMPLE_SECONDS = 0.05
REPO = Path(__file__).resolve().parent.parent


@dataclass
class Measured:
    """One child process: what it reported, how long it took, how much memory its tree held."""

    seconds: float
    peak_rss_bytes: int
    peak_jvm_rss_bytes: int
    returncode: int
    report: dict = field(default_factory=dict)
    stderr_tail: str = ""
    #: 1-minute load average when the process started (the machine is shared)
    load_at_start: float = 0.0
    #: peak summed RSS of other process trees sampled meanwhile (``also_sample``: a cluster)
    peak_other_rss_bytes: int = 0

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and self.report.get("ok", True)

    @property
    def peak_rss_mb(self) -> float:
        return round(self.peak_rss_bytes / 2**20, 1)

    @property
    def peak_jvm_rss_mb(self) -> float:
        return round(self.peak_jvm_rss_bytes / 2**20, 1)

    @property
    def peak_other_rss_mb(self) -> float:
        return round(self.peak_other_rss_bytes / 2**20, 1)


class TreeSampler:
    """Peak of the summed RSS of processes and all their descendants, sampled in a thread."""

    def __init__(self, pid: int | Sequence[int], interval: float = SAMPLE_SECONDS):
        self.roots = [psutil.Process(p) for p in ([pid] if isinstance(pid, int) else pid)]
        self.interval = interval
        self.peak = 0
        self.peak_jvm = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def sample(self) -> None:
        total, jvm = 0, 0
        procs = []
        for root in self.roots:
            try:
                procs += [root, *root.children(recursive=True)]
            except psutil.Error:
                continue  # this root exited
        for proc in procs:
            try:
                rss = proc.memory_info().rss
                name = proc.name()
            except psutil.Error:
                continue  # exited between listing and reading
            total += rss
            if name == "java":
                jvm += rss
        self.peak = max(self.peak, total)
        self.peak_jvm = max(self.peak_jvm, jvm)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)


def run_measured(
    args: Sequence[str],
    env: dict[str, str] | None = None,
    timeout: float | None = None,
    cwd: Path = REPO,
    also_sample: Sequence[int] = (),
) -> Measured:
    """Run ``args`` in a fresh process; the child may write a JSON report to $BENCH_REPORT.

    ``also_sample``: pids of processes the child works with but did not start (a Spark cluster's
    master and workers, whose executors are the workers' children); their trees' summed peak RSS
    is ``peak_other_rss_bytes``, apart from the child's own."""
    with tempfile.NamedTemporaryFile("r", suffix=".json", delete=False) as fh:
        report_path = Path(fh.name)
    full_env = {**os.environ, **(env or {}), "BENCH_REPORT": str(report_path)}
    load = os.getloadavg()[0]
    started = time.perf_counter()
    proc = subprocess.Popen(
        list(args),
        env=full_env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    others = TreeSampler(list(also_sample)) if also_sample else None
    with TreeSampler(proc.pid) as sampler, others or contextlib.nullcontext():
        try:
            _, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_tree(proc.pid)
            _, stderr = proc.communicate()
            stderr = (stderr or "") + f"\nbench: killed after the {timeout:.0f} s timeout"
        except BaseException:  # the bench itself stopped (Ctrl-C, SIGTERM): no orphaned child
            _kill_tree(proc.pid)
            proc.wait()
            raise
        sampler.sample()
    seconds = time.perf_counter() - started
    try:
        report = json.loads(report_path.read_text() or "{}")
    except json.JSONDecodeError:
        report = {}
    report_path.unlink(missing_ok=True)
    return Measured(
        seconds=seconds,
        peak_rss_bytes=sampler.peak,
        peak_jvm_rss_bytes=sampler.peak_jvm,
        returncode=proc.returncode,
        report=report,
        stderr_tail=(stderr or "")[-3000:],
        load_at_start=round(load, 2),
        peak_other_rss_bytes=others.peak if others else 0,
    )


def _kill_tree(pid: int) -> None:
    """Stop a timed-out child and everything it started (only our own child's tree)."""
    try:
        root = psutil.Process(pid)
        procs = [*root.children(recursive=True), root]
    except psutil.Error:
        return
    for p in procs:
        with contextlib.suppress(psutil.Error):
            p.kill()


def child(task: str, *args: str) -> list[str]:
    """The command line of one child task (see bench/child.py)."""
    return [sys.executable, "-m", "bench.child", task, *args]


def median(values: Sequence[float]) -> float | None:
    values = [v for v in values if v is not None]
    return round(statistics.median(values), 3) if values else None


def machine() -> dict[str, object]:
    """What the numbers were measured on (the machine is shared: load is recorded too)."""
    model = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import dagster
    import duckdb
    import polars

    try:
        import pyspark

        spark_version = pyspark.__version__
    except ImportError:  # pragma: no cover - pyspark is a dependency
        spark_version = None
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
    ).stdout.strip()
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=REPO,
        capture_output=True,
        text=True,
    ).stdout.splitlines()
    return {
        "cpu_model": model,
        "logical_cores": psutil.cpu_count(logical=True),
        "physical_cores": psutil.cpu_count(logical=False),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "os": platform.platform(),
        "python": platform.python_version(),
        "dagster": dagster.__version__,
        "duckdb": duckdb.__version__,
        "polars": polars.__version__,
        "pyspark": spark_version,
        "git_commit": commit,
        # other work in progress in the same checkout, measured as it was on disk
        "uncommitted_files": sorted(line[3:] for line in status),
    }
