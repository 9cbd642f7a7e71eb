"""Partition grids shared by every pipeline (docs/semantic-contract.md "Time").

The grids' first day is the data root's (``pacific_assets.orchestration.data_root``): every process that loads
the code location over the same ``PACIFIC_DATA_ROOT`` sees the same partitions, however it was
started. The daily grid starts on ``START_DATE``; the weekly grid on the first Monday on or after
it, the monthly grid on the first 1st on or after it (Dagster's rule for a start between two
period starts). Keys are UTC dates (``YYYY-MM-DD``) at every grain.
"""

from __future__ import annotations

import dagster as dg

from pacific_assets import settings
from pacific_assets.orchestration.data_root import first_day

#: The grids' first day: recorded by the data root (an override that disagrees fails here, at load).
#: Read at import: Dagster needs the grids when the definitions load.
_SETTINGS = settings.load()
START_DATE = first_day(_SETTINGS.data_root, _SETTINGS.start_date).isoformat()

daily = dg.DailyPartitionsDefinition(start_date=START_DATE, timezone="UTC")
#: Monday 00:00 UTC weeks: Dagster weeks start on Sunday unless day_offset=1.
weekly = dg.WeeklyPartitionsDefinition(start_date=START_DATE, day_offset=1, timezone="UTC")
monthly = dg.MonthlyPartitionsDefinition(start_date=START_DATE, timezone="UTC")

#: Range runs: a backfill of any selection is one run per grid, whatever its length; each asset
#: body bounds its own memory (chunks of days where a range is big). One policy for every asset
#: also keeps ``dagster asset materialize --partition-range`` working for any selection (the CLI
#: accepts ranges only for single-run policies) and never mixes policies in one backfill.
single_run_backfill = dg.BackfillPolicy.single_run()


def keys_in_window(partitions_def: dg.TimeWindowPartitionsDefinition, start, end) -> list[str]:
    """Partition keys whose window starts in ``[start, end)``."""
    return partitions_def.get_partition_keys_in_time_window(dg.TimeWindow(start, end))


def _main(argv: list[str] | None = None) -> int:
    """``python -m pacific_assets.orchestration.partitions [daily|weekly|monthly] [N]``: the range of the grid's
    first N partitions (default: daily, 7), as ``dagster asset materialize --partition-range``
    takes it: a range the data root's company has data for, whatever day it started on."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    grid = {"daily": daily, "weekly": weekly, "monthly": monthly}.get(args[0] if args else "daily")
    if grid is None or len(args) > 2 or (len(args) == 2 and not args[1].isdigit()):
        print(_main.__doc__, file=sys.stderr)
        return 2
    keys = grid.get_partition_keys()[: int(args[1]) if len(args) == 2 else 7]
    if not keys:
        print(f"the grid starting on {START_DATE} has no closed partition yet", file=sys.stderr)
        return 1
    print(f"{keys[0]}...{keys[-1]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(_main())
