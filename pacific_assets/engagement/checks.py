"""SLA checks of the engagement pipeline (runbook: data within 48 h of event time).

The 48 h time-window freshness policy itself is declared in ``engagement/pipeline.py`` and
stamped on every engagement asset; it only says *some* partition materialized recently. This
check looks at the data: the newest event timestamp in ``stg_clicks`` must be within 48 h of
now. "Now" comes from an injectable clock so tests can move it. ``pipeline.py`` also hands
operations' ``sla_checks_sensor`` how to judge it now (``newest_click_verdict``), so a passing
deadline runs it within a minute like every SLA check.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
from collections.abc import Callable

import dagster as dg
import duckdb

from pacific_assets.orchestration import clock
from pacific_assets.resources import LakeResource
from pacific_assets.storage.lake import Lake
from pacific_assets.storage.unchanged import FileMemo

SLA = dt.timedelta(hours=48)
Clock = Callable[[], dt.datetime]


def system_clock() -> dt.datetime:
    return clock.now()


#: The newest event of each run of partition files read, reused while those files are unchanged
#: (sla_checks_sensor asks every minute; storage/unchanged.py).
_NEWEST = FileMemo(size=256)


def newest_event_ts(
    lake: Lake, connection: Callable[[], duckdb.DuckDBPyConnection]
) -> dt.datetime | None:
    """The newest event_ts in ``stg_clicks``; ``connection()`` opens DuckDB when a file has to
    be read (not when every file read is unchanged since the last call).

    Its partitions are UTC event dates (stg_clicks.sql routes every event by its date), so the
    newest event is in the newest partition that holds a row: partitions are read newest first,
    a week, then twice as many, and so on, rather than every file of the table each minute (a
    second per SLA tick at ten years of days; the same answer).
    """
    files = lake.partition_files("stg_clicks")  # in key order
    end, batch = len(files), 7
    while end > 0:
        start = max(0, end - batch)
        chunk = files[start:end]
        newest = _NEWEST.get(
            chunk,
            lambda chunk=chunk: (
                connection()
                .execute(
                    "SELECT max(event_ts) FROM read_parquet($files, hive_partitioning = false, "
                    "union_by_name = true)",
                    {"files": chunk},
                )
                .fetchone()[0]
            ),
        )
        if newest is not None:
            return newest
        end, batch = start, batch * 2
    return None


def freshness_result(newest: dt.datetime | None, now: dt.datetime) -> dg.AssetCheckResult:
    if newest is None:
        return dg.AssetCheckResult(
            passed=False, description="no click has been staged yet", metadata={"now": str(now)}
        )
    age = now - newest
    return dg.AssetCheckResult(
        passed=age <= SLA,
        metadata={
            "newest_event_ts": str(newest),
            "now": str(now),
            "age_hours": round(age.total_seconds() / 3600, 2),
        },
        description=(
            f"newest event {newest:%Y-%m-%d %H:%M} UTC is {age.total_seconds() / 3600:.1f} h old "
            f"({'within' if age <= SLA else 'OUTSIDE'} the 48 h SLA)"
        ),
    )


def build_newest_event_check(clock: Clock = system_clock) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset="stg_clicks",
        name="newest_event_within_48h",
        description=(
            "SLA: the newest event timestamp in stg_clicks is within 48 h of now. Fails when "
            "clicks stopped arriving (Kafka down, ingestion stopped): page the data-engineering "
            "owner of the week, who asks the SWE contact whether the frontend still sends."
        ),
    )
    def newest_event_within_48h(lake: LakeResource) -> dg.AssetCheckResult:
        with contextlib.ExitStack() as opened:
            newest = newest_event_ts(lake.lake, _once(lambda: opened.enter_context(lake.duckdb())))
        return freshness_result(newest, clock())

    return newest_event_within_48h


newest_event_within_48h = build_newest_event_check()


def newest_click_verdict(lake: Lake, now: dt.datetime) -> tuple:
    """What ``newest_event_within_48h`` would say at ``now``, for ``sla_checks_sensor``: pass or
    fail only (its text names the age, which changes every minute)."""
    from pacific_assets.storage.duck import connect

    with contextlib.ExitStack() as opened:
        newest = newest_event_ts(lake, _once(lambda: opened.enter_context(connect(lake=lake))))
    return (freshness_result(newest, now).passed,)


def _once(
    open_connection: Callable[[], duckdb.DuckDBPyConnection],
) -> Callable[[], duckdb.DuckDBPyConnection]:
    """``open_connection`` on the first call, the same connection after."""
    return functools.cache(open_connection)
