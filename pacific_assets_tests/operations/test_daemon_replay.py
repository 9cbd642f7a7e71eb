"""The daemon over days of production: late clicks, a late CRM event, a corrected billing export.

One replay (``python -m pacific_tools.replay``, the harness behind ``make replay``) of a week of
the 35-day "replay" company on a real Dagster instance of its own: the lake is built in one shot
as it stood on 2025-09-28 03:00 UTC (as ``make demo`` builds it), then for seven days the files
land at the times the simulator says while Dagster's clock advances, and at every tick Dagster's
own daemon iterations (schedules, sensors, automation, backfills, freshness) run and execute what
they request. The week holds the three cases of docs/operations.md ("Late and corrected data"),
the turn of the month and its closes:

- (a) late click batches: events of 2025-09-21 (landing 10-02 21:59), 09-20 and 10-01 (10-04),
  and a delayed one of 09-29 (landing 10-01);
- (b) the late CRM event: account A000003 churned on 2025-09-10, recorded (and landed) on 10-02/03;
- (c) the corrected export of September's billing line INV-0000038-02, landing 10-05 00:30, after
  the September close (profit on 10-02, investor rollup on 10-03).

The replay's lake is then compared, partition by partition, with a one-shot recompute of the same
landed data; every re-materialization is checked against what changed (the simulator's fault
manifest and the landed files), and none may have been unnecessary.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pacific_assets.operations.sensors import FRESHNESS

REPO = Path(__file__).resolve().parents[2]
WARM_UNTIL = "2025-09-28T03:00:00+00:00"
UNTIL = "2025-10-05T03:00:00+00:00"
TIMEOUT = 1500

pytestmark = [pytest.mark.slow, pytest.mark.timeout(TIMEOUT + 300)]


def _replay(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pacific_tools.replay", *args],
        cwd=REPO,
        env={**os.environ, "PYTHONHASHSEED": "0", **env},
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )


@pytest.fixture(scope="module")
def replay(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("replay")
    done = _replay(
        [
            "--days", "35", "--root", str(root), "--reports", str(root / "reports"),
            "--warm-until", WARM_UNTIL, "--until", UNTIL, "--no-progress",
        ],
        {"PACIFIC_DATA_ROOT": str(root / "unused")},
    )  # fmt: skip
    summary_file = root / "reports" / "summary.json"
    assert summary_file.exists(), (
        f"replay wrote no summary:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    )
    return root, json.loads(summary_file.read_text())


def _sync(env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "pacific_tools.sync"],
        cwd=REPO,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _read(table_dir: Path) -> pl.DataFrame:
    return pl.read_parquet(str(table_dir / "*" / "*.parquet"), hive_partitioning=False)


def _manifest(root: Path) -> dict:
    return json.loads((root / "source" / "truth" / "fault_manifest.json").read_text())


def _rebuilt(summary: dict, asset: str) -> list[str]:
    return summary["assets"][asset]["rematerialized_partitions"]


def test_the_replayed_lake_equals_a_one_shot_recompute(replay) -> None:
    _, summary = replay
    recompute = summary["recompute"]
    # 498 partitions: every asset up to the horizon, the A/B tables from the first assignment on
    assert recompute["partitions_compared"] > 450
    assert recompute["mismatched"] == []
    assert recompute["missing_in_replay"] == []
    assert recompute["extra_in_replay"] == []
    assert summary["final_equals_recompute"] is True
    assert summary["failed_runs"] == 0


def test_no_partition_was_rebuilt_without_a_changed_input(replay) -> None:
    _, summary = replay
    unnecessary = {
        a: s["unnecessary_rematerializations"]
        for a, s in summary["assets"].items()
        if s["unnecessary_rematerializations"]
    }
    assert unnecessary == {}
    for asset, stats in summary["assets"].items():
        assert "unknown" not in stats["rematerialized_because"], asset


def test_late_clicks_rebuild_their_days_and_only_what_reads_them(replay) -> None:
    root, summary = replay
    start, until = dt.datetime.fromisoformat(WARM_UNTIL), dt.datetime.fromisoformat(UNTIL)
    late = [
        c
        for c in _manifest(root)["clicks"]["late"]
        if start < dt.datetime.fromisoformat(c["landed_at"].replace("Z", "+00:00")) <= until
    ]
    late_days = {c["event_ts"][:10] for c in late}
    assert late_days == {"2025-09-20", "2025-09-21", "2025-10-01"}
    stg = set(_rebuilt(summary, "stg_clicks"))
    # the late days, and no day before them that no batch in the window touched
    assert late_days <= stg
    landed_days = _event_days_landed(root, start, until)
    assert stg <= landed_days, stg - landed_days
    # user_engagement_daily reads one day of stg_clicks: rebuilt only where stg_clicks was, and
    # at least on the late days (their users' events changed)
    assert late_days <= set(_rebuilt(summary, "user_engagement_daily")) <= stg
    # the accounts' hours of the late days changed too
    assert late_days <= set(_rebuilt(summary, "engagement_hours"))
    # the outage verdict reads four earlier same weekdays: only those days and later weekdays
    weekdays = {
        (dt.date.fromisoformat(d) + dt.timedelta(weeks=w)).isoformat()
        for d in stg
        for w in range(5)
    }
    assert set(_rebuilt(summary, "engagement_completeness")) <= weekdays | _settled_days(
        start, until
    )
    assert set(_rebuilt(summary, "engagement_hours")) <= weekdays | _settled_days(start, until)
    # ab_unit_daily reads engagement of its own day and ab_unit_covariates the 14 days before
    # an assignment day: nothing before the earliest changed day is rebuilt (docs/experiments.md)
    assert min(_rebuilt(summary, "ab_unit_daily")) >= min(stg)


def test_the_report_counts_identical_rebuilds_and_rebuilds_per_late_day(replay) -> None:
    """Issue 30's columns: re-materializations whose content came out identical (counted from
    the data versions the instance recorded) agree with the ``pacific/content_unchanged`` flag
    each build published from the lake's own lineage; the late days are the window's."""
    import dagster as dg

    root, summary = replay
    assert summary["late_days"] == [
        "2025-09-10", "2025-09-20", "2025-09-21", "2025-09-29", "2025-10-01"
    ]  # fmt: skip
    flagged: dict[str, int] = {}
    with dg.DagsterInstance.from_config(str(root / "dagster_home")) as instance:
        for name in summary["assets"]:
            records = instance.fetch_materializations(dg.AssetKey(name), limit=10000).records
            # builds only: a range run's partitions also get a runless event that hands Dagster
            # their data versions (docs/ARCHITECTURE.md "Data versions in the UI"), marked
            # ``pacific/reported_by``; it repeats the build's metadata and is no build
            builds = [
                r.asset_materialization.metadata
                for r in records
                if "pacific/reported_by" not in r.asset_materialization.metadata
            ]
            flagged[name] = sum(
                1 for m in builds if getattr(m.get("pacific/content_unchanged"), "value", False)
            )
    counted = {a: s["rematerialized_identical"] for a, s in summary["assets"].items()}
    assert counted == flagged
    for name, stats in summary["assets"].items():
        rebuilt = len(stats["rematerialized_partitions"])
        assert stats["rebuilt_per_late_day"] == round(rebuilt / 5, 2), name
        assert stats["rematerialized_identical"] <= stats["rematerializations"], name


#: Tables the three late cases change, and none of them has a column that records when it was
#: written: a replayed partition must hold exactly the rows the one-shot recompute holds.
LATE_DATA_TABLES = (
    "stg_clicks",
    "user_engagement_daily",
    "engagement_hours",
    "account_status_daily",
    "account_growth",
    "recognized_revenue_daily",
    "unit_profit",
)


def _partitions(table_dir: Path) -> dict[str, Path]:
    """Partition key -> the live version folder (``<column>=<key>`` links, storage/lake.py)."""
    return {link.name.partition("=")[2]: link.resolve() for link in table_dir.glob("*=*")}


def test_late_data_tables_equal_the_recompute_read_here(replay) -> None:
    """The comparison with the one-shot recompute, made here from the two lakes' Parquet files
    rather than taken from the replay's report: same rows in every partition both hold, and no
    daily partition up to 10-03 (whose schedules all ran before the window's end, 10-05 03:00)
    or September missing from the replay."""
    root, _ = replay
    compared = 0
    for table in LATE_DATA_TABLES:
        live = _partitions(root / "live" / "lake" / table)
        again = _partitions(root / "recompute" / "lake" / table)
        assert again, table
        due = {k for k in again if k <= "2025-10-03"}
        assert due <= set(live), (table, sorted(due - set(live)))
        for key in sorted(set(live) & set(again)):
            a, b = (pl.read_parquet(str(v / "*.parquet")) for v in (live[key], again[key]))
            assert a.columns == b.columns, (table, key)
            # Rows matched on every non-float column; floats to 1e-12 relative: DuckDB's parallel
            # sums of doubles add in no fixed order, so a rebuild can differ in the last bit
            # (16516.316073320166 against ...17 once, on main and on a branch alike).
            exact = [c for c in a.columns if not a.schema[c].is_float()]
            try:
                assert_frame_equal(
                    a.sort(exact), b.sort(exact), check_exact=False, rel_tol=1e-12, abs_tol=1e-9
                )
            except AssertionError as exc:
                raise AssertionError(f"{table} {key}: {exc}") from None
            compared += 1
    assert compared > 100


def _event_days_landed(root: Path, start: dt.datetime, until: dt.datetime) -> set[str]:
    """Event days of every click batch that landed inside the window (read from the files; a
    malformed line, which the pipeline quarantines, names no day)."""
    schedule = pl.read_parquet(root / "source" / "truth" / "landing_schedule.parquet")
    batches = schedule.filter(
        (pl.col("kind") == "batch") & (pl.col("landed_at") > start) & (pl.col("landed_at") <= until)
    )["path"].to_list()
    days: set[str] = set()
    for path in batches:
        for line in (root / "source" / "landing" / path).read_text().splitlines():
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(event, dict) and isinstance(event.get("event_ts"), str):
                days.add(event["event_ts"][:10])
    return days


def _settled_days(start: dt.datetime, until: dt.datetime) -> set[str]:
    """Days whose 48 h settle (docs/engagement.md) falls inside the window: their verdict is
    re-judged once, whatever landed."""
    out = set()
    day = (start - dt.timedelta(days=3)).date()
    while day <= until.date():
        settle = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), dt.UTC) + dt.timedelta(
            hours=48
        )
        if start < settle <= until:
            out.add(day.isoformat())
        day += dt.timedelta(days=1)
    return out


def test_a_late_crm_event_rebuilds_from_its_effective_day(replay) -> None:
    root, summary = replay
    (event,) = _manifest(root)["crm"]["late_events"]
    effective = event["effective_at"][:10]
    assert effective == "2025-09-10"
    daily = _rebuilt(summary, "account_status_daily")
    assert daily, "the late event rebuilt no day"
    assert min(daily) == effective  # nothing before the day it took effect
    # every built day from the effective day to the day before it landed was rebuilt
    landed = dt.date.fromisoformat(event["landing_date"])
    expected = {
        (dt.date.fromisoformat(effective) + dt.timedelta(days=i)).isoformat()
        for i in range((landed - dt.date.fromisoformat(effective)).days)
    }
    assert expected <= set(daily)
    weeks = _rebuilt(summary, "account_growth")
    assert min(weeks) == "2025-09-08"  # the Monday week holding 09-10
    assert "2025-09-01" in _rebuilt(summary, "account_growth_monthly")  # September, closed


def test_a_corrected_export_rebuilds_the_closed_month_and_its_rollup(replay) -> None:
    root, summary = replay
    (correction,) = _manifest(root)["billing"]["corrections"]
    assert correction["affected_months"][0] == "2025-09"
    assert "2025-09-01" in _rebuilt(summary, "unit_profit")
    assert "recognized_revenue_daily" in summary["assets"]["unit_profit"]["rematerialized_because"]
    assert "2025-09-01" in _rebuilt(summary, "investor_rollup")
    # the rollup carries the corrected books: its September revenue is unit_profit's
    live = root / "live" / "lake"
    rollup = _read(live / "investor_rollup").filter(pl.col("segment") == "all")
    profit = _read(live / "unit_profit").filter(pl.col("month_start") == dt.date(2025, 9, 1))
    (revenue,) = rollup.filter(pl.col("month_start") == dt.date(2025, 9, 1))[
        "recognized_revenue_usd"
    ].to_list()
    assert revenue == pytest.approx(profit["recognized_revenue_usd"].item(), rel=1e-12)
    # September is not published in this window (its filing lands on 10-10; an outage day):
    # a correction of an unpublished month is a rebuild, not a restatement
    assert set(rollup["publication_status"]) == {"incomplete"}
    assert _read(live / "investor_restatements").height == 0
    # the correction changed nothing before its service period
    recognized = _rebuilt(summary, "recognized_revenue_daily")
    assert recognized and min(recognized) >= "2025-09-01"


def test_a_fresh_instance_over_the_lake_launches_nothing_and_missing_partitions_come_back(
    replay, tmp_path: Path
) -> None:
    """A new (or restored) instance over the up-to-date lake: five minutes of daemon ticks launch
    no run; two partitions deleted from the lake come back, and nothing else is rebuilt."""
    root, _ = replay
    data = tmp_path / "data"
    shutil.copytree(root / "live", data, symlinks=True)
    env = {"PACIFIC_DATA_ROOT": str(data), "DAGSTER_HOME": str(tmp_path / "home")}
    (tmp_path / "home").mkdir()
    from pacific_assets.orchestration.dagster_compat import REPLAY_INSTANCE_YAML

    (tmp_path / "home" / "dagster.yaml").write_text(REPLAY_INSTANCE_YAML)
    # the instance learns what the lake holds (the UI shows it built), once
    from pacific_assets.definitions import defs

    assets = {k.to_user_string() for k in defs.resolve_asset_graph().materializable_asset_keys}
    tables = [t for t in (data / "lake").iterdir() if t.name in assets]
    partitions = sum(1 for t in tables for _ in t.glob("*=*"))
    first = _sync(env)
    assert f"reported {partitions} lake partition(s)" in first, first
    assert "reported 0 lake partition(s)" in _sync(env)

    at = "2025-10-05T03:05:00+00:00"  # no schedule is due in the next five minutes
    quiet = _replay(["settle", "--at", at, "--minutes", "5"], env)
    assert quiet.returncode == 0, quiet.stderr[-3000:]
    launched = json.loads(quiet.stdout)["runs"]
    # nothing is rebuilt; the only run records the SLA checks' verdicts, which a new instance
    # has never seen (a check-only run: it materializes nothing)
    assert [r for r in launched if r["materialized"]] == [], launched
    assert {r["trigger"] for r in launched} <= {"sla_checks_sensor"}, launched

    for table, key in (("stg_clicks", "2025-09-22"), ("account_growth", "2025-09-15")):
        (link,) = (data / "lake" / table).glob(f"*={key}")
        link.unlink()
    back = _replay(["settle", "--at", "2025-10-05T03:20:00+00:00", "--minutes", "5"], env)
    assert back.returncode == 0, back.stderr[-3000:]
    built: dict[str, list[str]] = {}
    for run in json.loads(back.stdout)["runs"]:
        assert run["status"] == "SUCCESS", run
        for asset, keys in run["materialized"].items():
            built.setdefault(asset, []).extend(keys)
    # rebuilt from unchanged inputs, the two partitions have the same content: nothing downstream
    assert built == {"stg_clicks": ["2025-09-22"], "account_growth": ["2025-09-15"]}, built


def _readme_command(startswith: str) -> str:
    """The one README command (inline code, or a line of a code block with its ``\\``
    continuations joined) that starts with ``startswith``."""
    import re

    readme = (REPO / "README.md").read_text()
    inline = re.findall(r"`([^`\n]+)`", readme)
    blocks = [
        line
        for block in re.findall(r"```bash\n(.*?)```", readme, flags=re.S)
        for line in block.replace("\\\n", " ").splitlines()
    ]
    (command,) = [c.strip() for c in inline + blocks if c.strip().startswith(startswith)]
    return command


def test_the_readme_commands_work_as_written(replay, tmp_path: Path) -> None:
    """The analysts' query and the backfill example, verbatim from the README, from a checkout
    whose data root is the replayed lake (as after ``make demo``)."""
    root, _ = replay
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    (checkout / ".venv").symlink_to(Path(sys.executable).parents[1])
    shutil.copytree(root / "live", checkout / "data", symlinks=True)
    (checkout / ".dagster_home").mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME", "PACIFIC_DATA_ROOT")}

    def sh(command: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["bash", "-c", command], cwd=checkout, env=env, capture_output=True, text=True,
            timeout=900,
        )  # fmt: skip

    query = sh(_readme_command(".venv/bin/duckdb"))
    assert query.returncode == 0, query.stderr
    assert "2025-09-01" in query.stdout  # September's unit profit

    backfill = _readme_command("DAGSTER_HOME=")
    assert "--partition-range" in backfill
    table = checkout / "data" / "lake" / "engagement_hours"

    def versions() -> dict[str, str]:
        return {p.name: os.readlink(p) for p in table.iterdir() if p.is_symlink()}

    before = versions()
    done = sh(backfill)  # its range: the first week of the data root's company
    assert done.returncode == 0, done.stderr[-3000:]
    assert "RUN_SUCCESS" in done.stderr + done.stdout
    after = versions()
    rebuilt = sorted(k for k in after if after[k] != before.get(k))
    assert rebuilt == [f"date=2025-09-0{d}" for d in range(1, 8)], rebuilt


def test_a_week_without_runs_fails_freshness_and_pages_the_on_call(replay, tmp_path: Path) -> None:
    """Freshness as Dagster's freshness daemon evaluates it: fresh while the data arrives in
    time; after a week in which every schedule and pipeline sensor was stopped (an incident),
    failing at the SLA deadlines, and the on-call sensor routes each failure."""
    root, _ = replay
    data = tmp_path / "data"
    shutil.copytree(root / "live", data, symlinks=True)
    # the replay's own instance: its materializations carry the simulated times they ran at
    home = tmp_path / "home"
    shutil.copytree(root / "dagster_home", home)
    env = {"PACIFIC_DATA_ROOT": str(data), "DAGSTER_HOME": str(home)}
    alerts_before = len(read_alerts(data))
    only = "--only=oncall_freshness"
    fresh = _replay(["settle", "--at", "2025-10-05T03:05:00+00:00", "--minutes", "2", only], env)
    assert fresh.returncode == 0, fresh.stderr[-3000:]
    states = json.loads(fresh.stdout)["freshness"]
    assert states["executive_weekly"] == "PASS" and states["engagement_hours"] == "PASS"
    assert [a for a in read_alerts(data)[alerts_before:] if a["kind"] == FRESHNESS] == []

    # Monday 10-13 12:30: past the executive pack's deadline (12:00) with nothing built since
    late = _replay(["settle", "--at", "2025-10-13T12:30:00+00:00", "--minutes", "3", only], env)
    assert late.returncode == 0, late.stderr[-3000:]
    result = json.loads(late.stdout)
    assert result["runs"] == []
    states = result["freshness"]
    for asset in ("executive_weekly", "account_growth", "engagement_hours", "stg_clicks"):
        assert states[asset] == "FAIL", (asset, states[asset])
    assert states["unit_profit"] == "PASS"  # the month close's deadline is the 3rd: not due
    paged = {a["asset"] for a in read_alerts(data)[alerts_before:] if a["kind"] == FRESHNESS}
    assert {"executive_weekly", "account_growth", "engagement_hours"} <= paged
    assert "unit_profit" not in paged


def read_alerts(data: Path) -> list[dict]:
    """The alert log the on-call sensors write (Slack is not configured in tests)."""
    from pacific_assets.operations.alerts import read_alert_log

    return read_alert_log(data / "ops")
