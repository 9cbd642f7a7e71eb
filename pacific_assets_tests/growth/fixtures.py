"""Hand-written CRM events: staged straight into the lake, or landed as JSONL for real staging."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence

import dagster as dg
import polars as pl

from pacific_assets.contracts import ACCOUNT_EVENTS, SOURCES
from pacific_assets.growth.assets import (
    account_growth,
    account_growth_monthly,
    account_status_daily,
    account_status_history,
)
from pacific_assets.orchestration import partitions
from pacific_assets.resources import LakeResource
from pacific_assets.staging.assets import staging_columns
from pacific_assets.storage.lake import Lake
from pacific_assets_tests.runs import range_tags

STG_SCHEMA = staging_columns(SOURCES["account_events"])


def ts(value: str) -> dt.datetime:
    """'2025-09-03' (noon UTC) or '2025-09-03T08:00' -> an aware UTC datetime."""
    if "T" not in value:
        value += "T12:00"
    return dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)


def event(
    event_id: str,
    account_id: str,
    event_type: str,
    effective: str,
    *,
    recorded: str | None = None,
    plan: str | None = None,
    seats: int | None = None,
    contract_end: str | None = None,
    mrr: float | None = None,
) -> dict:
    """One CRM event; ``recorded`` defaults to one minute after it took effect (on time)."""
    effective_at = ts(effective)
    return {
        "event_id": event_id,
        "account_id": account_id,
        "event_type": event_type,
        "effective_at": effective_at,
        "recorded_at": ts(recorded) if recorded else effective_at + dt.timedelta(minutes=1),
        "plan": plan,
        "seats": seats,
        "contract_end": dt.date.fromisoformat(contract_end) if contract_end else None,
        "mrr_usd": mrr,
    }


def terms(plan: str, seats: int, contract_end: str, mrr: float) -> dict:
    """The contract a paid event carries (plan, seats, term end, MRR), as ``event`` keywords.

    Paid events repeat all four; one call keeps each event on a line, so a story reads as a table.
    """
    return {"plan": plan, "seats": seats, "contract_end": contract_end, "mrr": mrr}


def events_frame(events: Iterable[dict]) -> pl.DataFrame:
    return pl.DataFrame(list(events), schema=ACCOUNT_EVENTS.columns, orient="row")


def stage_events(lake: Lake, events: Iterable[dict], extra_days: Sequence[str] = ()) -> list[str]:
    """Write events into stg_account_events, one partition per day the CRM recorded them.

    Events recorded before the grid start land in its first partition (the initial load), as
    the simulator does. ``extra_days`` are written empty. Returns the partition keys written.
    """
    start = partitions.daily.start.date()
    day = pl.max_horizontal(pl.col("recorded_at").dt.date(), pl.lit(start))
    frame = (
        events_frame(events)
        .with_columns(day.alias("export_date"))
        .with_columns(
            pl.format("crm/account_events/date={}/events.jsonl", "export_date").alias(
                "_source_file"
            ),
            pl.int_range(1, pl.len() + 1).over("export_date").alias("_row_number"),
        )
        .cast(STG_SCHEMA)
    )
    keys = sorted(set(frame["export_date"].cast(pl.String).to_list()) | set(extra_days))
    lake.write_partitions("stg_account_events", "export_date", keys, frame)
    return keys


def land_events(lake: Lake, events: Iterable[dict]) -> list[str]:
    """Land events as CRM JSONL export files (one per recorded day); returns the landing days."""
    by_day: dict[str, list[dict]] = {}
    for e in events:
        by_day.setdefault(e["recorded_at"].date().isoformat(), []).append(e)
    for day, rows in by_day.items():
        folder = lake.landing / ACCOUNT_EVENTS.path / f"date={day}"
        folder.mkdir(parents=True, exist_ok=True)
        lines = [json.dumps({k: _json_value(v) for k, v in r.items()}) for r in rows]
        (folder / f"events-{len(list(folder.iterdir())) + 1:04d}.jsonl").write_text(
            "\n".join(lines) + "\n"
        )
    return sorted(by_day)


def _json_value(v: object) -> object:
    if isinstance(v, dt.datetime):
        return v.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(v, dt.date):
        return v.isoformat()
    return v


def materialize(
    assets: list[dg.AssetsDefinition],
    lake_resource: LakeResource,
    instance: dg.DagsterInstance,
    first: str | None = None,
    last: str | None = None,
) -> dg.ExecuteInProcessResult:
    """One run of ``assets`` (one partition grid) over ``first..last``."""
    result = dg.materialize(
        assets,
        resources={"lake": lake_resource},
        instance=instance,
        tags=range_tags(first, last) if first else {},
    )
    assert result.success
    return result


def keys_within(pdef: dg.TimeWindowPartitionsDefinition, first: str, last: str) -> list[str]:
    """Keys of the partitions whose whole window lies inside the days ``first..last``."""
    lo, hi = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
    out = []
    for key in pdef.get_partition_keys(current_time=dt.datetime(2030, 1, 1, tzinfo=dt.UTC)):
        window = pdef.time_window_for_partition_key(key)
        if window.start.date() >= lo and window.end.date() - dt.timedelta(days=1) <= hi:
            out.append(key)
    return out


def materialize_growth(
    lake_resource: LakeResource,
    first_day: str,
    last_day: str,
    instance: dg.DagsterInstance | None = None,
) -> None:
    """History, daily facts for ``first_day..last_day``, then the weeks and months inside."""
    instance = instance or dg.DagsterInstance.ephemeral()
    materialize([account_status_history], lake_resource, instance)
    materialize([account_status_daily], lake_resource, instance, first_day, last_day)
    for asset, pdef in (
        (account_growth, partitions.weekly),
        (account_growth_monthly, partitions.monthly),
    ):
        keys = keys_within(pdef, first_day, last_day)
        if keys:
            materialize([asset], lake_resource, instance, keys[0], keys[-1])
