"""``python -m pacific_tools.replay`` (``make replay``): replay N simulated days; see __init__."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Replay simulated days through the daemon.")
    sub = parser.add_subparsers(dest="command")
    one = sub.add_parser("one-shot", help="(internal) materialize everything at --at")
    one.add_argument("--at", required=True)
    settle = sub.add_parser(
        "settle",
        help="run the daemons over PACIFIC_DATA_ROOT and DAGSTER_HOME from --at for --minutes; "
        "print the runs they launched (JSON)",
    )
    settle.add_argument("--at", required=True)
    settle.add_argument("--minutes", type=float, default=5.0)
    settle.add_argument("--every-seconds", type=float, default=30.0)
    settle.add_argument(
        "--sync", action="store_true", help="first report the lake to the instance (at --at)"
    )
    settle.add_argument(
        "--only",
        help="comma-separated schedules/sensors left running; every other one is stopped first",
    )
    parser.add_argument("--days", type=int, default=35, help="simulated days (default 35)")
    parser.add_argument("--profile", default="replay", help="simulator profile (default replay)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--start", default="2025-09-01", help="first day (the grid's start)")
    parser.add_argument("--root", help="replay folder (default <PACIFIC_DATA_ROOT>/replay)")
    parser.add_argument("--reports", help="report folder (default <data root>/reports/replay)")
    parser.add_argument("--until", help="stop at this instant (ISO, UTC)")
    parser.add_argument("--warm-until", help="one-shot build up to this instant, then replay")
    parser.add_argument("--every-minutes", type=int, help="also tick every N minutes")
    parser.add_argument("--no-recompute", action="store_true", help="skip the comparison")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)

    if args.command == "one-shot":
        from pacific_tools.replay.harness import one_shot_here

        return one_shot_here(dt.datetime.fromisoformat(args.at))
    if args.command == "settle":
        import json

        from pacific_tools.replay.harness import settle_here

        start = dt.datetime.fromisoformat(args.at.replace("Z", "+00:00"))
        only = set(args.only.split(",")) if args.only else None
        result = settle_here(
            start, dt.timedelta(minutes=args.minutes), args.every_seconds, args.sync, only
        )
        print(json.dumps(result, indent=1))
        return 0

    data_root = Path(os.environ.get("PACIFIC_DATA_ROOT", "data")).resolve()
    from pacific_tools.replay.harness import ReplayConfig, run
    from pacific_tools.replay.report import table_text

    def instant(text: str | None) -> dt.datetime | None:
        if not text:
            return None
        t = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        return t if t.tzinfo else t.replace(tzinfo=dt.UTC)

    cfg = ReplayConfig(
        root=Path(args.root).resolve() if args.root else data_root / "replay",
        report_dir=Path(args.reports).resolve()
        if args.reports
        else data_root / "reports" / "replay",
        profile=args.profile,
        days=args.days,
        seed=args.seed,
        start=dt.date.fromisoformat(args.start),
        every_minutes=args.every_minutes,
        recompute=not args.no_recompute,
        until=instant(args.until),
        warm_until=instant(args.warm_until),
    )
    result = run(cfg, progress=not args.no_progress)
    print()
    print(table_text(result))
    print(f"\nreports: {cfg.report_dir / 'summary.json'}, {cfg.report_dir / 'timeline.html'}")
    print(f"replay instance: DAGSTER_HOME={cfg.home} (browse it: DAGSTER_HOME=... dagster dev)")
    print(
        f"wall time: {result['seconds']:.0f} s for {result['ticks']} ticks, {result['runs']} runs"
    )
    ok = result.get("final_equals_recompute", True) and not any(
        a["unnecessary_rematerializations"] for a in result["assets"].values()
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
