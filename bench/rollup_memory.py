"""Run the Spark rollup once in this (fresh) process and report its peak memory as JSON.

``spark.driver.memory`` only applies when the JVM starts (docs/investor.md "Operations"), so every
measurement needs its own process: the benchmark calls this module once per scale. What it reports:

- ``jvm_heap_max_mb``: the heap limit the JVM really got (should equal the driver memory);
- ``jvm_live_heap_peak_mb``: the highest heap still in use right after a garbage collection
  (Σ over heap pools of the usage after their last collection, sampled every 100 ms): the live
  data the rollup holds — the figure to compare with the driver memory;
- ``jvm_heap_used_peak_mb``: the highest heap occupancy sampled (garbage included: a JVM fills
  its heap before collecting, so this approaches the limit by design), and GC count and time;
- ``succeeded``: the rollup finished (an OutOfMemoryError would fail it);
- ``rss_peak_mb``: peak resident memory of the whole process tree (Python + JVM; includes the
  JVM's non-heap: code cache, metaspace, threads), sampled every 100 ms;
- timings and the output size.

Usage::

    python -m bench.rollup_memory --data-root data --grain monthly \\
        --periods 2025-09-01 --as-of 2025-10-02T00:00:00Z [--driver-memory 1g] [--out result.json]

The lake under ``--data-root`` must hold the rollup's inputs (e.g. after ``make demo`` or the
bench's pipeline run). Nothing is written to the lake: only the computation is measured.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import sys
import threading
import time
from pathlib import Path

import psutil


class _Sampler(threading.Thread):
    """Peak RSS of this process and its children, plus a heap probe, every ``interval`` s."""

    def __init__(self, interval: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.interval = interval
        self.rss_peak = 0
        self.heap_peak = 0
        self.live_peak = 0
        self.heap_probe = None
        self.live_probe = None
        self._stop_event = threading.Event()

    def run(self) -> None:
        me = psutil.Process()
        while not self._stop_event.is_set():
            total = 0
            for proc in [me, *me.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):  # a child may just have exited
                    total += proc.memory_info().rss
            self.rss_peak = max(self.rss_peak, total)
            if self.heap_probe is not None:
                with contextlib.suppress(Exception):  # the gateway may be busy or closing
                    self.heap_peak = max(self.heap_peak, self.heap_probe())
                    self.live_peak = max(self.live_peak, self.live_probe())
            self._stop_event.wait(self.interval)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=5)


def _jvm_probes(spark):
    """Callables reading the JVM's heap occupancy, live heap after GC, and GC totals."""
    jvm = spark.sparkContext._jvm
    management = jvm.java.lang.management.ManagementFactory
    runtime = jvm.java.lang.Runtime.getRuntime()
    heap_pools = [
        p for p in management.getMemoryPoolMXBeans() if str(p.getType().toString()) == "Heap memory"
    ]

    def occupancy() -> int:
        return runtime.totalMemory() - runtime.freeMemory()

    def live_after_gc() -> int:
        total = 0
        for pool in heap_pools:
            usage = pool.getCollectionUsage()
            if usage is not None:
                total += usage.getUsed()
        return total

    def gc_totals() -> tuple[int, int]:
        beans = management.getGarbageCollectorMXBeans()
        return sum(b.getCollectionCount() for b in beans), sum(b.getCollectionTime() for b in beans)

    return runtime, occupancy, live_after_gc, gc_totals


def measure(
    data_root: str, grain_name: str, periods: list[str], as_of: dt.datetime, driver_memory: str
) -> dict:
    from pyspark.sql import SparkSession

    from pacific_assets.investor.inputs import GRAINS
    from pacific_assets.investor.rollup import compute_rollup
    from pacific_assets.investor.spark import spark_config_from_env
    from pacific_assets.storage.lake import Lake

    sampler = _Sampler()
    sampler.start()
    started = time.monotonic()
    builder = SparkSession.builder
    config = spark_config_from_env()
    config["spark.driver.memory"] = driver_memory
    for key, value in config.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    runtime, occupancy, live_after_gc, gc_totals = _jvm_probes(spark)
    sampler.live_probe = live_after_gc
    sampler.heap_probe = occupancy
    jvm_started = time.monotonic()
    result = compute_rollup(
        spark,
        Lake(data_root),
        GRAINS[grain_name],
        [dt.date.fromisoformat(p) for p in periods],
        as_of=as_of,
    )
    finished = time.monotonic()
    heap_max = runtime.maxMemory()
    gc_count, gc_ms = gc_totals()
    sampler.stop()
    spark.stop()
    mb = 1024 * 1024
    return {
        "grain": grain_name,
        "periods": periods,
        "driver_memory": driver_memory,
        "succeeded": True,
        "jvm_heap_max_mb": round(heap_max / mb, 1),
        "jvm_live_heap_peak_mb": round(sampler.live_peak / mb, 1),
        "jvm_heap_used_peak_mb": round(sampler.heap_peak / mb, 1),
        "gc_count": gc_count,
        "gc_seconds": round(gc_ms / 1000, 2),
        "rss_peak_mb": round(sampler.rss_peak / mb, 1),
        "jvm_start_seconds": round(jvm_started - started, 2),
        "rollup_seconds": round(finished - jvm_started, 2),
        "output_rows": result.kpis.height,
        "complete_periods": sum(v.is_complete for v in result.periods.values()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", default=os.environ.get("PACIFIC_DATA_ROOT", "data"))
    parser.add_argument("--grain", choices=("monthly", "weekly"), default="monthly")
    parser.add_argument("--periods", nargs="+", required=True, help="period start dates")
    parser.add_argument("--as-of", default=None, help="ISO UTC time (default: now)")
    parser.add_argument(
        "--driver-memory", default=os.environ.get("PACIFIC_SPARK_DRIVER_MEMORY", "1g")
    )
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    args = parser.parse_args(argv)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    as_of = (
        dt.datetime.fromisoformat(args.as_of.replace("Z", "+00:00"))
        if args.as_of
        else dt.datetime.now(dt.UTC)
    )
    try:
        report = measure(args.data_root, args.grain, args.periods, as_of, args.driver_memory)
    except Exception as exc:  # one readable line; the traceback goes to stderr for the log
        import traceback

        traceback.print_exc(file=sys.stderr)
        print(f"error: the rollup measurement failed: {exc}", file=sys.stderr)
        return 1
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
