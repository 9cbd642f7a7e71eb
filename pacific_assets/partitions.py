"""Partition grids shared by every pipeline (docs/semantic-contract.md "Time").

All grids start on the same day: by default 2025-09-01, a Monday that is also the 1st of a month,
so days, Monday weeks and months line up. Keys are UTC dates (``YYYY-MM-DD``) at every grain.
"""

from __future__ import annotations

import os

import dagster as dg

#: First partition of every grid; override with PACIFIC_START_DATE (keep it a Monday and a 1st).
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
