"""The replay loop: land what is due, tick Dagster's daemons, jump to the next event.

Runs in a process of its own (``python -m pacific_tools.replay``): the code location reads its
data root from ``PACIFIC_DATA_ROOT`` when it is imported, and the replay's instance is its own
``DAGSTER_HOME``, so both are set before anything of the project is imported.
"""

from __future__ import annotations

import bisect
import datetime as dt
import json
import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MODULE = "pacific_assets.definitions"
#: After runs, look again when the 1-2 minute sensors are due; a sensor with a longer interval
#: is looked at when it is next due (``_follow_ups``).
FOLLOW_UP = dt.timedelta(minutes=2)


@dataclass
class ReplayConfig:
    root: Path
    report_dir: Path
    profile: str = "replay"
    days: int = 35
    seed: int = 7
    start: dt.date = dt.date(2025, 9, 1)
    #: keep going after the last simulated day until its data landed and its schedules ran
    tail: dt.timedelta = dt.timedelta(days=1, hours=8)
    every_minutes: int | None = None
    recompute: bool = True
    #: stop before this instant (tests replay a slice); None: the whole horizon + tail
    until: dt.datetime | None = None
    #: skip simulating and releasing up to this instant: the lake is recomputed in one shot
    #: there first (a replay that starts from an existing lake)
    warm_until: dt.datetime | None = None

    @property
    def source(self) -> Path:
        return self.root / "source"

    @property
    def live(self) -> Path:
        return self.root / "live"

    @property
    def home(self) -> Path:
        return self.root / "dagster_home"

    @property
    def recompute_root(self) -> Path:
        return self.root / "recompute"

    @property
    def recompute_home(self) -> Path:
        return self.root / "recompute_home"

    @property
    def end(self) -> dt.datetime:
        end = dt.datetime.combine(self.start, dt.time(), dt.UTC) + dt.timedelta(days=self.days)
        return self.until or end + self.tail


# -- events -------------------------------------------------------------------------------------
class Events:
    """Every instant at which a decision can change, between ``start`` and ``end``."""

    def __init__(self, start: dt.datetime, end: dt.datetime):
        self.start, self.end = start, end
        self._times: list[dt.datetime] = []

    def add(self, t: dt.datetime | None, label: str = "") -> None:
        if t is not None and self.start <= t <= self.end:
            bisect.insort(self._times, t)

    def add_cron(self, cron: str, offset: dt.timedelta = dt.timedelta()) -> None:
        from pacific_assets.orchestration.dagster_compat import next_cron_tick

        t = self.start
        while True:
            t = next_cron_tick(cron, t + dt.timedelta(seconds=1), "UTC")
            if t > self.end:
                return
            self.add(t + offset)

    def next_after(self, now: dt.datetime) -> dt.datetime | None:
        i = bisect.bisect_right(self._times, now)
        return self._times[i] if i < len(self._times) else None

    def __len__(self) -> int:
        return len(self._times)


def static_events(cfg: ReplayConfig, defs, schedule_rows, start: dt.datetime) -> Events:
    """Landings, cron ticks (and due + sensor grace), freshness and SLA deadlines, midnights."""
    from pacific_assets.operations.checks import due_times, sla_targets
    from pacific_assets.orchestration.automation import DUE_CRON_KEY, SENSOR_GRACE
    from pacific_assets.orchestration.dagster_compat import (
        CronFreshnessPolicy,
        TimeWindowFreshnessPolicy,
    )

    events = Events(start, cfg.end)
    for landed in schedule_rows:
        events.add(landed)
    for schedule in defs.get_repository_def().schedule_defs:
        cron = schedule.cron_schedule
        for c in [cron] if isinstance(cron, str) else cron:
            events.add_cron(c)
            if (schedule.metadata or {}).get(DUE_CRON_KEY) is not None:
                events.add_cron(c, SENSOR_GRACE + dt.timedelta(seconds=30))
    events.add_cron("0 0 * * *")
    graph = defs.resolve_asset_graph()
    for node in graph.asset_nodes:
        policy = node.freshness_policy
        if isinstance(policy, CronFreshnessPolicy):
            events.add_cron(policy.deadline_cron)
    for target in sla_targets(graph):
        for key in target.partitions_def.get_partition_keys(current_time=cfg.end):
            window = target.partitions_def.time_window_for_partition_key(key)
            for t in due_times(
                target.freshness, window.end, target.period, target.warn_after_period_end
            ):
                events.add(t)
        if isinstance(target.freshness, TimeWindowFreshnessPolicy):
            pass  # windows after materializations: added as they happen (Replay.follow_ups)
    return events


# -- the replay -----------------------------------------------------------------------------------
@dataclass
class Tick:
    at: dt.datetime
    released: int
    runs: int
    seconds: float


@dataclass
class ReplayLog:
    ticks: list[Tick] = field(default_factory=list)
    landings: list[dict] = field(default_factory=list)
    freshness: list[dict] = field(default_factory=list)  # state changes observed per asset


def _setup_env(cfg: ReplayConfig) -> None:
    os.environ["PACIFIC_DATA_ROOT"] = str(cfg.live)
    os.environ["DAGSTER_HOME"] = str(cfg.home)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")


def prepare(cfg: ReplayConfig, say: Callable[[str], None]) -> None:
    """Simulate the company into ``source/`` (reused when it is the same), empty the rest."""
    from pacific_assets.orchestration.data_root import record_first_day
    from pacific_tools.simulate import simulate

    stamp = cfg.source / "replay.json"
    wanted = {"profile": cfg.profile, "days": cfg.days, "seed": cfg.seed, "start": str(cfg.start)}
    if not stamp.exists() or json.loads(stamp.read_text()) != wanted:
        say(f"simulating the '{cfg.profile}' company, {cfg.days} days from {cfg.start} ...")
        if cfg.source.exists():
            shutil.rmtree(cfg.source)
        simulate(cfg.source, profile=cfg.profile, seed=cfg.seed, days=cfg.days, start=cfg.start)
        stamp.write_text(json.dumps(wanted))
    for path in (cfg.live, cfg.home, cfg.recompute_root, cfg.recompute_home):
        if path.exists():
            shutil.rmtree(path)
    cfg.live.mkdir(parents=True)
    cfg.home.mkdir(parents=True)
    # the live data root's grids start with the company, before any of its files has landed
    record_first_day(cfg.live, cfg.start, by="replay")


def run(cfg: ReplayConfig, say: Callable[[str], None] = print, progress: bool = True) -> dict:
    """The whole replay in this process; returns the summary (also written to the report dir)."""
    _setup_env(cfg)
    prepare(cfg, say)
    from pacific_assets.orchestration.dagster_compat import REPLAY_INSTANCE_YAML

    (cfg.home / "dagster.yaml").write_text(REPLAY_INSTANCE_YAML)
    started = time.monotonic()
    from pacific_tools.simulate.release import LandingRelease

    release = LandingRelease(cfg.source, cfg.live)
    start = dt.datetime.combine(cfg.start, dt.time(), dt.UTC)
    # the replay's last tick is at cfg.end, so the recompute knows its instant and its landed
    # files from the start and builds beside the replay instead of after it
    recompute = _Recompute(cfg) if cfg.recompute else None
    try:
        result, final = _replay(cfg, release, start, say, progress, started)
    except BaseException:
        if recompute is not None:
            recompute.kill()
        raise
    if recompute is not None:
        say(f"comparing with the one-shot recompute at {final:%Y-%m-%d %H:%M} ...")
        recompute.finish(final, say)
        from pacific_tools.replay.report import compare_with_recompute

        result.update(compare_with_recompute(cfg, final))
    from pacific_tools.replay.report import write_reports

    write_reports(cfg, result, result.pop("_log"))
    return result


def _replay(cfg: ReplayConfig, release, start: dt.datetime, say, progress: bool, started: float):
    """The tick loop; returns the summary (its log under ``_log``) and the last tick's instant."""
    import dagster as dg

    from pacific_assets.orchestration.dagster_compat import moved_clock, replay_daemons

    now = [start]
    log = ReplayLog()
    logging.getLogger("dagster").setLevel(logging.ERROR)
    daemon_log = logging.getLogger("pacific_tools.replay.daemons")
    daemon_log.setLevel(logging.ERROR)

    with moved_clock(lambda: now[0]):
        if cfg.warm_until is not None:
            now[0] = cfg.warm_until
            released = release.release_until(now[0])
            log.landings.extend(released)
            say(f"warm start at {now[0]:%Y-%m-%d %H:%M}: one-shot build of the lake so far ...")
            _one_shot(cfg.live, cfg.home, now[0])
        from pacific_assets.definitions import defs

        schedule = release.schedule
        landed_times = [t for t in schedule["landed_at"].to_list()]
        events = static_events(cfg, defs, landed_times, now[0])
        events.add(cfg.end)
        if cfg.every_minutes:
            t = now[0]
            while t <= cfg.end:
                events.add(t)
                t += dt.timedelta(minutes=cfg.every_minutes)
        instance = dg.DagsterInstance.get()
        bar = _bar(progress, start, cfg.end)
        with replay_daemons(instance, MODULE, str(REPO)) as daemons:
            seen_runs = instance.get_runs_count()
            states: dict[str, str] = {}
            while now[0] <= cfg.end:
                t0 = time.monotonic()
                released = release.release_until(now[0])
                log.landings.extend(released)
                daemons.tick(daemon_log)
                runs = instance.get_runs_count()
                new_runs = runs - seen_runs
                seen_runs = runs
                log.ticks.append(Tick(now[0], len(released), new_runs, time.monotonic() - t0))
                _observe_freshness(instance, defs, now[0], states, log)
                if new_runs:
                    for t in _follow_ups(daemons, now[0]):
                        events.add(t)
                    _time_window_deadlines(instance, defs, now[0], events)
                nxt = events.next_after(now[0])
                if bar is not None:
                    bar.update(((nxt or cfg.end) - now[0]).total_seconds() / 3600)
                    bar.set_postfix_str(f"{now[0]:%m-%d %H:%M} runs {runs}")
                if nxt is None:
                    break
                now[0] = nxt
        if bar is not None:
            bar.close()
        final = now[0]
        from pacific_tools.replay.report import collect

        result = collect(cfg, instance, defs, log, final)
        instance.dispose()
    result["seconds"] = round(time.monotonic() - started, 1)
    result["_log"] = log
    return result, final


def _follow_ups(daemons, now: dt.datetime) -> set[dt.datetime]:
    """When the sensors see what this tick's runs wrote: in ``FOLLOW_UP`` the short-interval
    ones, and each longer one at the instant it is next due, as a daemon ticking every few
    seconds would evaluate it. (A fixed "+61 min" instead added one tick per run-tick, each
    evaluating every sensor, though the hourly sensor was due only at one of them.)"""
    soon = now + FOLLOW_UP
    return {soon} | {due for due in daemons.sensors_next_due().values() if due > soon}


def _bar(progress: bool, start: dt.datetime, end: dt.datetime):
    if not progress:
        return None
    from tqdm import tqdm

    return tqdm(
        total=round((end - start).total_seconds() / 3600, 2),
        unit="h",
        desc="replay",
        bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:.0f}/{total:.0f} simulated h "
        "[{elapsed}<{remaining}] {postfix}",
    )


def _observe_freshness(instance, defs, at: dt.datetime, states: dict, log: ReplayLog) -> None:
    """Dagster's freshness verdict per asset, as the freshness daemon just evaluated it."""
    from pacific_assets.orchestration.dagster_compat import freshness_states

    graph = defs.resolve_asset_graph()
    keys = [n.key for n in graph.asset_nodes if n.freshness_policy is not None]
    for key, state in freshness_states(instance, keys).items():
        name = key.to_user_string()
        if states.get(name) != state:
            log.freshness.append(
                {"asset": name, "at": at.isoformat(), "from": states.get(name), "to": state}
            )
            states[name] = state


def _time_window_deadlines(instance, defs, now: dt.datetime, events: Events) -> None:
    """A time-window freshness policy turns WARN/FAIL a window after the last materialization."""
    from pacific_assets.orchestration.dagster_compat import TimeWindowFreshnessPolicy

    graph = defs.resolve_asset_graph()
    for node in graph.asset_nodes:
        policy = node.freshness_policy
        if not isinstance(policy, TimeWindowFreshnessPolicy):
            continue
        records = instance.fetch_materializations(node.key, limit=1).records
        if not records:
            continue
        last = dt.datetime.fromtimestamp(records[0].timestamp, dt.UTC)
        for window in (policy.warn_window, policy.fail_window):
            if window is not None:
                events.add(last + window.to_timedelta() + dt.timedelta(seconds=1))


# -- the one-shot recompute ---------------------------------------------------------------------
def _one_shot_command(data_root: Path, home: Path, at: dt.datetime) -> tuple[list[str], dict]:
    """Materialize every asset over its whole range at ``at``, in a fresh process (its own data
    root and instance), as ``make demo`` does."""
    from pacific_assets.orchestration.dagster_compat import NO_COMPUTE_LOGS_YAML

    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists():
        (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n" + NO_COMPUTE_LOGS_YAML)
    env = {
        **os.environ,
        "PACIFIC_DATA_ROOT": str(data_root),
        "DAGSTER_HOME": str(home),
        "PYTHONHASHSEED": "0",
    }
    return [sys.executable, "-m", "pacific_tools.replay", "one-shot", "--at", at.isoformat()], env


def _one_shot(data_root: Path, home: Path, at: dt.datetime) -> None:
    cmd, env = _one_shot_command(data_root, home, at)
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(
            f"one-shot materialization failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )


def _landed_files(data_root: Path) -> dict[str, tuple[int, int]]:
    """Every landed file (hidden names aside, as readers skip them): size and mtime."""
    landing = data_root / "landing"
    out = {}
    for path in landing.rglob("*"):
        rel = path.relative_to(landing)
        if path.is_file() and not any(part.startswith(".") for part in rel.parts):
            st = path.stat()
            out[str(rel)] = (st.st_size, st.st_mtime_ns)
    return out


class _Recompute:
    """The same landed data, a fresh data root and instance, everything in one shot at the
    replay's end — started before the replay and run beside it (the 2nd core is otherwise
    idle while the replay ticks), since both the instant (``cfg.end``, the last tick) and the
    files landed by then (the simulator's schedule) are known before the first tick.
    ``finish`` checks both against what the replay saw; if either differs it recomputes
    again from the replay's own landing, after it, as before."""

    def __init__(self, cfg: ReplayConfig):
        from pacific_assets.orchestration.data_root import RECORD
        from pacific_tools.simulate.release import LandingRelease

        self.cfg, self.at = cfg, cfg.end
        root = cfg.recompute_root
        root.mkdir(parents=True)
        shutil.copy(cfg.live / RECORD, root / RECORD)
        LandingRelease(cfg.source, root).release_until(self.at)
        cmd, env = _one_shot_command(root, cfg.recompute_home, self.at)
        self.log = cfg.root / "recompute.log"
        with open(self.log, "w") as out:
            self.process = subprocess.Popen(
                cmd, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,  # its own group: kill() stops its Spark JVM too
            )  # fmt: skip

    def kill(self) -> None:
        import signal

        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def finish(self, final: dt.datetime, say: Callable[[str], None]) -> None:
        rc = self.process.wait()
        if rc != 0:
            tail = self.log.read_text()[-3000:]
            raise RuntimeError(f"one-shot recompute failed (rc {rc}, {self.log}):\n{tail}")
        same_files = _landed_files(self.cfg.live) == _landed_files(self.cfg.recompute_root)
        if final == self.at and same_files:
            return
        say(
            "the replay ended at another instant or with other landed files than planned "
            f"({final:%Y-%m-%d %H:%M}, files equal: {same_files}): recomputing after it ..."
        )
        from pacific_assets.orchestration.data_root import RECORD

        for path in (self.cfg.recompute_root, self.cfg.recompute_home):
            shutil.rmtree(path)
        self.cfg.recompute_root.mkdir(parents=True)
        shutil.copy(self.cfg.live / RECORD, self.cfg.recompute_root / RECORD)
        shutil.copytree(
            self.cfg.live / "landing", self.cfg.recompute_root / "landing", symlinks=True
        )
        _one_shot(self.cfg.recompute_root, self.cfg.recompute_home, final)


def one_shot_here(at: dt.datetime) -> int:
    """Body of ``python -m pacific_tools.replay one-shot``: the demo's materialize-all, at ``at``."""
    import dagster as dg

    from pacific_assets.orchestration.dagster_compat import moved_clock

    with moved_clock(lambda: at):
        from pacific_assets.definitions import defs
        from pacific_tools.demo import materialize_all

        with dg.DagsterInstance.get() as instance:
            runs = materialize_all(defs, instance, quiet=True)
    failed = [r for r in runs if not r["ok"]]
    for r in failed:
        print(f"FAILED: {r['assets']} (run {r['run_id']})", file=sys.stderr)
    return 1 if failed else 0


def settle_here(
    start: dt.datetime,
    window: dt.timedelta,
    every_seconds: float,
    sync_first: bool = False,
    only: set[str] | None = None,
) -> dict:
    """Body of ``python -m pacific_tools.replay settle``: the daemons over this process's data
    root and instance (``PACIFIC_DATA_ROOT``, ``DAGSTER_HOME``) from ``start`` for ``window``,
    ticking every ``every_seconds``, as ``dagster dev`` would on that instance. Returns the runs
    launched (trigger, status, what they materialized) and Dagster's freshness state per asset
    at the end."""
    import dagster as dg

    from pacific_assets.orchestration.dagster_compat import (
        REPLAY_INSTANCE_YAML,
        moved_clock,
        replay_daemons,
    )

    home = Path(os.environ["DAGSTER_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists():
        (home / "dagster.yaml").write_text(REPLAY_INSTANCE_YAML)
    now = [start]
    logging.getLogger("dagster").setLevel(logging.ERROR)
    quiet = logging.getLogger("pacific_tools.replay.daemons")
    quiet.setLevel(logging.ERROR)
    with moved_clock(lambda: now[0]):
        instance = dg.DagsterInstance.get()
        if sync_first:
            from pacific_assets.definitions import defs
            from pacific_assets.resources import lake_resource_from_env
            from pacific_tools.sync import sync

            sync(instance, defs.resolve_asset_graph(), lake_resource_from_env().lake)
        seen = {r.run_id for r in instance.get_runs()}
        with replay_daemons(instance, MODULE, str(REPO)) as daemons:
            if only is not None:
                daemons.stop_all_except(only)
            while now[0] <= start + window:
                daemons.tick(quiet)
                now[0] += dt.timedelta(seconds=every_seconds)
        out = []
        for run in reversed(instance.get_runs()):
            if run.run_id in seen:
                continue
            tags = run.tags
            built: dict[str, list[str]] = {}
            for record in instance.get_records_for_run(
                run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION
            ).records:
                event = record.event_log_entry.dagster_event
                built.setdefault(event.asset_key.to_user_string(), []).append(
                    event.partition or "current"
                )
            out.append(
                {
                    "trigger": tags.get("pacific/trigger")
                    or tags.get("dagster/schedule_name")
                    or tags.get("dagster/sensor_name", "?"),
                    "status": run.status.value,
                    "created": dt.datetime.fromtimestamp(
                        instance.get_run_record_by_id(run.run_id).create_timestamp.timestamp(),
                        dt.UTC,
                    ).isoformat(),
                    "materialized": {k: sorted(v) for k, v in sorted(built.items())},
                }
            )
        from pacific_assets.definitions import defs
        from pacific_assets.orchestration.dagster_compat import freshness_states

        keys = [n.key for n in defs.resolve_asset_graph().asset_nodes if n.freshness_policy]
        freshness = {
            k.to_user_string(): v for k, v in sorted(freshness_states(instance, keys).items())
        }
        instance.dispose()
    return {"runs": out, "freshness": freshness}
