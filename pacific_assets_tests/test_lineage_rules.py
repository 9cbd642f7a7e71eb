"""Lineage rules on a small hand-made lake: which upstream partitions a partition's inputs digest
covers (pacific_assets/orchestration/lineage.py), so what makes it stale is exactly what it reads."""

from __future__ import annotations

import datetime as dt

import polars as pl

from pacific_assets.orchestration.lineage import AssetLineage, LakeState, Read
from pacific_assets.storage.lake import Lake

D = dt.date


def _write(lake: Lake, day: str, value: int) -> None:
    frame = pl.DataFrame({"date": [D.fromisoformat(day)], "x": [value]})
    lake.write_partitions("up", "date", [day], frame)


def test_preceding_reads_the_days_before_the_period_and_not_the_day_itself(lake: Lake) -> None:
    """``preceding`` with ``days_before`` 3: partition 09-08 reads up's 09-05, 09-06 and 09-07.
    A new version of 09-07 or 09-05 changes its inputs; one of 09-04 or of 09-08 itself does not
    (a unit's pre-period ends the day before its assignment). (Fails if ``read_bounds`` ends the
    ``preceding`` window at the period's end instead of its start.)"""
    for i in range(1, 11):
        _write(lake, f"2025-09-{i:02d}", i)
    spec = AssetLineage("down", "daily", (Read("up", "preceding", days_before=3),))

    def inputs() -> tuple[str, dict[str, str]]:
        return spec.inputs(LakeState(lake), "2025-09-08")

    digest, summary = inputs()
    assert summary == {"up": "3 partition(s)"}
    for day, read in (("2025-09-08", False), ("2025-09-04", False), ("2025-09-07", True)):
        _write(lake, day, 100)
        now, _ = inputs()
        assert (now != digest) is read, day
        digest = now
    _write(lake, "2025-09-05", 100)
    assert inputs()[0] != digest
