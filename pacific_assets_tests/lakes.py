"""Lake states for tests of what the schedules and sensors decide."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path


def mark_built(data_root: Path, table: str, keys: Iterable[str]) -> None:
    """Partitions the planner sees as built and trusted: a live version without lineage (as
    written before lineage existed) and without rows. Existing partitions are left alone."""
    tdir = Path(data_root) / "lake" / table
    versions = tdir / "_versions"
    versions.mkdir(parents=True, exist_ok=True)
    # the table's partitions (``<column>=<key>``), listed once: a glob per key made the
    # calendar-edge tests quadratic in the number of days (a leap day in 2028: ~900 per table)
    existing = {name.rpartition("=")[2] for name in os.listdir(tdir) if "=" in name}
    for key in keys:
        link = tdir / f"k={key}"
        if key in existing:
            continue
        existing.add(key)
        (versions / f"k={key}.0").mkdir()
        link.symlink_to(f"_versions/k={key}.0")
