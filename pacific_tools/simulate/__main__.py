"""CLI: ``python -m pacific_tools.simulate --profile {test,demo,bench,replay} --out <data_root>``.

Shows progress, ends with a short summary (rows per source, sizes, where). Any error is one
readable line on stderr; the traceback goes to ``<data_root>/simulate-error.log``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
import traceback
from pathlib import Path

from pacific_tools.simulate.config import PROFILES
from pacific_tools.simulate.run import SimSummary, simulate


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m pacific_tools.simulate",
        description="Simulate Pacific's source systems into <out>/landing, truth into <out>/truth.",
    )
    p.add_argument(
        "--profile",
        default="demo",
        choices=sorted(PROFILES),
        help="test: tiny fixed-date; demo: a few hundred accounts up to yesterday; "
        "bench: 20k accounts, ~1M users, ~30M clicks over 30 days; "
        "replay: the test company over 35 days (--days), hourly batches, every fault",
    )
    p.add_argument(
        "--out",
        default=os.environ.get("PACIFIC_DATA_ROOT", "data"),
        help="data root (default: $PACIFIC_DATA_ROOT or ./data); landing/ and truth/ are replaced",
    )
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--start", help="first day, YYYY-MM-DD (default 2025-09-01)")
    p.add_argument("--end", help="exclusive end day, YYYY-MM-DD (default: per profile)")
    p.add_argument("--days", type=int, help="number of days (overrides --end)")
    p.add_argument("--accounts", type=int)
    p.add_argument("--users-per-account", type=float)
    p.add_argument("--events-per-user-day", type=float)
    p.add_argument("--clicks-multiplier", type=float, help="e.g. 10 for the x10 click benchmark")
    p.add_argument("--batches-per-day", type=int)
    p.add_argument(
        "--schema-drift",
        action="store_true",
        help="also land one invoices file with a renamed column (off by default)",
    )
    p.add_argument(
        "--no-user-truth", action="store_true", help="skip truth/engagement_users_daily.parquet"
    )
    p.add_argument(
        "--clicks-to-kafka",
        action="store_true",
        help="produce the click batches to $PACIFIC_KAFKA_BOOTSTRAP_SERVERS (topic "
        "$PACIFIC_KAFKA_TOPIC or clicks) instead of leaving batch files; clicks_ingest_sensor "
        "drains them",
    )
    p.add_argument(
        "--kafka-since",
        help="with --clicks-to-kafka: only batches landed at or after this UTC instant "
        "(YYYY-MM-DDTHH:MM); earlier ones stay batch files",
    )
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    return p


def _mb(n: int) -> str:
    return f"{n / 1e6:,.1f} MB" if n < 1e9 else f"{n / 1e9:,.2f} GB"


def print_summary(s: SimSummary) -> None:
    print(
        f"\nSimulated '{s.profile}' (seed {s.seed}) {s.start} .. {s.end} (exclusive) "
        f"in {s.seconds:.1f} s"
    )
    print(f"  landing : {Path(s.data_root) / 'landing'}  ({_mb(s.landing_bytes)})")
    print(f"  truth   : {Path(s.data_root) / 'truth'}  ({_mb(s.truth_bytes)})")
    print(f"  {'source':24} {'files':>7} {'rows':>13} {'size':>11}")
    for name, st in s.sources.items():
        print(f"  {name:24} {st['files']:>7,} {st['rows']:>13,} {_mb(st['bytes']):>11}")
    faults = ", ".join(f"{k}={v}" for k, v in s.fault_counts.items())
    print(f"  faults  : {faults}")
    print(f"  manifest: {Path(s.data_root) / 'truth' / 'fault_manifest.json'}")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    overrides = dict(
        start=args.start,
        end=args.end,
        days=args.days,
        accounts=args.accounts,
        users_per_account=args.users_per_account,
        events_per_user_day=args.events_per_user_day,
        clicks_multiplier=args.clicks_multiplier,
        batches_per_day=args.batches_per_day,
    )
    if args.schema_drift:
        overrides["schema_drift"] = True
    if args.no_user_truth:
        overrides["user_level_truth"] = False
    started = time.perf_counter()

    def progress(msg: str) -> None:
        print(f"[{time.perf_counter() - started:6.1f}s] {msg}", flush=True)

    try:
        summary = simulate(
            args.out, profile=args.profile, seed=args.seed, progress=progress, **overrides
        )
    except Exception as exc:  # one readable line; details in the log
        log = Path(args.out).expanduser() / "simulate-error.log"
        try:
            log.parent.mkdir(parents=True, exist_ok=True)
            log.write_text(traceback.format_exc())
            where = f" (details: {log})"
        except OSError:
            where = ""
        print(f"error: simulation failed: {type(exc).__name__}: {exc}{where}", file=sys.stderr)
        return 1
    if args.clicks_to_kafka:
        from pacific_tools.simulate.kafka import move_batches_to_kafka

        bootstrap = os.environ.get("PACIFIC_KAFKA_BOOTSTRAP_SERVERS", "")
        topic = os.environ.get("PACIFIC_KAFKA_TOPIC", "clicks")
        if not bootstrap:
            print("error: --clicks-to-kafka needs PACIFIC_KAFKA_BOOTSTRAP_SERVERS", file=sys.stderr)
            return 1
        since = None
        if args.kafka_since:
            since = dt.datetime.fromisoformat(args.kafka_since).replace(tzinfo=dt.UTC)
        moved = move_batches_to_kafka(args.out, bootstrap, topic, since)
        progress(
            f"produced {moved.messages:,} messages ({moved.malformed} malformed) of "
            f"{moved.batches} batches to {topic} at {bootstrap}"
        )
    if args.json:
        print(json.dumps(summary.to_dict(), indent=1))
    else:
        print_summary(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
