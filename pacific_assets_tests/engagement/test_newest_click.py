"""The newest staged click, which the 48 h SLA check judges (engagement/checks.py): found in the
newest partition that holds a row, however many empty days follow it."""

from __future__ import annotations

import datetime as dt

import polars as pl

from pacific_assets.columns import declared
from pacific_assets.engagement.checks import newest_event_ts
from pacific_assets.storage.duck import connect
from pacific_assets.storage.lake import Lake

D = dt.date


def _clicks(lake: Lake, days: list[D], events: dict[D, list[str]]) -> None:
    """stg_clicks partitions for ``days``; ``events`` day -> event times (HH:MM) of that day."""
    schema = declared("stg_clicks").polars()
    rows = [
        {
            "event_id": f"{day}-{i}",
            "event_ts": dt.datetime.fromisoformat(f"{day}T{hhmm}:00+00:00"),
            "event_date": day,
        }
        for day, times in events.items()
        for i, hhmm in enumerate(times)
    ]
    frame = pl.DataFrame(rows, schema=schema) if rows else pl.DataFrame(schema=schema)
    lake.write_partitions("stg_clicks", "event_date", [d.isoformat() for d in days], frame)


def test_the_newest_click_behind_three_weeks_of_empty_days(lake: Lake) -> None:
    """Clicks on 09-01 (latest 23:10) and 09-03 (latest 17:45), then 25 empty days: the newest is
    09-03 17:45, though the newest week (and the two before it) holds no row. (Fails if the
    search stops after the newest week of partitions.)"""
    days = [D(2025, 9, 1) + dt.timedelta(days=i) for i in range(28)]
    _clicks(lake, days, {D(2025, 9, 1): ["08:00", "23:10"], D(2025, 9, 3): ["17:45", "09:30"]})
    with connect() as con:
        assert newest_event_ts(lake, lambda: con) == dt.datetime(2025, 9, 3, 17, 45, tzinfo=dt.UTC)


def test_no_click_at_all(lake: Lake) -> None:
    with connect() as con:
        assert newest_event_ts(lake, lambda: con) is None  # no partition
        _clicks(lake, [D(2025, 9, 1), D(2025, 9, 2)], {})
        assert newest_event_ts(lake, lambda: con) is None  # only empty days


def test_unchanged_partitions_are_not_read_again_and_a_rebuilt_one_is(lake: Lake) -> None:
    """sla_checks_sensor asks every minute: while no stg_clicks file changed, no DuckDB
    connection is opened; a rebuilt newest day is read again (storage/unchanged.py)."""
    days = [D(2025, 9, 1), D(2025, 9, 2)]
    _clicks(lake, days, {D(2025, 9, 2): ["10:00"]})
    opened: list[int] = []
    with connect() as con:

        def connection():
            opened.append(1)
            return con

        assert newest_event_ts(lake, connection) == dt.datetime(2025, 9, 2, 10, tzinfo=dt.UTC)
        assert len(opened) == 1
        assert newest_event_ts(lake, connection) == dt.datetime(2025, 9, 2, 10, tzinfo=dt.UTC)
        assert len(opened) == 1  # nothing changed: nothing read
        _clicks(lake, [D(2025, 9, 2)], {D(2025, 9, 2): ["10:00", "21:30"]})
        assert newest_event_ts(lake, connection) == dt.datetime(2025, 9, 2, 21, 30, tzinfo=dt.UTC)
        assert len(opened) == 2
