#!/usr/bin/env python3
"""The demo's first day (PACIFIC_START_DATE for `make demo`, `dev`, `sync`, `simulate`).

A data root that already holds a simulated company keeps the day it was simulated from (its
fault manifest), so its partition grids never move under it. A new one starts on the 1st of the
month four months back: four closed months and the current one, 120-151 days whatever the date,
so `make demo` stays the same size as the calendar advances (docs/benchmarks.md "A demo window
that does not grow"). Standard library only: make runs it before the virtual environment exists.

Usage: demo_start_date.py DATA_ROOT  (prints YYYY-MM-DD)
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

#: Closed months the demo holds before the current one.
MONTHS_BACK = 4


def demo_start_date(data_root: Path, today: dt.date) -> dt.date:
    manifest = Path(data_root) / "truth" / "fault_manifest.json"
    if manifest.is_file():
        start = json.loads(manifest.read_text()).get("start")
        if start:
            return dt.date.fromisoformat(start)
    months = today.year * 12 + today.month - 1 - MONTHS_BACK
    return dt.date(months // 12, months % 12 + 1, 1)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__.rsplit("Usage: ", 1)[1])
    today = dt.datetime.now(dt.UTC).date()
    print(demo_start_date(Path(sys.argv[1]), today).isoformat())
