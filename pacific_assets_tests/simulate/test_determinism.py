"""Same seed -> byte-identical landing zone and identical truth; another seed -> different data."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pacific_assets.dagster_compat import moved_clock
from pacific_assets.storage.lake import Lake
from pacific_tools.simulate import make_config, simulate


def digest(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_same_seed_gives_identical_files_and_truth(sim_data: Lake, tmp_path: Path) -> None:
    again = Lake(simulate(tmp_path / "again", profile="test", seed=7).data_root)
    assert digest(again.landing) == digest(sim_data.landing)
    for path in sorted(sim_data.truth.glob("*.parquet")):
        assert_frame_equal(pl.read_parquet(again.truth / path.name), pl.read_parquet(path))
    assert json.loads((again.truth / "fault_manifest.json").read_text()) == json.loads(
        (sim_data.truth / "fault_manifest.json").read_text()
    )


def test_another_seed_gives_other_data(sim_data: Lake, tmp_path: Path) -> None:
    other = Lake(simulate(tmp_path / "other", profile="test", seed=8).data_root)
    mine, theirs = digest(sim_data.landing), digest(other.landing)
    shared = set(mine) & set(theirs)
    assert sum(mine[k] != theirs[k] for k in shared) > 0.9 * len(shared)


@pytest.mark.parametrize(
    ("now", "today"),
    [
        (dt.datetime(2026, 3, 1, 23, 59, 59, 999999, tzinfo=dt.UTC), dt.date(2026, 3, 1)),
        (dt.datetime(2026, 3, 2, 0, 0, tzinfo=dt.UTC), dt.date(2026, 3, 2)),
    ],
)
def test_test_profile_does_not_depend_on_today(now: dt.datetime, today: dt.date) -> None:
    # the project's clock is moved (never the wall clock): no race across UTC midnight
    with moved_clock(lambda: now):
        cfg = make_config("test")
        assert (cfg.start, cfg.end) == (dt.date(2025, 9, 1), dt.date(2025, 12, 10))
        # demo runs up to yesterday (UTC): its exclusive end is today
        assert make_config("demo").end == today
        assert make_config("test", days=30).end == dt.date(2025, 10, 1)


def test_demo_profile_starts_on_the_data_roots_first_day(tmp_path, monkeypatch) -> None:
    """The demo company starts on the day its data root records (so its grids never move under
    it); a new data root on the 1st of the month four months back: four closed months and the
    current one, 120-151 days on any date, across a year end and on a leap day."""
    from pacific_assets.data_root import GridsError, record_first_day
    from pacific_tools.simulate.config import demo_first_day

    monkeypatch.delenv("PACIFIC_START_DATE", raising=False)
    D = dt.date
    new = tmp_path / "new"
    assert demo_first_day(new, D(2026, 12, 4)) == D(2026, 8, 1)
    assert demo_first_day(new, D(2027, 1, 31)) == D(2026, 9, 1)
    assert demo_first_day(new, D(2027, 4, 1)) == D(2026, 12, 1)
    assert demo_first_day(new, D(2027, 5, 1)) == D(2027, 1, 1)
    for today in (D(2027, 3, 1), D(2027, 3, 31), D(2028, 2, 29)):
        days = (today - demo_first_day(new, today)).days
        assert 120 <= days <= 151, (today, days)

    old = tmp_path / "old"
    record_first_day(old, D(2026, 6, 1), by="a test")
    assert demo_first_day(old, D(2027, 5, 1)) == D(2026, 6, 1)
    assert make_config("demo", data_root=old).start == D(2026, 6, 1)
    assert make_config("demo", data_root=old, start="2025-12-01").start == D(2025, 12, 1)
    assert make_config("test", data_root=old).start == D(2025, 9, 1)  # fixed dates stay fixed

    # a company from another day is refused before the data root's landing zone is touched
    (old / "landing").mkdir()
    (old / "landing" / "kept").touch()
    with pytest.raises(GridsError, match=r"2025-09-01.*records its first day as 2026-06-01"):
        simulate(old, profile="test")
    assert (old / "landing" / "kept").exists()
