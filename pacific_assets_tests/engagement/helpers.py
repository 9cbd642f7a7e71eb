"""Small builders for engagement tests: directory rows in the lake, click batches in landing."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence

import dagster as dg
import polars as pl

from pacific_assets.contracts import SOURCES
from pacific_assets.engagement.assets import ASSETS
from pacific_assets.engagement.ingest import ClicksKafkaResource
from pacific_assets.engagement.landing import ClickLanding, batch_name
from pacific_assets.resources import LakeResource
from pacific_assets.staging.assets import staging_columns
from pacific_assets.storage.lake import Lake
from pacific_assets_tests.runs import range_tags

UTC = dt.UTC
#: stg_directory_users as staging publishes it.
DIRECTORY_SCHEMA = staging_columns(SOURCES["directory_users"])


def ts(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def write_directory(lake: Lake, rows: Sequence[dict]) -> None:
    """stg_directory_users as staging writes it (one partition per export_date)."""
    frame = pl.DataFrame(
        [
            {
                **r,
                "created_at": ts(r["created_at"]),
                "deactivated_at": ts(r["deactivated_at"]) if r.get("deactivated_at") else None,
                "export_date": dt.date.fromisoformat(r["export_date"]),
                "_source_file": f"directory/users/date={r['export_date']}/users.csv",
                "_row_number": i + 1,
            }
            for i, r in enumerate(rows)
        ],
        schema=DIRECTORY_SCHEMA,
    )
    keys = sorted({r["export_date"] for r in rows})
    lake.write_partitions("stg_directory_users", "export_date", keys, frame)


def click(event_id: str, user: str, account: str, event_ts: str, **extra) -> dict:
    return {
        "event_id": event_id,
        "user_id": user,
        "account_id": account,
        "event_ts": event_ts,
        "sent_at": event_ts,
        "page": "home",
        "action": "view",
        **extra,
    }


def land_simulator_batch(
    lake: Lake,
    number: int,
    landed_at: str,
    records: Iterable[dict],
    extra_lines: Iterable[str] = (),
    register: bool = False,
) -> str:
    """A batch file as the simulator lands it (no manifest line unless ``register``)."""
    landing = ClickLanding(lake.landing)
    day = landed_at[:10]
    folder = landing.root / f"ingest_date={day}"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / batch_name(number)
    with open(path, "w") as fh:
        for r in records:
            fh.write(
                json.dumps({**r, "landed_at": landed_at, "partition": None, "offset": None}) + "\n"
            )
        for line in extra_lines:
            fh.write(line + "\n")
    if register:
        fields, _bad = landing.describe_file(path)
        landing.append_manifest(fields)
    return path.name


def resources(lake: Lake, **kafka) -> dict:
    return {
        "lake": LakeResource(data_root=str(lake.root), duckdb_memory_limit="1GB", duckdb_threads=2),
        "clicks_kafka": ClicksKafkaResource(**kafka),
    }


def materialize(
    lake: Lake,
    selection: Sequence[str],
    start: str | None = None,
    end: str | None = None,
    instance: dg.DagsterInstance | None = None,
    run_config: dict | None = None,
    assets: Sequence = ASSETS,
    **kafka,
) -> dg.ExecuteInProcessResult:
    """Materialize engagement assets (a partition range in one run when start/end are given)."""
    tags = range_tags(start, end or start) if start else {}
    return dg.materialize(
        list(assets),
        selection=list(selection),
        resources=resources(lake, **kafka),
        instance=instance or dg.DagsterInstance.ephemeral(),
        tags=tags,
        run_config=run_config,
    )


def read_sorted(lake: Lake, table: str, keys: Sequence[str] | None = None) -> pl.DataFrame:
    frame = lake.read(table, keys)
    sort_cols = [
        c
        for c in ("date", "event_date", "account_id", "team", "user_id", "event_id")
        if c in frame.columns
    ]
    return frame.sort(sort_cols, nulls_last=True) if frame.height else frame
