"""A Spark standalone cluster on 127.0.0.1, from the installed pyspark distribution.

Why: the rollups' switch to a real cluster (``PACIFIC_SPARK_MASTER=spark://…``) is kept proven by
``pacific_assets_tests/investor/test_spark_cluster.py``, measured by ``make bench`` and run by
``make stack``; all three start one of these. It starts and stops JVMs and imports psutil, so it
lives with the stack's other services, outside the runtime package.

One master and ``workers`` workers, each its own JVM started with the distribution's
``bin/spark-class`` (SPARK_HOME = the pyspark package folder; Java 17+ on PATH, as for local
Spark), each worker with its own ``--cores`` and ``--memory``. Everything binds to 127.0.0.1
(``--host`` and ``SPARK_LOCAL_IP``, which the web UIs and executors also bind to); logs, work
folders and scratch space live under ``workdir``, and the cluster's own conf folder keeps a
machine-wide Spark setup out. Each daemon runs in a session of its own, so its process group (id =
its pid) holds it and the executors it starts: :meth:`StandaloneCluster.stop` signals each group
by that id, SIGTERM and then SIGKILL after a grace period::

    with StandaloneCluster(tmp / "cluster", workers=2, cores=1, memory="512m") as cluster:
        env = cluster.driver_env()  # PACIFIC_SPARK_MASTER=spark://127.0.0.1:<port>, ...

    python -m stack.spark_cluster [--workers 2 --cores 1 --memory 512m]   # until Ctrl-C
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import psutil

HOST = "127.0.0.1"
#: The master and workers only schedule: a small heap, and JIT/GC settings for short lives.
DAEMON_MEMORY = "256m"
DAEMON_JAVA_OPTS = "-XX:+UseSerialGC -XX:TieredStopAtLevel=1"


class ClusterError(RuntimeError):
    """The cluster did not come up; the message ends with the daemons' log tails."""


def java_available() -> bool:
    """Spark needs a JVM: ``java`` on PATH or JAVA_HOME (what spark-class looks for)."""
    return bool(shutil.which("java") or os.environ.get("JAVA_HOME"))


def spark_home() -> Path:
    """The pyspark package folder: it holds bin/spark-class and the jars of a Spark distribution."""
    import pyspark

    return Path(pyspark.__file__).resolve().parent


def free_port() -> int:
    """A port free on 127.0.0.1 now (the master needs a known one: the workers dial it)."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def group_running(pgid: int) -> list[int]:
    """Pids still running (zombies excluded) in process group ``pgid``."""
    pids = []
    for proc in psutil.process_iter():
        with contextlib.suppress(psutil.Error, OSError):
            if os.getpgid(proc.pid) == pgid and proc.status() != psutil.STATUS_ZOMBIE:
                pids.append(proc.pid)
    return pids


def stop_group(proc: subprocess.Popen, grace: float = 20) -> str:
    """Stop ``proc`` (started with ``start_new_session=True``) and everything in its process
    group, by its id: SIGTERM (a worker then stops its executors), SIGKILL after ``grace`` s."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 10.0)):
        if not group_running(proc.pid):
            break
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            proc.poll()  # reap our own child
            if not group_running(proc.pid):
                return f"pid {proc.pid} stopped by {sig.name}"
            time.sleep(0.2)
    proc.poll()
    left = group_running(proc.pid)
    return f"pid {proc.pid} still running: {left}" if left else f"pid {proc.pid} had exited"


class StandaloneCluster:
    """One master and ``workers`` workers on 127.0.0.1; see the module docstring."""

    def __init__(
        self,
        workdir: Path,
        workers: int = 2,
        cores: int = 1,
        memory: str = "512m",
        spark_conf: dict[str, str] | None = None,
        port: int | None = None,
        webui_port: int | None = None,
    ) -> None:
        self.workdir = Path(workdir)
        self.workers, self.cores, self.memory = workers, cores, memory
        #: written to the cluster's spark-defaults.conf, which a driver reads (``driver_env``)
        self.spark_conf = dict(spark_conf or {})
        # fixed ports when a long-running stack names them (stack/), free ones otherwise
        self.port, self.webui_port = port or free_port(), webui_port or free_port()
        self.procs: dict[str, subprocess.Popen] = {}

    @property
    def url(self) -> str:
        return f"spark://{HOST}:{self.port}"

    @property
    def pids(self) -> dict[str, int]:
        return {name: proc.pid for name, proc in self.procs.items()}

    def driver_env(self) -> dict[str, str]:
        """What a rollup run needs to use this cluster: one executor per worker, sized to fit (an
        executor larger than a worker's memory is never granted), and the cluster's conf."""
        return {
            "PACIFIC_SPARK_MASTER": self.url,
            "PACIFIC_SPARK_EXECUTOR_MEMORY": self.memory,
            "PACIFIC_SPARK_EXECUTOR_CORES": str(self.cores),
            "SPARK_LOCAL_IP": HOST,
            "SPARK_CONF_DIR": str(self.workdir / "conf"),
        }

    # -- start -------------------------------------------------------------------------------
    def _spawn(self, name: str, *args: str) -> None:
        log = self.workdir / "logs" / f"{name}.log"
        env = {
            **os.environ,
            "SPARK_HOME": str(spark_home()),
            "SPARK_CONF_DIR": str(self.workdir / "conf"),
            "SPARK_LOCAL_IP": HOST,
            "SPARK_LOCAL_DIRS": str(self.workdir / "local"),  # executors' shuffle and blocks
            "SPARK_DAEMON_MEMORY": DAEMON_MEMORY,
            "SPARK_DAEMON_JAVA_OPTS": DAEMON_JAVA_OPTS,
        }
        with log.open("wb") as out:
            self.procs[name] = subprocess.Popen(
                [str(spark_home() / "bin" / "spark-class"), *args],
                env=env,
                cwd=self.workdir,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, id = its pid (see stop_group)
            )

    def start(self, timeout: float = 120) -> StandaloneCluster:
        """Start the master, wait until it listens, start the workers (without waiting for them:
        the caller may work meanwhile, then call :meth:`wait_ready`)."""
        if not java_available():
            raise ClusterError("no java on PATH and no JAVA_HOME: Spark needs Java 17+")
        for folder in ("conf", "logs", "local"):
            (self.workdir / folder).mkdir(parents=True, exist_ok=True)
        # no REST submission server: it would take the fixed port 6066 (clusters side by side)
        settings = {"spark.master.rest.enabled": "false", **self.spark_conf}
        conf = "".join(f"{k} {v}\n" for k, v in sorted(settings.items()))
        (self.workdir / "conf" / "spark-defaults.conf").write_text(conf)
        self._spawn(
            "master",
            "org.apache.spark.deploy.master.Master",
            *("--host", HOST, "--port", str(self.port), "--webui-port", str(self.webui_port)),
        )
        # a worker retries a master that is not up yet only after 5-15 s: wait for it instead
        self._wait(self._master_listens, timeout, "the master to listen")
        for i in range(1, self.workers + 1):
            work = self.workdir / f"worker{i}"
            work.mkdir(exist_ok=True)
            self._spawn(
                f"worker{i}",
                "org.apache.spark.deploy.worker.Worker",
                self.url,
                *("--host", HOST, "--cores", str(self.cores), "--memory", self.memory),
                *("--webui-port", "0", "--work-dir", str(work)),
            )
        return self

    def _master_listens(self) -> bool:
        with socket.socket() as s:
            s.settimeout(0.5)
            return s.connect_ex((HOST, self.port)) == 0

    def wait_ready(self, timeout: float = 120) -> dict:
        """Wait until the master lists every worker ALIVE; the master's state then."""
        state: dict = {}

        def ready() -> bool:
            nonlocal state
            state = self.state()
            return sum(w.get("state") == "ALIVE" for w in state.get("workers", [])) >= self.workers

        self._wait(ready, timeout, f"{self.workers} ALIVE workers")
        return state

    def _wait(self, done: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            dead = [
                f"{n} exited ({p.returncode})"
                for n, p in self.procs.items()
                if p.poll() is not None
            ]
            if dead or time.monotonic() > deadline:
                why = ", ".join(dead) or f"not after {timeout:.0f} s"
                raise ClusterError(f"waiting for {what}: {why}\n{self.log_tails()}")
            time.sleep(0.25)

    # -- what it did -------------------------------------------------------------------------
    def state(self) -> dict:
        """The master's JSON state (workers, applications); {} while it is not up."""
        try:
            with urllib.request.urlopen(f"http://{HOST}:{self.webui_port}/json/", timeout=2) as r:
                return json.loads(r.read())
        except (OSError, ValueError):
            return {}

    def app_tasks(self, app_id: str) -> dict[str, int]:
        """Tasks each worker's executors ran for ``app_id``, counted in the executors' own logs
        (proof that the cluster did the work, not a local fallback)."""
        return {
            f"worker{i}": sum(
                p.read_text(errors="replace").count("Running task")
                for p in (self.workdir / f"worker{i}").glob(f"{app_id}/*/stderr")
            )
            for i in range(1, self.workers + 1)
        }

    def log_tails(self, chars: int = 1500) -> str:
        parts = []
        for name in self.procs:
            log = self.workdir / "logs" / f"{name}.log"
            with contextlib.suppress(OSError):
                parts.append(f"--- {name} ({log}):\n{log.read_text(errors='replace')[-chars:]}")
        return "\n".join(parts)

    # -- stop --------------------------------------------------------------------------------
    def stop(self, grace: float = 20) -> dict[str, str]:
        """Stop every process this cluster started, by process group id: workers (and their
        executors) first, then the master. What happened to each."""
        return {name: stop_group(self.procs[name], grace) for name in reversed(self.procs)}

    def alive(self) -> list[int]:
        """Pids this cluster started that still run (empty after :meth:`stop`)."""
        return [pid for proc in self.procs.values() for pid in group_running(proc.pid)]

    def __enter__(self) -> StandaloneCluster:
        try:
            self.start()
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    """Run a cluster until Ctrl-C or SIGTERM, printing what a rollup run needs to use it."""
    parser = argparse.ArgumentParser(prog="python -m stack.spark_cluster")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--cores", type=int, default=1, help="per worker")
    parser.add_argument("--memory", default="512m", help="per worker (= executor memory)")
    parser.add_argument("--workdir", help="logs and work folders (default: a temporary folder)")
    args = parser.parse_args(argv)
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="pacific-spark-cluster-"))
    # SIGTERM unwinds like Ctrl-C, so the with-block stops the JVMs (their own sessions)
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    with StandaloneCluster(workdir, args.workers, args.cores, args.memory) as cluster:
        print(f"Spark standalone cluster {cluster.url}, web UI http://{HOST}:{cluster.webui_port}")
        print(f"logs: {workdir / 'logs'}; pids: {cluster.pids}; Ctrl-C stops it. Export:")
        for key, value in cluster.driver_env().items():
            print(f"  export {key}={value}")
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
