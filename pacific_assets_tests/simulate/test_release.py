"""LandingRelease lands the simulated files into a live data root at their scheduled times.

Real files throughout: the replay profile (``replay_data``) is the source, a fresh tmp data root
the target. Simulated time is given explicitly; nothing here reads the wall clock.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import os
from pathlib import Path

import polars as pl
import pytest

from pacific_assets.engagement.landing import ClickLanding
from pacific_assets.storage.lake import Lake
from pacific_tools.simulate.release import INGEST_LOCK, LandingRelease, ReleaseConflict

MANIFEST = "clickstream/_manifest.jsonl"
FAR_FUTURE = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
US = dt.timedelta(microseconds=1)


def visible(landing: Path) -> dict[str, str]:
    """Every file a reader sees (hidden names excluded), with its content hash."""
    return {
        p.relative_to(landing).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(landing.rglob("*"))
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(landing).parts)
    }


def hidden(landing: Path) -> list[str]:
    return sorted(
        p.relative_to(landing).as_posix()
        for p in landing.rglob(".*")
        if p.relative_to(landing).as_posix() != INGEST_LOCK
    )


def mtime_of(path: Path) -> dt.datetime:
    return dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(
        microseconds=path.stat().st_mtime_ns // 1000
    )


def test_every_file_lands_at_its_time_and_not_before(replay_data: Lake, tmp_path: Path) -> None:
    release = LandingRelease(replay_data.root, tmp_path / "live")
    target = tmp_path / "live" / "landing"
    schedule = release.schedule
    source_manifest = (replay_data.landing / MANIFEST).read_bytes().splitlines(keepends=True)
    times = schedule["landed_at"].unique().sort().to_list()
    assert release.next_landing_after(times[0] - US) == times[0]
    assert release.release_until(times[0] - US) == []
    assert not target.exists() or visible(target) == {}
    batches_released = 0
    for step, t in enumerate(times):
        now = schedule.filter(pl.col("landed_at") == t)
        files = [r for r in now.iter_rows(named=True) if r["kind"] != "manifest"]
        for row in files:  # not there a microsecond before its time
            assert not (target / row["path"]).exists(), row
        assert release.release_until(t - US) == []
        released = release.release_until(t)
        assert release.next_landing_after(t) == (times[step + 1] if step + 1 < len(times) else None)
        expected = [r["path"] for r in files]
        # the manifest is complete (released) with the last batch
        expected += now.filter(pl.col("kind") == "manifest")["path"].to_list()
        assert sorted(r["path"] for r in released) == sorted(expected)
        assert all(r["landed_at"] == t for r in released)
        for row in files:
            assert mtime_of(target / row["path"]) == t, row["path"]
        batches_released += sum(r["kind"] == "batch" for r in files)
        if batches_released and (step % 97 == 0 or any(r["kind"] == "batch" for r in files)):
            # the manifest is the source's first lines, one per released batch, in order
            landed = (target / MANIFEST).read_bytes()
            assert landed == b"".join(source_manifest[:batches_released])
            assert mtime_of(target / MANIFEST) <= t
        if step % 97 == 0:
            due = schedule.filter(pl.col("landed_at") <= t)
            assert set(visible(target)) == set(due["path"]) | (
                {MANIFEST} if batches_released else set()
            )
    # after the horizon: the target is the source, byte for byte, and nothing is pending
    assert visible(target) == visible(replay_data.landing)
    assert hidden(target) == []
    assert release.pending().is_empty()
    last_batch = schedule.filter(pl.col("kind") == "batch")["landed_at"].max()
    assert mtime_of(target / MANIFEST) == last_batch
    assert release.next_landing_after(schedule["landed_at"].max()) is None


def expected_at(source: Lake, schedule: pl.DataFrame, t: dt.datetime) -> dict[str, str]:
    """What a reader must see at ``t``: every file due by then, as in the source, and the
    manifest's first lines, one per batch due."""
    due = schedule.filter(pl.col("landed_at") <= t)
    out = {
        p: hashlib.sha256((source.landing / p).read_bytes()).hexdigest()
        for p in due["path"]
        if p != MANIFEST
    }
    batches = due.filter(pl.col("kind") == "batch").height
    if batches:
        lines = (source.landing / MANIFEST).read_bytes().splitlines(keepends=True)
        out[MANIFEST] = hashlib.sha256(b"".join(lines[:batches])).hexdigest()
    return out


def with_mtimes(landing: Path) -> dict[str, tuple[str, int]]:
    return {p: (h, (landing / p).stat().st_mtime_ns) for p, h in visible(landing).items()}


def test_a_rerun_or_a_new_process_releases_nothing_twice(replay_data: Lake, tmp_path: Path) -> None:
    live = tmp_path / "live"
    target = live / "landing"
    first = LandingRelease(replay_data.root, live)
    schedule = first.schedule
    middle = dt.datetime(2025, 9, 8, 12, tzinfo=dt.UTC)
    later = dt.datetime(2025, 9, 12, 12, tzinfo=dt.UTC)
    released = first.release_until(middle)
    due = schedule.filter(pl.col("landed_at") <= middle)
    assert sorted(r["path"] for r in released) == sorted(due["path"])
    assert visible(target) == expected_at(replay_data, schedule, middle)
    before = with_mtimes(target)
    # the same instance, and a new one that only sees the folder: nothing again
    assert first.release_until(middle) == []
    second = LandingRelease(replay_data.root, live)
    assert second.release_until(middle) == []
    assert second.pending().equals(first.pending())
    assert second.pending().height == schedule.height - due.height
    assert with_mtimes(target) == before
    # the new one carries on; files already landed are never touched again
    rest = second.release_until(later)
    window = schedule.filter((pl.col("landed_at") > middle) & (pl.col("landed_at") <= later))
    assert sorted(r["path"] for r in rest) == sorted(window["path"])
    assert visible(target) == expected_at(replay_data, schedule, later)
    now = with_mtimes(target)
    assert all(now[p] == v for p, v in before.items() if p != MANIFEST)
    assert first.release_until(later) == [] and second.release_until(later) == []


def test_a_crash_mid_release_is_finished_by_the_next_run(replay_data: Lake, tmp_path: Path) -> None:
    live = tmp_path / "live"
    target = live / "landing"
    release = LandingRelease(replay_data.root, live)
    release.release_until(dt.datetime(2025, 9, 6, tzinfo=dt.UTC))
    pending = release.pending()
    batch = pending.filter(pl.col("kind") == "batch").row(0, named=True)
    other = pending.filter(pl.col("kind") == "export").row(0, named=True)
    # a crash after the batch file was linked, before its manifest line was appended ...
    dst = target / batch["path"]
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_bytes((replay_data.landing / batch["path"]).read_bytes())
    # ... with a torn manifest line, and a half-written temp file of another export
    with open(target / MANIFEST, "ab") as fh:
        fh.write(b'{"batch": "batch-99999999.js')
    final = target / other["path"]
    final.parent.mkdir(parents=True, exist_ok=True)
    (final.parent / f".{final.name}.release-tmp").write_bytes(b"half a fi")
    fresh = LandingRelease(replay_data.root, live)
    assert batch["path"] in set(fresh.pending()["path"])  # no manifest line: not landed yet
    t = dt.datetime(2025, 9, 8, tzinfo=dt.UTC)
    released = {r["path"] for r in fresh.release_until(t)}
    assert other["path"] in released
    assert batch["path"] not in released  # the file was already there; only its line was due
    assert visible(target) == expected_at(replay_data, release.schedule, t)
    assert hidden(target) == []


def test_a_different_file_under_a_scheduled_name_is_never_replaced(
    replay_data: Lake, tmp_path: Path
) -> None:
    live = tmp_path / "live"
    release = LandingRelease(replay_data.root, live)
    row = release.schedule.filter(pl.col("kind") == "initial_load").row(0, named=True)
    squatter = live / "landing" / row["path"]
    squatter.parent.mkdir(parents=True)
    squatter.write_text("someone else's file\n")
    with pytest.raises(ReleaseConflict, match="never replaced"):
        release.release_until(row["landed_at"])
    assert squatter.read_text() == "someone else's file\n"


def test_times_must_be_aware(replay_data: Lake, tmp_path: Path) -> None:
    release = LandingRelease(replay_data.root, tmp_path / "live")
    with pytest.raises(ValueError, match="time zone"):
        release.release_until(dt.datetime(2025, 9, 2))
    with pytest.raises(ValueError, match="same landing"):
        LandingRelease(replay_data.root, replay_data.root)


def test_batches_land_under_the_click_ingestion_lock(replay_data: Lake, tmp_path: Path) -> None:
    """The release and the engagement ingestion take the same lock, so ingestion never
    registers a batch whose manifest line the release is about to append."""
    live = tmp_path / "live"
    LandingRelease(replay_data.root, live).release_until(dt.datetime(2025, 9, 2, tzinfo=dt.UTC))
    lock = live / "landing" / INGEST_LOCK
    assert lock.exists()
    with (
        ClickLanding(live / "landing").lock(),
        open(lock, "w") as fh,
        pytest.raises(BlockingIOError),
    ):
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    with open(lock, "w") as fh:  # free again once ingestion is done
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(fh, fcntl.LOCK_UN)
    assert os.path.getsize(lock) == 0
