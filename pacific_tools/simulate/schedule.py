"""When each landed file lands: the landing schedule (``truth/landing_schedule.parquet``).

The simulator writes the whole landing zone at once; a replay (``release.LandingRelease``) lands it
file by file as simulated time advances. This module holds the rules for *when*, as named
constants, so the schedule, the docs (docs/simulator.md, "Landing schedule") and the tests agree:

- click batches: the batch's own ``landed_at`` (slot end − 1 ms, see ``clicks.py``);
- daily folders ``date=D``: on D+1 at a per-source minute after midnight UTC
  (``DAILY_LANDING_MINUTE``); a late billing export lands whole days later;
- monthly folders ``month=M`` (ops expenses, salaries): the 1st of the next month, 06:00 UTC;
- filings ``month=M``: the 10th of the next month, 12:00 UTC (the accountant files after close);
- the experiment registry: the first simulated day, 00:00 UTC.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

SCHEDULE_FILE = "landing_schedule.parquet"
UTC_US = pl.Datetime("us", "UTC")
SCHEDULE_SCHEMA: dict[str, pl.DataType] = {
    "path": pl.String,  # relative to landing/, POSIX separators
    "source": pl.String,  # contracts source name
    "landed_at": UTC_US,
    "kind": pl.String,
}

#: a click batch (``clickstream/ingest_date=*/batch-*.jsonl``)
KIND_BATCH = "batch"
#: the clickstream manifest: append-only, one line per batch appended right after that batch
#: lands; its ``landed_at`` is when it is complete (the last batch's time)
KIND_MANIFEST = "manifest"
#: a normal daily or monthly export
KIND_EXPORT = "export"
#: the first daily folder of a source that carries the history from before the start
KIND_INITIAL_LOAD = "initial_load"
#: a daily billing export that lands days later than normal (fault ``late_billing_exports``)
KIND_LATE_EXPORT = "late_export"
#: a second file in an already landed billing folder that restates a line (fault
#: ``corrected_billing_exports``)
KIND_CORRECTION = "correction"
KIND_REGISTRY = "registry"
KIND_FILING = "filing"
KINDS = (
    KIND_BATCH,
    KIND_MANIFEST,
    KIND_EXPORT,
    KIND_INITIAL_LOAD,
    KIND_LATE_EXPORT,
    KIND_CORRECTION,
    KIND_REGISTRY,
    KIND_FILING,
)

#: minutes after midnight UTC of D+1 at which the daily folder ``date=D`` lands, per source (the
#: source systems export one after the other, so a replay sees a realistic order)
DAILY_LANDING_MINUTE: dict[str, int] = {
    "directory_users": 10,
    "accounts": 20,
    "account_events": 25,
    "invoice_lines": 30,
    "experiment_assignments": 40,
}
#: monthly ops expenses and salaries land on the 1st of the next month at this time (UTC)
MONTHLY_LANDING_TIME = dt.time(6, 0)
#: the accountant files month M on this day of the next month, at FILING_LANDING_TIME (UTC)
FILING_LANDING_DAY = 10
FILING_LANDING_TIME = dt.time(12, 0)
#: the experiment registry is there from the first simulated day, at this time (UTC)
REGISTRY_LANDING_TIME = dt.time(0, 0)


def _at(d: dt.date, t: dt.time) -> dt.datetime:
    return dt.datetime.combine(d, t, tzinfo=dt.UTC)


def _next_month(d: dt.date) -> dt.date:
    return dt.date(d.year + (d.month == 12), d.month % 12 + 1, 1)


def daily_landed_at(source: str, day: dt.date, days_late: int = 0) -> dt.datetime:
    """Landing time of the daily folder ``date=day`` of ``source`` (``days_late`` whole days
    later for a late export)."""
    minute = DAILY_LANDING_MINUTE[source]
    return _at(day + dt.timedelta(days=1 + days_late), dt.time(minute // 60, minute % 60))


def monthly_landed_at(month: dt.date) -> dt.datetime:
    """Landing time of a ``month=M`` folder of ops expenses or salaries (any day of M given)."""
    return _at(_next_month(month), MONTHLY_LANDING_TIME)


def filing_landed_at(month: dt.date) -> dt.datetime:
    """Landing time of the filing of month M (any day of M given)."""
    return _at(_next_month(month).replace(day=FILING_LANDING_DAY), FILING_LANDING_TIME)


def registry_landed_at(start: dt.date) -> dt.datetime:
    """Landing time of the experiment registry: the first simulated day."""
    return _at(start, REGISTRY_LANDING_TIME)


def schedule_frame(rows: list[tuple[str, str, dt.datetime, str]]) -> pl.DataFrame:
    """(path, source, landed_at, kind) tuples -> the schedule frame, sorted (landed_at, path)."""
    frame = pl.DataFrame(rows, schema=SCHEDULE_SCHEMA, orient="row")
    return frame.sort(["landed_at", "path"])


def read_landing_schedule(root: str | Path) -> pl.DataFrame:
    """The schedule of a simulated data root (``<root>/truth/landing_schedule.parquet``): one row
    per landed file, sorted by (landed_at, path)."""
    path = Path(root).expanduser() / "truth" / SCHEDULE_FILE
    frame = pl.read_parquet(path)
    if dict(frame.schema) != SCHEDULE_SCHEMA:
        raise ValueError(f"{path}: columns {dict(frame.schema)} != {SCHEDULE_SCHEMA}")
    return frame.sort(["landed_at", "path"])


__all__ = [
    "DAILY_LANDING_MINUTE",
    "FILING_LANDING_DAY",
    "FILING_LANDING_TIME",
    "KINDS",
    "MONTHLY_LANDING_TIME",
    "REGISTRY_LANDING_TIME",
    "SCHEDULE_SCHEMA",
    "daily_landed_at",
    "filing_landed_at",
    "monthly_landed_at",
    "read_landing_schedule",
    "registry_landed_at",
]
