"""Results reused while their files are unchanged (storage/unchanged.py), and the sensors' readers
built on it: a reused result must never be older than the files."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import polars as pl

from pacific_assets.operations.incidents import IncidentStore
from pacific_assets.storage.catalog import catalog_tables, refresh_catalog
from pacific_assets.storage.lake import Lake
from pacific_assets.storage.unchanged import FileMemo

AT = dt.datetime(2025, 9, 2, 9, 0, tzinfo=dt.UTC)


def _reader(path: Path, reads: list[str]):
    def read() -> str:
        reads.append(path.name)
        return path.read_text()

    return read


def test_a_file_replaced_with_the_same_size_and_mtime_is_read_again(tmp_path: Path) -> None:
    """The replacement has the old size and, set back, the old mtime: only the inode and ctime
    tell (fails if ``identity`` keeps only size and mtime)."""
    memo, reads = FileMemo(), []
    path = tmp_path / "views.txt"
    path.write_text("aaaa")
    assert memo.get([path], _reader(path, reads)) == "aaaa"
    assert memo.get([path], _reader(path, reads)) == "aaaa"
    assert reads == ["views.txt"]  # the second call read nothing
    before = path.stat()
    tmp = tmp_path / ".views.tmp"
    tmp.write_text("bbbb")
    os.utime(tmp, ns=(before.st_atime_ns, before.st_mtime_ns))
    os.replace(tmp, path)
    assert memo.get([path], _reader(path, reads)) == "bbbb"
    assert reads == ["views.txt", "views.txt"]


def test_a_file_that_appears_or_goes_changes_the_result(tmp_path: Path) -> None:
    memo, reads = FileMemo(), []
    path = tmp_path / "a.txt"

    def read() -> str | None:
        reads.append("a")
        return path.read_text() if path.exists() else None

    assert memo.get([path], read) is None
    path.write_text("x")
    assert memo.get([path], read) == "x"
    path.unlink()
    assert memo.get([path], read) is None
    assert len(reads) == 3


def test_the_same_files_read_for_another_purpose_are_kept_apart(tmp_path: Path) -> None:
    memo = FileMemo()
    path = tmp_path / "a.txt"
    path.write_text("abc")
    assert memo.get([path], lambda: len(path.read_text()), "length") == 3
    assert memo.get([path], lambda: path.read_text().upper(), "upper") == "ABC"


def test_the_catalog_sensor_sees_a_rebuilt_catalog(lake: Lake) -> None:
    """``catalog_tables`` is asked every minute and reads the file only when it was replaced:
    after a rebuild with a new table the new view is there."""
    frame = pl.DataFrame({"date": [dt.date(2025, 9, 1)], "v": [1]})
    lake.write_partitions("t", "date", ["2025-09-01"], frame)
    refresh_catalog(lake)
    assert catalog_tables(lake) == ["t"]
    assert catalog_tables(lake) == ["t"]
    lake.write_partitions("u", "date", ["2025-09-01"], frame)
    refresh_catalog(lake)
    assert catalog_tables(lake) == ["t", "u"]


def test_an_incident_resolved_by_another_store_is_seen_resolved(tmp_path: Path) -> None:
    """Two routers (two sensors) each hold a store over the same folder: what one writes, the
    other reads next, and a record handed out and changed does not change the reused one."""
    first, second = IncidentStore(tmp_path), IncidentStore(tmp_path)
    incident, is_new = first.open_or_update(
        pipeline="engagement", asset="stg_clicks", kind="run_failure", severity="ERROR",
        summary="run failed", at=AT, partitions=["2025-09-01", "2025-09-02"], owner="a",
        action="queue", contacts=[], runbook_step="1",
    )  # fmt: skip
    assert is_new and [i.id for i in second.open_incidents()] == [incident.id]
    handed_out = second.open_incidents()[0]
    handed_out.pending_partitions.append("2025-09-03")  # a caller's change, not written back
    assert second.open_incidents()[0].pending_partitions == ["2025-09-01", "2025-09-02"]
    first.record_success(
        asset="stg_clicks", kinds={"run_failure"}, at=AT, partitions=["2025-09-01"], by="run 1"
    )
    assert second.open_incidents()[0].pending_partitions == ["2025-09-02"]
    resolved = first.record_success(
        asset="stg_clicks", kinds={"run_failure"}, at=AT, partitions=None, by="run 2"
    )
    assert [i.id for i in resolved] == [incident.id]
    assert second.open_incidents() == []
    record = json.loads((tmp_path / "incidents" / f"{incident.id}.json").read_text())
    assert record["status"] == "resolved" and record["resolved_by"] == "run 2"
