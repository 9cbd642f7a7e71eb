"""Measure the engagement chain on a simulated data root: wall time and peak memory per asset.

``python -m bench.engagement_chain <data_root> [--memory-limit 1GB] [--compare-truth]``

Runs stg_directory_users (staging) once if missing, then raw_clicks and each daily engagement
asset over the whole simulated range in one run each (the way a backfill range runs), in this
process, sampling its resident memory every 50 ms. Prints one line per asset and a JSON summary.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings

import dagster as dg
import psutil

from bench.measure import TreeSampler
from pacific_assets.engagement.assets import ASSETS
from pacific_assets.engagement.ingest import ClicksKafkaResource
from pacific_assets.engagement.landing import ClickLanding
from pacific_assets.orchestration.dagster_compat import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
)
from pacific_assets.resources import LakeResource
from pacific_assets.storage.lake import Lake


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_root")
    parser.add_argument("--memory-limit", default="1GB")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--compare-truth", action="store_true")
    parser.add_argument("--assets", nargs="*", help="only these assets (default: all)")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    lake = Lake(args.data_root)
    resources = {
        "lake": LakeResource(
            data_root=str(lake.root),
            duckdb_memory_limit=args.memory_limit,
            duckdb_threads=args.threads,
        ),
        "clicks_kafka": ClicksKafkaResource(),
    }
    dates = sorted({d for e in ClickLanding(lake.landing).manifest() for d in e.event_dates})
    tags = {
        ASSET_PARTITION_RANGE_START_TAG: dates[0],
        ASSET_PARTITION_RANGE_END_TAG: dates[-1],
    }
    instance = dg.DagsterInstance.ephemeral()
    results = []
    if not lake.partition_files("stg_directory_users"):
        from pacific_assets.staging.assets import STAGING_ASSETS

        directory = next(a for a in STAGING_ASSETS if a.key.path == ["stg_directory_users"])
        started = time.monotonic()
        assert dg.materialize(
            [directory], resources=resources, instance=instance, tags=tags
        ).success
        print(f"stg_directory_users (staging): {time.monotonic() - started:.1f} s")
    for asset in ASSETS:
        name = asset.key.to_user_string()
        if args.assets and name not in args.assets:
            continue
        before = psutil.Process().memory_info().rss
        with TreeSampler(os.getpid()) as rss:
            started = time.monotonic()
            result = dg.materialize(
                ASSETS,
                selection=[asset.key],
                resources=resources,
                instance=instance,
                tags={} if name == "raw_clicks" else tags,
                raise_on_error=False,
            )
            seconds = time.monotonic() - started
        row = {
            "asset": name,
            "ok": result.success,
            "seconds": round(seconds, 1),
            "peak_rss_mb": round(rss.peak / 2**20),
            "rss_before_mb": round(before / 2**20),
        }
        results.append(row)
        print(json.dumps(row), flush=True)
    summary = {
        "data_root": str(lake.root),
        "days": len(dates),
        "range": f"{dates[0]}..{dates[-1]}",
        "landed_rows": sum(e.rows for e in ClickLanding(lake.landing).manifest()),
        "duckdb_memory_limit": args.memory_limit,
        "threads": args.threads,
        "assets": results,
    }
    if args.compare_truth:
        summary["truth"] = compare_truth(lake)
    print(json.dumps(summary, indent=2))


def compare_truth(lake: Lake) -> dict:
    """Rows of engagement_hours that differ from the truth, outside the outage days."""
    import polars as pl

    faults = json.loads((lake.truth / "fault_manifest.json").read_text())
    outage = faults["clicks"]["outage"]["dates"]
    truth = pl.read_parquet(lake.truth / "engagement_daily.parquet")
    mine = lake.read("engagement_hours")
    keep = ~pl.col("date").cast(pl.String).is_in(outage)
    joined = truth.filter(keep).join(
        mine.filter(keep), on=["date", "account_id"], how="full", suffix="_got", coalesce=True
    )
    cols = ["licensed_users", "active_users", "sessions", "events", "late_events"]
    bad = joined.filter(
        pl.any_horizontal(pl.col(c).ne_missing(pl.col(f"{c}_got")) for c in cols)
        | ((pl.col("total_hours") - pl.col("total_hours_got")).abs() > 1e-6)
    )
    flagged = (
        lake.read("engagement_completeness")
        .filter(pl.col("outage_hours").is_not_null())["date"]
        .cast(pl.String)
        .to_list()
    )
    return {
        "rows_compared": joined.height,
        "rows_differing": bad.height,
        "outage_days_truth": outage,
        "outage_days_flagged": flagged,
    }


if __name__ == "__main__":
    main()
