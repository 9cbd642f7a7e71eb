"""What a data root records about itself: the day its company's data starts (the grids' first day).

The partition grids are a fact of the data, not of whoever starts Dagster: `make demo`, plain
``dagster dev``, ``dagster-webserver`` and ``dagster-daemon`` as services, ``dagster asset
materialize``, the replay and the tests all read ``<data_root>/grids.json`` the same way
(``first_day``), so they all see the same partitions (docs/operations.md "The grids' first day").

- A data root that records its first day uses it. ``PACIFIC_START_DATE`` may repeat it; an
  override that disagrees stops the code location from loading (``GridsError``), because grids
  that start elsewhere name partitions the data never had (or hide ones it has).
- A data root with landed files and no record records the earliest landed day (or the override,
  when it is not later than that day) the first time the code location loads: the first files
  that land fix the grids, once.
- A new, empty data root records nothing: the grids start on the override or the default, and
  nothing is built before data lands (``pacific_assets.orchestration.lineage.SourceData``). The simulator
  records the day it simulates a company from.

Standard library and the landing contract only: the grids module reads this at import, and
tools read it before any Dagster code is loaded.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import uuid
from pathlib import Path

from pacific_assets import settings

DATA_ROOT_ENV = settings.DATA_ROOT
DEFAULT_DATA_ROOT = settings.DEFAULTS[settings.DATA_ROOT]
OVERRIDE_ENV = settings.START_DATE
#: The grids' first day when neither the data root nor the environment names one.
DEFAULT_FIRST_DAY = dt.date(2025, 9, 1)
RECORD = "grids.json"


class GridsError(RuntimeError):
    """The grids' first day cannot be decided without contradicting the data root."""


def data_root_from_env() -> Path:
    """The data root every entry point uses: ``PACIFIC_DATA_ROOT`` (default ``./data``)."""
    return settings.load().data_root


def recorded_first_day(data_root: str | os.PathLike[str]) -> dt.date | None:
    """The first day ``<data_root>/grids.json`` records, or None when there is no record."""
    path = Path(data_root) / RECORD
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    try:
        return dt.date.fromisoformat(json.loads(text)["first_day"])
    except (ValueError, KeyError, TypeError) as exc:
        raise GridsError(f"{path} is not a grids record ({exc}); it holds {text[:80]!r}") from exc


def record_first_day(data_root: str | os.PathLike[str], day: dt.date, by: str) -> dt.date:
    """Record ``day`` as the data root's first day, once: an existing record is never replaced
    (a different one raises ``GridsError``). Safe when several processes load at once."""
    root = Path(data_root)
    existing = recorded_first_day(root)
    if existing is not None:
        if existing != day:
            raise GridsError(_disagree(root, existing, day, by))
        return existing
    root.mkdir(parents=True, exist_ok=True)
    body = {
        "first_day": day.isoformat(),
        "recorded_by": by,
        "recorded_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "note": "The partition grids start on first_day (docs/operations.md). Written once.",
    }
    tmp = root / f".{RECORD}.{uuid.uuid4().hex}"
    tmp.write_text(json.dumps(body, indent=2) + "\n")
    try:
        os.link(tmp, root / RECORD)  # fails if another process recorded first
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    return record_first_day(root, day, by)


def earliest_landed_day(data_root: str | os.PathLike[str]) -> dt.date | None:
    """The first day any source landed data for: daily folders (and click ingest days) first,
    else the first month of a monthly source. None when nothing has landed."""
    from pacific_assets.contracts import SOURCES

    landing = Path(data_root) / "landing"
    daily: list[str] = []
    monthly: list[str] = []
    for source in SOURCES.values():
        if source.grain == "none":
            continue
        try:
            names = [e.name for e in os.scandir(landing / source.path) if e.is_dir()]
        except FileNotFoundError:
            continue
        values = [n.split("=", 1)[1] for n in names if "=" in n]
        (daily if source.grain == "daily" else monthly).extend(values)
    if daily:
        return dt.date.fromisoformat(min(daily))
    if monthly:
        return dt.date.fromisoformat(min(monthly) + "-01")
    return None


def first_day(data_root: str | os.PathLike[str], override: str | None = None) -> dt.date:
    """The grids' first day for ``data_root`` (module docstring); ``override``: the value of
    ``PACIFIC_START_DATE``, if set."""
    root = Path(data_root)
    wanted = dt.date.fromisoformat(override) if override else None
    recorded = recorded_first_day(root)
    if recorded is not None:
        if wanted is not None and wanted != recorded:
            raise GridsError(_disagree(root, recorded, wanted, f"{OVERRIDE_ENV}={override}"))
        return recorded
    landed = earliest_landed_day(root)
    if landed is None:
        return wanted or DEFAULT_FIRST_DAY
    if wanted is not None and wanted > landed:
        raise GridsError(
            f"{OVERRIDE_ENV}={override} starts the grids after the first data in {root} "
            f"(landed for {landed}): unset {OVERRIDE_ENV}, or set it to {landed} or earlier"
        )
    how = f"{OVERRIDE_ENV}={override}" if wanted else "the earliest landed day"
    return record_first_day(root, wanted or landed, by=f"code location load: {how}")


def _disagree(root: Path, recorded: dt.date, wanted: dt.date, who: str) -> str:
    return (
        f"{who} asks for grids starting on {wanted}, but data root {root} records its first day "
        f"as {recorded} ({root / RECORD}): unset {OVERRIDE_ENV} (or set it to {recorded}), "
        f"or point {DATA_ROOT_ENV} at another data root"
    )
