"""The one clock of the project: "now" for every asset, check, sensor and schedule decision.

It is Dagster's own clock (wall time in production), so that the replay harness and the tests can
move Dagster and the project together: partition grids, schedules, sensor intervals, freshness
evaluation and the assets' own notion of "now" (which hours are settled, which periods have ended,
when an alert fired) always agree. Wall time only ever comes from here; durations (timeouts,
benchmarks) use ``time.monotonic`` instead, which no frozen clock touches.
"""

from __future__ import annotations

import datetime as dt

from pacific_assets.orchestration.dagster_compat import dagster_now


def now() -> dt.datetime:
    """The current instant, timezone-aware UTC."""
    return dagster_now()


def parse_instant(text: str) -> dt.datetime:
    """An ISO-8601 instant (``Z`` or an offset; naive means UTC) as aware UTC."""
    at = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at.astimezone(dt.UTC)
