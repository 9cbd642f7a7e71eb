"""The "replay" profile and the two billing landing faults (late and corrected exports).

One replay simulation per session (``replay_data``, ~3 s); each test reads the landed files back with the plain
reader of ``landing_reader`` and the schedule, never the simulator's own frames.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

import pacific_assets
from pacific_assets import contracts as K
from pacific_assets.storage.lake import Lake
from pacific_assets_tests.simulate import landing_reader as R
from pacific_tools.simulate import make_config, simulate
from pacific_tools.simulate.schedule import read_landing_schedule

START, END = dt.date(2025, 9, 1), dt.date(2025, 10, 6)
HORIZON = dt.datetime(2025, 10, 6, tzinfo=dt.UTC)
CURRENT_SQL = Path(pacific_assets.__file__).parent / "profit" / "sql" / "invoice_lines_current.sql"


@pytest.fixture(scope="module")
def replay(replay_data: Lake) -> Lake:
    return replay_data


@pytest.fixture(scope="module")
def manifest(replay: Lake) -> dict:
    return json.loads((replay.truth / "fault_manifest.json").read_text())


@pytest.fixture(scope="module")
def schedule(replay: Lake) -> pl.DataFrame:
    return read_landing_schedule(replay.root)


def _ts(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def _landed_at(schedule: pl.DataFrame, path: str) -> tuple[dt.datetime, str]:
    (row,) = schedule.filter(pl.col("path") == path).select("landed_at", "kind").rows()
    return row


def test_replay_profile_is_35_days_of_hourly_batches_with_every_fault(
    replay: Lake, manifest: dict, schedule: pl.DataFrame
) -> None:
    cfg = make_config("replay")
    assert (cfg.start, cfg.end, cfg.batches_per_day) == (START, END, 24)
    assert make_config("replay", days=45).end == dt.date(2025, 10, 16)
    assert make_config("replay", end="2025-10-20").end == dt.date(2025, 10, 20)
    counts = manifest["counts"]
    # no filing lands inside 35 days (September's lands on 10 October), so no filing mismatch
    off = {"schema_drift_files", "filing_mismatches"}
    assert all(v >= 1 for k, v in counts.items() if k not in off), counts
    assert counts["filing_mismatches"] == 0
    assert counts["late_billing_exports"] == counts["corrected_billing_exports"] == 1
    assert manifest["clicks"]["unfilled_quotas"] == {"late": 0, "delayed": 0, "dup": 0}
    batches = schedule.filter(pl.col("kind") == "batch")
    assert batches.height > 20 * 35  # hourly: up to 24 a day, none in the outage hours
    assert batches["landed_at"].dt.minute().unique().to_list() == [59]
    (filing,) = schedule.filter(pl.col("source") == "filings").iter_rows(named=True)
    assert filing["path"] == "finance/filings/month=2025-09/part-00000.csv"
    assert filing["landed_at"] == dt.datetime(2025, 10, 10, 12, tzinfo=dt.UTC) > HORIZON


def test_late_crm_event_lands_about_three_weeks_after_it_took_effect(
    manifest: dict, schedule: pl.DataFrame
) -> None:
    (event,) = manifest["crm"]["late_events"]
    path = f"crm/account_events/date={event['landing_date']}/part-00000.jsonl"
    landed_at, kind = _landed_at(schedule, path)
    assert kind == "export"
    lag = landed_at - _ts(event["effective_at"])
    assert dt.timedelta(days=19) <= lag <= dt.timedelta(days=24)
    assert landed_at <= HORIZON + dt.timedelta(hours=1)  # the last folder lands at 00:25


def test_late_billing_export_lands_days_after_its_normal_time(
    replay: Lake, manifest: dict, schedule: pl.DataFrame
) -> None:
    (late,) = manifest["billing"]["late_exports"]
    day = dt.date.fromisoformat(late["export_date"])
    assert START < day < END and late["days_late"] == 3
    landed_at, kind = _landed_at(schedule, late["file"])
    normal = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0, 30), tzinfo=dt.UTC)
    assert kind == "late_export"
    assert landed_at == normal + dt.timedelta(days=3) == _ts(late["landed_at"]) < HORIZON
    assert _ts(late["normal_landed_at"]) == normal
    rows = list(R.read(replay.landing, K.INVOICE_LINES))
    assert sum(r.rel == late["file"] for r in rows) == late["rows"] > 0
    # every other invoices folder lands on time
    others = schedule.filter(
        (pl.col("source") == "invoice_lines") & (pl.col("path") != late["file"])
    )
    assert set(others["kind"]) == {"export", "initial_load", "correction"}


def test_correction_is_a_new_file_in_the_same_folder_weeks_later(
    replay: Lake, manifest: dict, schedule: pl.DataFrame
) -> None:
    (fix,) = manifest["billing"]["corrections"]
    folder = f"billing/invoices/date={fix['export_date']}"
    assert fix["original_file"] == f"{folder}/part-00000.csv"
    assert fix["correction_file"] == f"{folder}/part-00001.csv"
    # the landed original holds the wrong amount at the listed row
    by_file = {(r.rel, r.row): r.values for r in R.read(replay.landing, K.INVOICE_LINES)}
    wrong = by_file[(fix["original_file"], fix["original_row"])]
    assert wrong["line_id"] == fix["line_id"] and wrong["account_id"] == fix["account_id"]
    assert wrong["amount_usd"] == fix["wrong_amount_usd"]
    assert fix["wrong_amount_usd"] == round(fix["corrected_amount_usd"] * 1.1, 2)
    # the correction file: that row, identical except the right amount
    corrected = [v for (rel, _), v in by_file.items() if rel == fix["correction_file"]]
    assert len(corrected) == 1
    assert corrected[0] == {**wrong, "amount_usd": fix["corrected_amount_usd"]}
    # times: the original on D+1 00:30; the correction 14-21 days later, after the month closed
    # (a September line corrected in early October) and before the horizon end
    original_at, original_kind = _landed_at(schedule, fix["original_file"])
    corrected_at, corrected_kind = _landed_at(schedule, fix["correction_file"])
    assert (original_kind, corrected_kind) == ("export", "correction")
    assert _ts(fix["original_landed_at"]) == original_at
    assert _ts(fix["correction_landed_at"]) == corrected_at
    assert dt.timedelta(days=14) <= corrected_at - original_at <= dt.timedelta(days=21)
    assert fix["export_date"].startswith("2025-09")
    assert dt.datetime(2025, 10, 1, tzinfo=dt.UTC) <= corrected_at < HORIZON
    assert fix["affected_months"] == sorted(fix["revenue_error_by_month"])
    assert "2025-09" in fix["affected_months"]


def _stg_invoice_lines(landing: Path, exclude: str | None = None) -> pl.DataFrame:
    """What stg_invoice_lines holds once the files landed: valid rows, with the landing
    folder's date and the row's file and position (docs/staging.md)."""
    frame = R.valid(landing, K.INVOICE_LINES)
    if exclude:
        frame = frame.filter(pl.col("_file") != exclude)
    return frame.select(
        *K.INVOICE_LINES.columns,
        pl.col("_folder").str.to_date().alias("export_date"),
        pl.col("_file").alias("_source_file"),
        pl.col("_row").alias("_row_number"),
    )


def _revenue_by_month(current: pl.DataFrame) -> dict[str, float]:
    """Recognized revenue per month inside [START, END) from the current lines (accrual)."""
    days = pl.DataFrame({"date": pl.date_range(START, END, "1d", closed="left", eager=True)})
    live = current.filter(pl.col("is_recognized"))
    spread = live.join(days, how="cross").filter(
        (pl.col("date") >= pl.col("service_start")) & (pl.col("date") < pl.col("service_end"))
    )
    monthly = spread.group_by(pl.col("date").dt.strftime("%Y-%m").alias("m")).agg(
        pl.col("daily_rate_usd").sum()
    )
    return dict(monthly.iter_rows())


def _current(stg: pl.DataFrame) -> pl.DataFrame:
    """The profit pipeline's own rule (invoice_lines_current.sql) over the staged rows."""
    con = duckdb.connect()
    try:
        con.register("stg_invoice_lines", stg.to_arrow())
        return con.sql(CURRENT_SQL.read_text()).pl()
    finally:
        con.close()


def test_books_equal_the_truth_once_the_correction_landed(replay: Lake, manifest: dict) -> None:
    truth = pl.read_parquet(replay.truth / "recognized_revenue_daily.parquet")
    true_by_month = dict(
        truth.group_by(pl.col("date").dt.strftime("%Y-%m").alias("m"))
        .agg(pl.col("recognized_revenue_usd").sum())
        .iter_rows()
    )
    gap: dict[str, float] = {}
    for missing in manifest["billing"]["missing_invoices"]:
        for m, v in missing["revenue_gap_by_month"].items():
            gap[m] = gap.get(m, 0.0) + v
    (fix,) = manifest["billing"]["corrections"]

    after = _revenue_by_month(_current(_stg_invoice_lines(replay.landing)))
    before = _revenue_by_month(
        _current(_stg_invoice_lines(replay.landing, exclude=fix["correction_file"]))
    )
    assert sorted(after) == sorted(true_by_month) == ["2025-09", "2025-10"]
    for m, true in true_by_month.items():
        # once everything landed, only the missing invoices separate the books from the truth
        assert after[m] == pytest.approx(true - gap.get(m, 0.0), abs=1e-6)
        # before the correction landed, the wrong amount shows in exactly the listed months
        error = fix["revenue_error_by_month"].get(m, 0.0)
        assert before[m] - after[m] == pytest.approx(error, abs=1e-6)
    current = _current(_stg_invoice_lines(replay.landing)).filter(
        pl.col("line_id") == fix["line_id"]
    )
    assert current["amount_usd"].to_list() == [fix["corrected_amount_usd"]]
    assert current["_source_file"].to_list() == [fix["correction_file"]]


def test_same_seed_gives_the_same_replay_landing_and_schedule(
    replay: Lake, schedule: pl.DataFrame, tmp_path: Path
) -> None:
    again = Lake(simulate(tmp_path / "again", profile="replay", seed=7).data_root)

    def digest(folder: Path) -> dict[str, str]:
        return {
            p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*"))
            if p.is_file()
        }

    assert digest(again.landing) == digest(replay.landing)
    assert_frame_equal(read_landing_schedule(again.root), schedule)
    assert (again.truth / "fault_manifest.json").read_text() == (
        replay.truth / "fault_manifest.json"
    ).read_text()


def test_a_longer_replay_has_its_filing_mismatch_inside_the_window(tmp_path: Path) -> None:
    root = tmp_path / "data"
    simulate(root, profile="replay", seed=7, days=45)
    manifest = json.loads((root / "truth" / "fault_manifest.json").read_text())
    assert [m["month"] for m in manifest["filings"]["mismatches"]] == ["2025-09"]
    schedule = read_landing_schedule(root)
    filing = schedule.filter(pl.col("path") == "finance/filings/month=2025-09/part-00000.csv")
    assert filing["landed_at"].to_list() == [dt.datetime(2025, 10, 10, 12, tzinfo=dt.UTC)]
    assert manifest["counts"]["corrected_billing_exports"] == 1
