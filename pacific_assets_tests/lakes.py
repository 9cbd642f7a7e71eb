"""Lake states for tests of what the schedules and sensors decide."""

from __future__ import annotations

import datetime as dt
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


def land_as_of(
    data_root: Path, first: dt.date, now: dt.datetime, clicks_from: dt.date | None = None
) -> None:
    """A landing zone as the sources left it at ``now``, for a company that started on ``first``:
    an empty file in every folder that has landed by then, at the times the simulator's landing
    schedule documents (``simulate/schedule.py``: daily exports on D+1 after midnight, monthly
    files on the 1st, the filing on the 10th), and one click batch per day, landed at the day's
    end (from ``clicks_from`` on, when the click stream started later). The planner decides from
    folders and the clicks manifest; no row is read. Folders that exist already are left alone."""
    from pacific_assets.contracts import SOURCES
    from pacific_assets.engagement.landing import ClickLanding, batch_name, iso_utc
    from pacific_tools.simulate import schedule as S

    landing = Path(data_root) / "landing"
    days = [first + dt.timedelta(days=i) for i in range((now.date() - first).days + 1)]
    months = sorted({d.replace(day=1) for d in days})
    for name, source in SOURCES.items():
        base = landing / source.path
        if source.grain == "none":
            if S.registry_landed_at(first) <= now and not base.exists():
                base.parent.mkdir(parents=True, exist_ok=True)
                base.touch()
            continue
        if name == "clicks":
            continue
        if source.grain == "daily":
            folders = [(f"date={d}", S.daily_landed_at(name, d)) for d in days]
        else:
            landed_at = S.filing_landed_at if name == "filings" else S.monthly_landed_at
            folders = [(f"month={m:%Y-%m}", landed_at(m)) for m in months]
        for folder, landed_at in folders:
            if landed_at <= now and not (base / folder).exists():
                (base / folder).mkdir(parents=True)
                (base / folder / f"export.{source.fmt}").touch()
    clicks = ClickLanding(landing)
    done = {e.event_dates for e in clicks.manifest()}
    for number, d in enumerate(days, start=1):
        landed_at = dt.datetime.combine(d, dt.time(23, 59), dt.UTC)
        if landed_at > now or (d.isoformat(),) in done or d < (clicks_from or first):
            continue
        folder = clicks.root / f"ingest_date={d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / batch_name(number)).touch()
        clicks.append_manifest(
            {
                "batch": batch_name(number),
                "ingest_date": d.isoformat(),
                "event_dates": [d.isoformat()],
                "rows": 0,
                "landed_at": iso_utc(landed_at),
            }
        )


def delivered_through(data_root: Path, day: dt.date) -> None:
    """A header-only directory export for ``day``: the data root's sources have delivered
    through ``day`` (its horizon, docs/operations.md §3), so the days without a file of a
    test's own source up to then are quiet days, not days no source has reached yet."""
    from pacific_assets.contracts import DIRECTORY_USERS

    folder = Path(data_root) / "landing" / DIRECTORY_USERS.path / f"date={day}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "users-delivered.csv").write_text(",".join(DIRECTORY_USERS.columns) + "\n")
