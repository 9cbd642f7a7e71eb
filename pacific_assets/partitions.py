"""Partition grids shared by every pipeline (docs/semantic-contract.md "Time").

The daily grid starts on ``START_DATE``; the weekly grid on the first Monday on or after it, the
monthly grid on the first 1st on or after it (Dagster's rule for a start between two period
starts). The default, 2025-09-01, is a Monday and a 1st, so all three start together; `make demo`
starts on a 1st (scripts/demo_start_date.py), its weeks on the first Monday on or after it. Keys
are UTC dates (``YYYY-MM-DD``) at every grain.
"""

from __future__ import annotations

import os

import dagster as dg

#: The grids' first day; override with PACIFIC_START_DATE (any day: see the module docstring).
START_DATE = os.environ.get("PACIFIC_START_DATE", "2025-09-01")

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
