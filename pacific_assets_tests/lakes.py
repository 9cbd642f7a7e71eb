"""Lake states for tests of what the schedules and sensors decide."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


def mark_built(data_root: Path, table: str, keys: Iterable[str]) -> None:
    """Partitions the planner sees as built and trusted: a live version without lineage (as
    written before lineage existed) and without rows. Existing partitions are left alone."""
    tdir = Path(data_root) / "lake" / table
    versions = tdir / "_versions"
    versions.mkdir(parents=True, exist_ok=True)
    for key in keys:
        link = tdir / f"k={key}"
        if any(tdir.glob(f"*={key}")):
            continue
        (versions / f"k={key}.0").mkdir()
        link.symlink_to(f"_versions/k={key}.0")
