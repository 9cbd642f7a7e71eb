"""CLI: ``python -m stack {up,down,status} [--parts postgres,kafka,...]`` (make stack / stack-down)."""

from __future__ import annotations

import argparse
import sys
import time

from stack.services import PARTS, Stack, StackError


def _table(stack: Stack) -> None:
    rows = stack.status()
    if not rows:
        print("nothing recorded: the stack is not running")
        return
    width = max(len(r[0]) for r in rows)
    for name, pid, listens, log in rows:
        print(f"  {name:<{width}}  pid {pid:<8} {listens}\n  {'':<{width}}  log {log}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stack", description=__doc__)
    parser.add_argument("command", choices=["up", "down", "status"])
    parser.add_argument(
        "--parts", default=",".join(PARTS), help=f"comma-separated subset of {','.join(PARTS)}"
    )
    parser.add_argument(
        "--no-sync", action="store_true", help="a new instance does not learn the lake (make sync)"
    )
    args = parser.parse_args(argv)
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    stack = Stack()
    started = time.monotonic()
    try:
        if args.command == "up":
            times = stack.up(parts, sync=not args.no_sync)
            print(
                f"stack up in {time.monotonic() - started:.1f} s ({times}); state {stack.state_file}"
            )
            _table(stack)
            s = stack.s
            print(f"Dagster UI: {s.webserver_url}   data root: {s.data_root}")
            print(f"instance: DAGSTER_HOME={s.dagster_home} (Postgres); `make stack-down` stops it")
        elif args.command == "down":
            for name, what in stack.down(parts).items():
                print(f"  {name}: {what}")
            print(f"stack down in {time.monotonic() - started:.1f} s")
        else:
            _table(stack)
    except StackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        print("what did start is recorded; `make stack-down` stops it", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
