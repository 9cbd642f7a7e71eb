"""A materialization killed with SIGKILL mid-write leaves the previous partition intact.

The kill happens at a deterministic point: the lake's fault-injection hook
(``PACIFIC_FAULT_INJECT=after_tmp_write``, storage/lake.py) SIGKILLs the writer once the new
Parquet file is complete on disk but before the partition's link is switched to it — the worst
moment, with the most new bytes written. The run is a real Dagster run of the real code location
in its own process. Afterwards every reader (polars, DuckDB over the table's glob) sees exactly the
previous version, and re-running succeeds and picks up the new data.
"""

from __future__ import annotations

import os
import signal

from pacific_assets.engagement.landing import ClickLanding
from pacific_assets.storage.duck import connect
from pacific_assets.storage.lake import Lake
from pacific_assets_tests.engagement.helpers import click, land_simulator_batch
from pacific_assets_tests.faults.conftest import (
    assert_same_tables,
    copy_lake,
    run_in_subprocess,
    snapshot,
)

#: The lake's hook (storage/lake.py): SIGKILL once the new file is on disk, before it is live.
KILL = "after_tmp_write"


def _live_targets(lake: Lake, table: str) -> dict[str, str]:
    d = lake.table_dir(table)
    return {p.name: os.readlink(p) for p in d.glob("*=*") if p.is_symlink()}


def _duckdb_count(lake: Lake, table: str) -> int:
    with connect() as con:
        return con.execute(
            f"SELECT count(*) FROM read_parquet('{lake.glob(table)}', hive_partitioning = false)"
        ).fetchone()[0]


def test_sigkill_mid_write_keeps_previous_partition_and_rerun_succeeds(staged_template, tmp_path):
    lake = copy_lake(staged_template, tmp_path / "data")
    table = "stg_directory_users"
    folders = sorted((lake.landing / "directory" / "users").glob("date=*"))
    day = folders[1].name.removeprefix("date=")  # a day with a landed export
    before = snapshot(lake, [table])
    day_rows = lake.read(table, [day]).height
    links_before = _live_targets(lake, table)
    rows_before = _duckdb_count(lake, table)
    # New data for the partition: one more export file lands in the day's folder.
    folder = lake.landing / "directory" / "users" / f"date={day}"
    (folder / "zz-late-export.csv").write_text(
        "user_id,account_id,team,licensed,created_at,deactivated_at\n"
        f"U9999001,A000001,sales,true,{day}T08:00:00Z,\n"
        f"U9999002,A000001,support,false,{day}T09:00:00Z,\n"
    )

    code, report, stderr = run_in_subprocess(lake, [table], partition=day, fault=KILL)

    assert code == -signal.SIGKILL, f"expected a SIGKILL, got {code}: {stderr}"
    assert report == {}, "the run must not have finished"
    assert _live_targets(lake, table) == links_before, "a partition link moved"
    assert_same_tables(snapshot(lake, [table]), before)
    assert _duckdb_count(lake, table) == rows_before
    # the killed write's complete file exists, but only as an unreferenced version
    versions = list((lake.table_dir(table) / "_versions").glob(f"export_date={day}.*"))
    assert len(versions) == 2

    code, report, stderr = run_in_subprocess(lake, [table], partition=day)
    assert code == 0 and report["ok"], stderr
    after = lake.read(table, [day])
    assert after.height == day_rows + 2
    assert {"U9999001", "U9999002"} <= set(after["user_id"])
    others = [k for k in lake.partition_keys(table) if k != day]
    assert_same_tables(snapshot(lake, [table], others), snapshot(staged_template, [table], others))


def test_range_run_killed_at_first_write_keeps_every_partition(staged_template, tmp_path):
    """The engagement chain over three days, killed at its first partition write: all three days
    of all three tables stay as they were; the re-run picks up a newly landed batch."""
    lake = copy_lake(staged_template, tmp_path / "data")
    chain = ["stg_clicks", "user_engagement_daily", "engagement_hours"]
    days = ["2025-09-02", "2025-09-03", "2025-09-04"]
    code, report, stderr = run_in_subprocess(lake, chain, start=days[0], end=days[-1])
    assert code == 0 and report["ok"], stderr
    before = snapshot(lake, chain, days)
    links = {t: _live_targets(lake, t) for t in chain}
    # a late batch with two new events of the middle day lands (and is registered)
    number = ClickLanding(lake.landing).next_batch_number()
    land_simulator_batch(
        lake,
        number,
        "2025-09-10T06:00:00Z",
        [
            click("LATE-1", "U0000101", "A000019", f"{days[1]}T10:00:00Z"),
            click("LATE-2", "U0000101", "A000019", f"{days[1]}T10:10:00Z"),
        ],
        register=True,
    )

    code, report, stderr = run_in_subprocess(lake, chain, start=days[0], end=days[-1], fault=KILL)
    assert code == -signal.SIGKILL, f"expected a SIGKILL, got {code}: {stderr}"
    assert {t: _live_targets(lake, t) for t in chain} == links
    assert_same_tables(snapshot(lake, chain, days), before)

    code, report, stderr = run_in_subprocess(lake, chain, start=days[0], end=days[-1])
    assert code == 0 and report["ok"], stderr
    clicks = lake.read("stg_clicks", [days[1]])
    assert {"LATE-1", "LATE-2"} <= set(clicks["event_id"])
    assert (
        clicks.height
        == before["stg_clicks"]
        .filter(before["stg_clicks"]["event_date"].cast(str) == days[1])
        .height
        + 2
    )
