"""A day in production on the stack of ``make stack`` (issue #27, docs/deployment.md).

One stack for the module, started with the tool itself (``python -m stack``) on free ports of
127.0.0.1, in a temporary folder: PostgreSQL (the instance), Tansu (the ``clicks`` topic), a Spark
standalone master and one worker (the tool's default is two; one executor is enough to prove the
work ran on the cluster, and spares two JVM starts), the code server, ``dagster-webserver`` and
``dagster-daemon``. The small test company starts on the 1st of the previous month (a closed
month for the investor rollup) and runs to yesterday, so the daemon works on the wall clock. The
simulator records the grids' first day in the data root before any Dagster process starts; every
process reads it from there (nothing passes a start date). The lake is built once, in one shot
(``demo.materialize_all``: a range run per wave, local Spark) — what the tests read and everything
upstream of it — by a separate process writing the same Postgres instance before the code server,
webserver and daemon start. Before the daemon starts, every schedule and sensor but the clicks
pipeline's two sensors is stopped through GraphQL (as test_ui_e2e does): the other pipelines'
keepers and the wall-clock schedules are not what this module proves, and would tie its runs and
its timing to the hour it runs at.

Nothing is mocked; the clicks sensors evaluate every 5 s (``PACIFIC_CLICKS_SENSOR_SECONDS``) and
run monitoring polls every 5 s. Faults are injected through a one-shot fault file
(``PACIFIC_FAULT_INJECT_FILE``), the only way into a long-running code server's runs. The tests
run in file order and share the stack's state. The investor rollup's backfill is launched as the
services come up and its run finishes before the first test, while the lake still equals the
local build it is compared with; it is checked last.

Under CI a missing PostgreSQL fails the module (``.ci/run`` installs it); elsewhere it skips. A
watchdog process stops the stack if pytest itself is killed before its teardown runs.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import resource
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
import psutil
import pytest

from pacific_assets.engagement.landing import ClickLanding
from pacific_assets.orchestration.dagster_compat import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
)
from pacific_assets.storage.lake import PART_FILE, Lake
from pacific_assets_tests.processes import REPO, Server, free_port, stop_instigators
from pacific_tools.simulate import simulate
from pacific_tools.simulate.kafka import ClickMessage, produce
from stack.services import Settings, Stack, StackError, alive, postgres_bin

#: The module fixture builds a company and starts services: minutes on 2 busy cores, so the
#: hang guard is wider than the suite's 600 s (it covers the fixture's setup too).
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1500)]

PY = sys.executable
ENGAGEMENT = ["stg_clicks", "user_engagement_daily", "engagement_completeness", "engagement_hours"]
CLICKS_SENSORS = ("clicks_ingest_sensor", "clicks_late_data_sensor")
ACTIVE = ("QUEUED", "NOT_STARTED", "STARTING", "STARTED", "CANCELING")
#: The runtime limit of the run the host-loss test orphans (a run tag: every other run keeps the
#: instance's limit, stack/dagster.yaml, so no slow run on a loaded machine is failed by it).
ORPHAN_MAX_RUNTIME = 20
SETTLE_TIMEOUT = 240

#: What the tests read, with everything upstream; the rest of the graph (the experiments, the
#: weekly Spark pack, the catalog) has no running sensor here and is left unbuilt.
BUILT = ("investor_rollup", "engagement_hours_by_team", "engagement_hours")

BUILD = """
import sys
import dagster as dg
from pacific_assets.definitions import defs
from pacific_tools.demo import materialize_all
graph = defs.resolve_asset_graph()
keys = {dg.AssetKey(t) for t in sys.argv[1:]}
todo = list(keys)
while todo:
    for parent in graph.get(todo.pop()).parent_keys:
        if parent not in keys and graph.has(parent) and graph.get(parent).is_materializable:
            keys.add(parent)
            todo.append(parent)
with dg.DagsterInstance.get() as instance:
    runs = materialize_all(defs, instance, quiet=True, keys=keys)
    bad = [r for r in runs if not r["ok"]]
    assert not bad, bad
print("built", len(keys), "assets in", len(runs), "runs")
"""

#: Stops the stack when the pytest process (argv[1]) dies without its teardown (SIGKILL, OOM):
#: the stack's processes run in sessions of their own and would outlive it. Exits quietly when
#: the stack folder (argv[2]) is gone: the teardown ran.
WATCHDOG = """
import os, shutil, sys, time
import psutil
pid, folder = int(sys.argv[1]), sys.argv[2]
born = psutil.Process(pid).create_time()
while os.path.isdir(folder):
    try:
        if psutil.Process(pid).create_time() != born:
            break
    except psutil.NoSuchProcess:
        break
    time.sleep(2)
else:
    sys.exit(0)
from stack.services import Stack
print(Stack(say=print).down(), flush=True)
shutil.rmtree(folder, ignore_errors=True)
"""


#: The note a rollup run appends to an input's reason when it reads that input's failed checks.
FAILED_CHECKS_NOTE = r"; failed checks: .*?( \| |$)"

BACKFILL = """
mutation($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
  }
}
"""


def _launch_backfill(server: Server, month: str) -> str:
    launched = server.gql(
        BACKFILL,
        {
            "params": {
                "partitionsByAssets": [
                    {
                        "assetKey": {"path": ["investor_rollup"]},
                        "partitions": {"range": {"start": month, "end": month}},
                    }
                ],
                "title": "e2e: investor rollup on the standalone cluster",
            }
        },
    )["launchPartitionBackfill"]
    assert launched["__typename"] == "LaunchBackfillSuccess", launched
    return launched["backfillId"]


def _postgres_or_skip() -> None:
    try:
        postgres_bin("initdb")
        postgres_bin("postgres")
    except StackError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"{exc} (under CI: .ci/run installs it)")
        pytest.skip(str(exc))


@dataclass
class Prod:
    stack: Stack
    server: Server
    env: dict[str, str]
    lake: Lake
    today: dt.date
    start: dt.date
    fault_file: Path
    built_rollup: pl.DataFrame
    backfill: str = ""

    def tool(self, *args: str, extra_env: dict[str, str] | None = None) -> str:
        done = subprocess.run(
            [PY, "-m", "stack", *args],
            cwd=REPO,
            env={**self.env, **(extra_env or {})},
            capture_output=True,
            text=True,
            timeout=400,
            check=False,
        )
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        self.stack = Stack(self.stack.s, say=lambda _m: None, env=self.env)  # re-read its state
        return done.stdout

    def sql(self, query: str, params: tuple = ()) -> list[tuple]:
        with (
            contextlib.closing(self.stack._pg_connect(self.stack.s.pg_db)) as con,
            con.cursor() as cur,
        ):
            cur.execute(query, params)
            return cur.fetchall()

    def runs(self) -> list[tuple[str, str, float]]:
        """(run_id, status, update time) of every run, oldest first."""
        rows = self.sql(
            "select run_id, status, extract(epoch from update_timestamp) from runs "
            "order by create_timestamp"
        )
        return [(r[0], r[1], float(r[2])) for r in rows]

    def status(self, run_id: str) -> str:
        [(status,)] = self.sql("select status from runs where run_id = %s", (run_id,))
        return status

    def run_tags(self, run_id: str) -> dict[str, str]:
        return dict(self.sql("select key, value from run_tags where run_id = %s", (run_id,)))

    def triggered_by(self, trigger: str, after: float) -> list[tuple[str, str]]:
        """(run_id, status) of the runs ``trigger`` launched whose state changed after ``after``."""
        return [
            (r, s)
            for r, s, t in self.runs()
            if t > after and self.run_tags(r).get("pacific/trigger") == trigger
        ]

    def logs(self) -> str:
        return self.server.log_tail(25)

    def last_tick(self, sensor: str) -> dict | None:
        data = self.server.gql(
            """query($s: SensorSelector!) { sensorOrError(sensorSelector: $s) {
                 ... on Sensor { sensorState { ticks(limit: 1) { status timestamp } } }
               } }""",
            {
                "s": {
                    "repositoryLocationName": "pacific_assets",
                    "repositoryName": "__repository__",
                    "sensorName": sensor,
                }
            },
        )
        ticks = data["sensorOrError"]["sensorState"]["ticks"]
        return ticks[0] if ticks else None

    def settle(self, after: float, timeout: float = SETTLE_TIMEOUT) -> None:
        """Until no run is active and both clicks sensors skipped after the last run ended."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            runs = self.runs()
            if not any(status in ACTIVE for _r, status, _t in runs):
                last = max([after, *(t for _r, _s, t in runs)])
                ticks = [self.last_tick(s) for s in CLICKS_SENSORS]
                if all(t and t["status"] == "SKIPPED" and t["timestamp"] > last + 1 for t in ticks):
                    return
            time.sleep(2)
        pytest.fail(f"the stack did not settle in {timeout} s: {self.runs()[-8:]}\n{self.logs()}")

    def links(self, table: str) -> dict[str, str]:
        folder = self.lake.table_dir(table)
        return {
            p.name.split("=", 1)[1]: os.readlink(p) for p in folder.glob("*=*") if p.is_symlink()
        }

    def run_report(self) -> str:
        """One line per run: status, seconds, trigger, assets (printed at teardown)."""
        rows = self.sql(
            "select r.run_id, r.status, coalesce(r.end_time - r.start_time, 0), "
            "coalesce(t.value, '-') from runs r left join run_tags t "
            "on t.run_id = r.run_id and t.key = 'pacific/trigger' order by r.create_timestamp"
        )
        return "\n".join(f"  {r[0][:8]} {r[1]:<8} {r[2]:6.1f} s  {r[3]}" for r in rows)


def _cpu_seconds(stack: Stack) -> float:
    """CPU seconds of this process, its reaped children and the stack's live process trees
    (what a killed service had used is lost: a lower bound)."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        use = resource.getrusage(who)
        total += use.ru_utime + use.ru_stime
    for rec in stack.state["parts"].values():
        with contextlib.suppress(psutil.Error):
            if not alive(rec):
                continue
            root = psutil.Process(rec["pid"])
            for proc in [root, *root.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    t = proc.cpu_times()
                    total += t.user + t.system + t.children_user + t.children_system
    return total


@pytest.fixture(scope="module")
def prod(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prod]:
    _postgres_or_skip()
    base = tmp_path_factory.mktemp("stack_e2e")
    t0 = time.monotonic()

    def lap(what: str) -> None:
        print(f"[stack e2e] {what}: {time.monotonic() - t0:.1f} s", flush=True)

    today = dt.datetime.now(dt.UTC).date()
    start = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    data_root = base / "data"
    # records the grids' first day (data_root/grids.json) before any Dagster process starts
    simulate(data_root, profile="test", seed=7, start=start, end=today)
    fault_file = base / "fault"
    # The stack's folder outside pytest's (mode 700): as root, Postgres runs as its own user.
    stack_dir = Path(tempfile.mkdtemp(prefix="pacific-stack-e2e-"))
    stack_dir.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DAGSTER_", "PACIFIC_"))}
    env.update(
        PACIFIC_STACK_DIR=str(stack_dir),
        PACIFIC_DATA_ROOT=str(data_root),
        PACIFIC_PG_PASSWORD=secrets.token_urlsafe(16),  # a test-local password, never stored
        PACIFIC_PG_PORT=str(free_port()),
        PACIFIC_STACK_KAFKA_PORT=str(free_port()),
        PACIFIC_STACK_SPARK_PORT=str(free_port()),
        PACIFIC_STACK_SPARK_UI_PORT=str(free_port()),
        PACIFIC_STACK_SPARK_WORKERS="1",
        PACIFIC_STACK_GRPC_PORT=str(free_port()),
        PACIFIC_STACK_WEBSERVER_PORT=str(free_port()),
        PACIFIC_STACK_RUN_MONITOR_SECONDS="5",
        PACIFIC_CLICKS_SENSOR_SECONDS="5",
        PACIFIC_FAULT_INJECT_FILE=str(fault_file),
        PACIFIC_DUCKDB_MEMORY_LIMIT="1GB",
        PYTHONUNBUFFERED="1",
    )
    settings = Settings.from_env(env)
    stack = Stack(settings, say=lambda _m: None, env=env)
    watchdog = subprocess.Popen(
        [PY, "-c", WATCHDOG, str(os.getpid()), str(stack_dir)],
        cwd=REPO,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # survives a kill of pytest's process group
    )
    server = Server(settings.webserver_url, data_root, settings.dagster_home, settings.logs)
    p = Prod(stack, server, env, Lake(data_root), today, start, fault_file, pl.DataFrame())
    try:
        p.tool("up", "--parts", "postgres,kafka,spark")
        lap("postgres, kafka, spark up")
        # The lake in one shot, by another process writing the same instance (local Spark).
        build_env = {
            **env,
            **p.stack.dagster_env(),
            "PACIFIC_SPARK_MASTER": "local[2]",
            # one "planned" event per asset and run, as make demo does (pacific_tools.demo)
            "DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS": "1",
        }
        build_env.pop("PACIFIC_FAULT_INJECT_FILE")
        done = subprocess.run(
            [PY, "-c", BUILD, *BUILT],
            cwd=REPO,
            env=build_env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
        lap(done.stdout.strip().splitlines()[-1])
        p.built_rollup = p.lake.read("investor_rollup", [start.isoformat()])
        assert p.built_rollup.height > 0
        p.tool("up", "--parts", "code-server,webserver")
        _, stopped = stop_instigators(server, CLICKS_SENSORS)
        # the closed month's rollup, backfilled through the webserver on the cluster: launched
        # before the daemon starts, so its first backfill iteration picks it up
        p.backfill = _launch_backfill(server, start.isoformat())
        p.tool("up", "--parts", "daemon")
        lap(f"code server, webserver, daemon up ({len(stopped)} instigators stopped)")
        deadline = time.monotonic() + 120
        while not p.sql("select 1 from runs where backfill_id = %s", (p.backfill,)):
            assert time.monotonic() < deadline, f"the backfill launched no run\n{p.logs()}"
            time.sleep(1)
        p.settle(time.time() - 60)  # the backfill's run included
        lap("settled (the backfill's run finished)")
        yield p
    finally:
        with contextlib.suppress(Exception):
            print(f"[stack e2e] runs:\n{p.run_report()}")
        with contextlib.suppress(Exception):
            print(f"[stack e2e] CPU seconds (lower bound): {_cpu_seconds(p.stack):.0f}")
        with contextlib.suppress(OSError):  # the logs stay with pytest's temporary folders
            shutil.copytree(settings.logs, base / "stack-logs")
        out = subprocess.run(
            [PY, "-m", "stack", "down"], cwd=REPO, env=env, capture_output=True, text=True
        )
        print(out.stdout, out.stderr[-2000:])
        left = [
            r
            for r in Stack(settings, say=lambda _m: None, env=env).state["parts"].values()
            if alive(r)
        ]
        shutil.rmtree(stack_dir, ignore_errors=True)
        watchdog.kill()
        watchdog.wait(10)
        lap("stack down")
        assert not left, f"still running after stack down: {left}"


# -- what the test produces and an independent recomputation ---------------------------------------
def _click(event_id: str, user: str, account: str, ts: dt.datetime) -> dict:
    stamp = ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"
    return {
        "event_id": event_id,
        "user_id": user,
        "account_id": account,
        "event_ts": stamp,
        "sent_at": stamp,
        "page": "dashboard",
        "action": "view",
    }


def _landed_clicks(lake: Lake) -> pl.DataFrame:
    """Every valid landed click line: event_id, user, account, event time, batch."""
    rows = []
    for entry in ClickLanding(lake.landing).manifest():
        path = lake.landing / entry.relative_path
        for line in path.read_text().splitlines():
            with contextlib.suppress(ValueError, KeyError, TypeError):
                r = json.loads(line)
                ts = dt.datetime.fromisoformat(r["event_ts"].replace("Z", "+00:00"))
                rows.append((r["event_id"], r["user_id"], r["account_id"], ts, entry.batch))
    return pl.DataFrame(
        rows,
        schema={
            "event_id": pl.String,
            "user_id": pl.String,
            "account_id": pl.String,
            "ts": pl.Datetime("us", "UTC"),
            "batch": pl.String,
        },
        orient="row",
    )


def _users(lake: Lake, n: int, seed: int) -> list[tuple[str, str]]:
    pairs = _landed_clicks(lake).select("user_id", "account_id").unique().sort("user_id").rows()
    rng = np.random.default_rng(seed)
    return [pairs[i] for i in sorted(rng.choice(len(pairs), size=n, replace=False))]


def _recompute(lake: Lake, last_day: dt.date) -> pl.DataFrame:
    """Per account and day, from the landed lines alone (docs/semantic-contract.md): clicks
    de-duplicated by event_id within their day, sessions end after 30 idle minutes and at
    midnight, hours = Σ (last - first) per session."""
    clicks = (
        _landed_clicks(lake)
        .with_columns(pl.col("ts").dt.date().alias("date"))
        .filter(pl.col("date") <= last_day)
        .unique(["date", "event_id"], keep="any")
        .sort(["date", "user_id", "ts"])
    )
    gap = pl.col("ts").diff().over(["date", "user_id"])
    sessions = (
        clicks.with_columns((gap.is_null() | (gap > pl.duration(minutes=30))).cum_sum().alias("s"))
        .group_by(["date", "account_id", "user_id", "s"])
        .agg(pl.len().alias("n"), (pl.col("ts").max() - pl.col("ts").min()).alias("d"))
    )
    return (
        sessions.group_by(["date", "account_id"])
        .agg(
            pl.col("n").sum().cast(pl.Int64).alias("events"),
            pl.len().cast(pl.Int64).alias("sessions"),
            pl.col("user_id").n_unique().cast(pl.Int64).alias("active_users"),
            (pl.col("d").dt.total_microseconds().sum() / 3.6e9).alias("total_hours"),
        )
        .sort(["date", "account_id"])
    )


def _assert_figures_equal(p: Prod) -> None:
    yesterday = p.today - dt.timedelta(days=1)
    expected = _recompute(p.lake, yesterday)
    got = (
        p.lake.read("engagement_hours")
        .filter(pl.col("events") > 0)
        .select("date", "account_id", "events", "sessions", "active_users", "total_hours")
        .sort(["date", "account_id"])
    )
    assert got.select("date", "account_id", "events", "sessions", "active_users").equals(
        expected.select("date", "account_id", "events", "sessions", "active_users")
    ), "engagement_hours differs from the recomputation from landed clicks"
    assert np.allclose(got["total_hours"].to_numpy(), expected["total_hours"].to_numpy(), atol=1e-9)


def _changed(before: dict[str, str], after: dict[str, str]) -> set[str]:
    return {k for k, v in after.items() if before.get(k) != v}


def _differing_columns(a: pl.DataFrame, b: pl.DataFrame, key: list[str]) -> dict[str, tuple]:
    """Column -> (a's values, b's values) where two frames of the same rows differ: floats to
    1e-9 relative (Spark sums doubles in partition order, which a cluster changes), the rest
    exactly."""
    a, b = a.sort(key), b.sort(key)
    assert a.select(key).equals(b.select(key)), "not the same rows"
    out = {}
    for col in a.columns:
        x, y = a[col], b[col]
        if x.dtype.is_float() and y.dtype.is_float():
            same = x.is_null().equals(y.is_null()) and np.allclose(
                x.drop_nulls().to_numpy(), y.drop_nulls().to_numpy(), rtol=1e-9, atol=1e-9
            )
        else:
            same = x.equals(y)
        if not same:
            out[col] = (x.to_list(), y.to_list())
    return out


# -- the tests ------------------------------------------------------------------------------------
def test_a_day_of_clicks_through_the_broker_rebuilds_exactly_what_it_touched(prod: Prod) -> None:
    p = prod
    now = dt.datetime.now(dt.UTC)
    # three adjacent days: the keeper rebuilds each layer in one range run
    d1, d2, d3 = (p.today - dt.timedelta(days=n) for n in (5, 6, 7))
    users = _users(p.lake, 12, seed=27)
    before = {t: p.links(t) for t in ENGAGEMENT}
    users_d3_before = p.lake.read("user_engagement_daily", [d3.isoformat()])
    landed = _landed_clicks(p.lake)
    rng = np.random.default_rng(27)
    records = []
    for i in range(40):  # today's clicks, in the last hour
        u, a = users[i % len(users)]
        records.append(_click(f"E2E-TODAY-{i:03d}", u, a, now - dt.timedelta(seconds=60 + 80 * i)))
    for day in (d1, d2):  # late clicks for two older dates
        for i in range(25):
            u, a = users[(i * 5) % len(users)]
            at = dt.datetime.combine(day, dt.time(9), dt.UTC) + dt.timedelta(
                seconds=int(rng.integers(0, 8 * 3600))
            )
            records.append(_click(f"E2E-LATE-{day:%m%d}-{i:03d}", u, a, at))
    resent = records[40:45]  # re-sent copies of late clicks, within the topic
    old = landed.filter(pl.col("ts").dt.date() == d3).head(10)  # re-sent copies of landed clicks
    dups = [
        _click(r["event_id"], r["user_id"], r["account_id"], r["ts"])
        for r in old.iter_rows(named=True)
    ]
    assert len(dups) == 10
    messages = [
        ClickMessage(r["user_id"], json.dumps(r).encode()) for r in [*records, *resent, *dups]
    ]
    started = time.time()
    produced = produce(p.stack.s.kafka_bootstrap, p.stack.s.kafka_topic, messages)
    assert produced == len(messages) == 105
    p.settle(started)

    # Drained by the ingestion sensor through the consumer: every message landed once.
    after = _landed_clicks(p.lake)
    new = after.filter(~pl.col("batch").is_in(landed["batch"].unique().implode()))
    assert new.height == produced
    kafka_runs = [
        r
        for r, status, t in p.runs()
        if t > started and p.run_tags(r).get("pacific/trigger") == "clicks_ingest_sensor"
    ]
    assert kafka_runs, "clicks_ingest_sensor launched no drain"

    # The keeper rebuilt exactly the days the late and re-sent clicks belong to; today waits.
    rebuilt = {t: _changed(before[t], p.links(t)) for t in ENGAGEMENT}
    days = {d.isoformat() for d in (d1, d2, d3)}
    assert rebuilt["stg_clicks"] == days, rebuilt
    # the day of the re-sent copies is rebuilt in the same run as its clicks, to the same rows
    assert rebuilt["user_engagement_daily"] == days, rebuilt
    users_d3 = p.lake.read("user_engagement_daily", [d3.isoformat()])
    assert users_d3.sort(users_d3.columns).equals(users_d3_before.sort(users_d3.columns))
    weekdays = {(d + dt.timedelta(weeks=k)).isoformat() for d in (d1, d2, d3) for k in range(5)}
    assert {d1.isoformat(), d2.isoformat()} <= rebuilt["engagement_completeness"] <= weekdays
    # hours only where a user table or a verdict changed content: never for the copies' day
    assert {d1.isoformat(), d2.isoformat()} <= rebuilt["engagement_hours"] <= weekdays
    assert d3.isoformat() not in rebuilt["engagement_hours"], rebuilt
    assert p.today.isoformat() not in p.links("stg_clicks")
    _assert_figures_equal(p)


def test_a_consumer_killed_between_landing_and_commit_loses_and_doubles_nothing(prod: Prod) -> None:
    p = prod
    d4 = p.today - dt.timedelta(days=10)
    users = _users(p.lake, 6, seed=28)
    records = [
        _click(
            f"E2E-CRASH-{i:03d}",
            *users[i % len(users)],
            dt.datetime.combine(d4, dt.time(10), dt.UTC) + dt.timedelta(minutes=7 * i),
        )
        for i in range(30)
    ]
    landed_before = _landed_clicks(p.lake)
    p.fault_file.with_suffix(".fired").unlink(missing_ok=True)
    p.fault_file.write_text("clicks_before_commit")
    started = time.time()
    produce(
        p.stack.s.kafka_bootstrap,
        p.stack.s.kafka_topic,
        [ClickMessage(r["user_id"], json.dumps(r).encode()) for r in records],
    )
    p.settle(started)
    assert Path(f"{p.fault_file}.fired").exists(), "the fault point was never reached"

    drains = [
        (r, status)
        for r, status, t in p.runs()
        if t > started and p.run_tags(r).get("pacific/trigger") == "clicks_ingest_sensor"
    ]
    statuses = [s for _r, s in drains]
    assert statuses.count("FAILURE") == 1 and statuses[-1] == "SUCCESS", drains
    [failed] = [r for r, s in drains if s == "FAILURE"]
    crash = p.sql(  # the code server's word for a run worker that died (dagster._grpc.server)
        "select event from event_logs where run_id = %s and event like %s",
        (failed, "%terminated by signal 9 (SIGKILL)%"),
    )
    assert crash, "the failed drain did not die by SIGKILL"

    # At least once in the landing zone (the killed batch landed twice) ...
    after = _landed_clicks(p.lake)
    new = after.join(landed_before.select("batch").unique(), on="batch", how="anti")
    assert new.height == 2 * len(records)
    assert new["event_id"].n_unique() == len(records)
    # ... offsets committed to the end, and exactly once in the figures.
    from pacific_assets.engagement.ingest import ClicksKafkaResource, kafka_backlog

    config = ClicksKafkaResource(bootstrap_servers=p.stack.s.kafka_bootstrap)
    assert all(b == h for b, h in kafka_backlog(config).values())
    _assert_figures_equal(p)
    hours = p.lake.read("engagement_hours", [d4.isoformat()])
    assert (
        hours["events"].sum() == _recompute(p.lake, d4).filter(pl.col("date") == d4)["events"].sum()
    )


LAUNCH = """
mutation($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
  }
}
"""


def _kill(procs: list[psutil.Process]) -> None:
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            proc.send_signal(signal.SIGKILL)
    psutil.wait_procs(procs, timeout=20)


def test_a_host_loss_mid_write_leaves_no_half_partition_and_the_keeper_finishes(prod: Prod) -> None:
    """An operator's range run over three lost days executes when the daemon dies; paused
    between a durable partition file and its symlink swap, the code server (with the run worker
    under it) dies too, all by SIGKILL; both are started again. Run monitoring fails the orphaned
    run (the default launcher cannot ask a dead code server about its workers: the run's runtime
    limit does), and the keeper requests the partitions the run did not finish, which come back
    equal to the lost ones."""
    p = prod
    days = [(p.today - dt.timedelta(days=n)).isoformat() for n in (20, 19, 18)]
    tables = ["user_engagement_daily", "engagement_hours", "engagement_hours_by_team"]
    before = {t: p.lake.read(t, days).sort(p.lake.read(t, days).columns) for t in tables}
    p.fault_file.with_suffix(".fired").unlink(missing_ok=True)
    p.fault_file.write_text("pause_after_tmp_write engagement_hours")
    started = time.time()
    tags = {
        ASSET_PARTITION_RANGE_START_TAG: days[0],
        ASSET_PARTITION_RANGE_END_TAG: days[-1],
        "dagster/max_runtime": str(ORPHAN_MAX_RUNTIME),
        "pacific/trigger": "operator",
    }
    launched = p.server.gql(
        LAUNCH,
        {
            "params": {
                "selector": {
                    "repositoryLocationName": "pacific_assets",
                    "repositoryName": "__repository__",
                    "jobName": "__ASSET_JOB",
                    "assetSelection": [{"path": [t]} for t in tables],
                },
                "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in tags.items()]},
            }
        },
    )["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    run_id = launched["run"]["runId"]
    # The days are lost while the run waits in the queue (a worker needs seconds to start, so
    # it has written nothing yet); the keeper sees them in progress, not missing.
    assert p.status(run_id) in ("QUEUED", "NOT_STARTED", "STARTING"), p.status(run_id)
    for t in tables:
        for d in days:
            p.lake.partition_link(t, "date", d).unlink()
    deadline = time.monotonic() + 180
    while p.status(run_id) != "STARTED":  # dequeued and launched by the daemon
        assert time.monotonic() < deadline, f"the run never started\n{p.logs()}"
        time.sleep(0.5)

    # The host dies in two steps: the daemon while the run executes (no run monitoring from here
    # on), then, once the run is paused mid-write, the code server and its run worker.
    daemon = psutil.Process(p.stack.pid("daemon"))
    victims = [daemon, *daemon.children(recursive=True)]
    _kill(victims)
    while not Path(f"{p.fault_file}.fired").exists():
        assert time.monotonic() < deadline, f"no write reached the fault point\n{p.logs()}"
        time.sleep(0.5)
    assert p.status(run_id) == "STARTED"
    assert set(days) <= set(p.links("user_engagement_daily")), "the run wrote its first asset"
    assert not set(days) & set(p.links("engagement_hours")), "paused before the hours went live"
    code_server = psutil.Process(p.stack.pid("code-server"))
    workers = code_server.children(recursive=True)
    assert workers, "no run worker under the code server"
    victims += [code_server, *workers]
    _kill([code_server, *workers])
    assert not [v for v in victims if v.is_running() and v.status() != psutil.STATUS_ZOMBIE]
    assert p.status(run_id) == "STARTED"  # orphaned: nothing alive knows it
    # Half written = this run's durable version file, not live: readers never see the day.
    versions = p.lake.table_dir("engagement_hours") / "_versions"
    written = [
        v
        for d in days
        for v in versions.glob(f"date={d}.*")
        if int(v.name.rsplit(".", 1)[1].split("-")[0]) > started * 1e9
    ]
    assert written and all((v / PART_FILE).exists() for v in written), written
    assert not set(days) & set(p.lake.partition_keys("engagement_hours"))

    p.tool("up")  # starts what is not running: the code server and the daemon
    deadline = time.monotonic() + ORPHAN_MAX_RUNTIME + 120
    while p.status(run_id) != "FAILURE":
        assert time.monotonic() < deadline, f"run monitoring never failed {run_id}\n{p.logs()}"
        time.sleep(2)
    marked = p.sql(
        "select event from event_logs where run_id = %s and (event like %s or event like %s)",
        (run_id, "%maximum runtime%", "%forcibly marked as failed%"),
    )
    assert marked, "the run was failed, but not by run monitoring"
    p.settle(time.time())
    again = p.triggered_by("clicks_late_data_sensor", started)
    assert again and all(s == "SUCCESS" for _r, s in again), again
    for t in tables:
        assert set(days) <= set(p.links(t)), t
        got = p.lake.read(t, days)
        assert got.sort(got.columns).equals(before[t]), f"{t} differs after the rebuild"
    _assert_figures_equal(p)


def test_a_backfill_through_graphql_runs_the_rollup_on_the_cluster_into_postgres(
    prod: Prod,
) -> None:
    """The month's backfill an operator launched through the webserver as the services came up
    (the fixture: before the daemon's first backfill iteration, which picks it up at once; its
    run finished before the first test). Checked last: no test rebuilds investor_rollup (its
    catch-up sensor is stopped), and the backfill daemon has long marked it done."""
    p = prod
    month = p.start.isoformat()
    backfill = p.backfill
    deadline = time.monotonic() + 300
    status = None
    while time.monotonic() < deadline:
        [(status,)] = p.sql("select status from bulk_actions where key = %s", (backfill,))
        if status not in ("REQUESTED", "CANCELING"):
            break
        time.sleep(3)
    assert status == "COMPLETED_SUCCESS", f"{status}\n{p.logs()}"
    runs = p.sql("select run_id, status from runs where backfill_id = %s", (backfill,))
    assert runs and all(s == "SUCCESS" for _r, s in runs), runs
    [(materialized,)] = p.sql(
        "select count(*) from event_logs where run_id = any(%s) "
        "and dagster_event_type = 'ASSET_MATERIALIZATION' and asset_key like %s",
        ([r for r, _s in runs], '%"investor_rollup"%'),
    )
    assert materialized >= 1

    # The executors on the standalone workers did the work ...
    master = f"http://{p.stack.s.host}:{p.stack.s.spark_ui_port}/json/"
    with urllib.request.urlopen(master, timeout=10) as response:
        state = json.load(response)
    apps = [a["id"] for a in state.get("completedapps", []) + state.get("activeapps", [])]
    assert apps, "no application ran on the standalone master"
    spark = p.stack.s.root / "spark"
    tasks = sum(
        f.read_text(errors="replace").count("Running task")
        for app in apps
        for f in spark.glob(f"worker*/{app}/*/stderr")
    )
    assert tasks > 0
    # ... and the month equals the local[*] build.
    # The in-process build cannot see the check results of assets outside its run's selection
    # (investor/assets.py ``_facts``: a run without a repository reads its job's asset graph), so
    # its incomplete_reason lacks the "; failed checks: ..." notes a daemon-launched run adds;
    # without them the text is the same.
    cluster, local = (
        frame.with_columns(pl.col("incomplete_reason").str.replace_all(FAILED_CHECKS_NOTE, "${1}"))
        for frame in (p.lake.read("investor_rollup", [month]), p.built_rollup)
    )
    assert cluster.columns == local.columns
    differs = _differing_columns(cluster, local, key=["month_start", "segment"])
    assert not differs, f"the cluster's month differs from the local[*] build: {differs}"
