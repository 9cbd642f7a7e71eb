"""The grids' first day is the data root's: recorded once, read the same way by every entry point.

(``pacific_assets/orchestration/data_root.py``; docs/operations.md "The grids' first day".) The processes that
load it — ``dagster dev``, the services, the CLI — are in operations/test_entry_points.py.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from pacific_assets.orchestration.data_root import (
    DEFAULT_FIRST_DAY,
    RECORD,
    GridsError,
    first_day,
    record_first_day,
    recorded_first_day,
)

D = dt.date


def _land(root: Path, *folders: str) -> None:
    for folder in folders:
        (root / "landing" / folder).mkdir(parents=True)


def test_a_new_empty_data_root_uses_the_override_or_the_default_and_records_nothing(
    tmp_path: Path,
) -> None:
    assert first_day(tmp_path / "new") == DEFAULT_FIRST_DAY == D(2025, 9, 1)
    assert first_day(tmp_path / "new", "2026-08-01") == D(2026, 8, 1)
    assert not (tmp_path / "new").exists()


def test_the_first_load_over_landed_files_records_the_earliest_landed_day_once(
    tmp_path: Path,
) -> None:
    """Daily folders and click ingest days count before monthly ones (a month folder names no
    day); once recorded, a folder landing later for an earlier day moves nothing."""
    _land(
        tmp_path,
        "ops/expenses/month=2026-07",
        "crm/accounts/date=2026-08-03",
        "clickstream/ingest_date=2026-08-02",
        "billing/invoices/date=2026-08-05",
    )
    assert first_day(tmp_path) == D(2026, 8, 2)
    record = json.loads((tmp_path / RECORD).read_text())
    assert record["first_day"] == "2026-08-02"
    assert "earliest landed day" in record["recorded_by"]
    _land(tmp_path, "crm/accounts/date=2026-07-15")
    assert first_day(tmp_path) == D(2026, 8, 2)


def test_only_monthly_files_give_the_first_of_their_first_month(tmp_path: Path) -> None:
    _land(tmp_path, "hr/salaries/month=2026-09", "ops/expenses/month=2026-08")
    assert first_day(tmp_path) == D(2026, 8, 1)


def test_an_override_at_the_first_load_is_recorded_unless_it_hides_landed_data(
    tmp_path: Path,
) -> None:
    _land(tmp_path / "a", "crm/accounts/date=2026-08-03")
    assert first_day(tmp_path / "a", "2026-08-01") == D(2026, 8, 1)
    assert recorded_first_day(tmp_path / "a") == D(2026, 8, 1)

    _land(tmp_path / "b", "crm/accounts/date=2026-08-03")
    with pytest.raises(GridsError) as refused:
        first_day(tmp_path / "b", "2026-08-10")
    assert str(refused.value) == (
        f"PACIFIC_START_DATE=2026-08-10 starts the grids after the first data in {tmp_path / 'b'} "
        "(landed for 2026-08-03): unset PACIFIC_START_DATE, or set it to 2026-08-03 or earlier"
    )
    assert recorded_first_day(tmp_path / "b") is None


def test_an_override_that_disagrees_with_the_record_fails_naming_both_days_and_the_fix(
    tmp_path: Path,
) -> None:
    record_first_day(tmp_path, D(2026, 8, 1), by="a test")
    assert first_day(tmp_path) == D(2026, 8, 1)
    assert first_day(tmp_path, "2026-08-01") == D(2026, 8, 1)
    with pytest.raises(GridsError) as refused:
        first_day(tmp_path, "2025-09-01")
    assert str(refused.value) == (
        f"PACIFIC_START_DATE=2025-09-01 asks for grids starting on 2025-09-01, but data root "
        f"{tmp_path} records its first day as 2026-08-01 ({tmp_path / RECORD}): unset "
        "PACIFIC_START_DATE (or set it to 2026-08-01), or point PACIFIC_DATA_ROOT at another "
        "data root"
    )


def test_a_record_is_written_once_and_never_replaced(tmp_path: Path) -> None:
    assert record_first_day(tmp_path, D(2026, 8, 1), by="first") == D(2026, 8, 1)
    assert record_first_day(tmp_path, D(2026, 8, 1), by="again") == D(2026, 8, 1)
    with pytest.raises(GridsError, match="records its first day as 2026-08-01"):
        record_first_day(tmp_path, D(2026, 9, 1), by="simulator, profile 'demo'")
    assert json.loads((tmp_path / RECORD).read_text())["recorded_by"] == "first"
    assert [p.name for p in tmp_path.iterdir()] == [RECORD]  # no temporary file left behind


def test_a_broken_record_names_its_file(tmp_path: Path) -> None:
    (tmp_path / RECORD).write_text('{"first": "2026-08-01"}')
    with pytest.raises(GridsError, match=f"{tmp_path / RECORD} is not a grids record"):
        first_day(tmp_path)
