"""truth/landing_schedule.parquet: every landed file once, at the time docs/simulator.md states.

The expected times are written out here (not taken from the simulator's constants), so a change
of the rules has to change this test and the docs together.
"""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
import pytest

from pacific_assets.storage.lake import Lake
from pacific_tools.simulate.schedule import read_landing_schedule

UTC = dt.UTC
START = dt.date(2025, 9, 1)
#: minute after midnight (UTC) of D+1 at which folder date=D lands
DAILY_MINUTE = {
    "directory_users": 10,
    "accounts": 20,
    "account_events": 25,
    "invoice_lines": 30,
    "experiment_assignments": 40,
}
HISTORY_SOURCES = {"directory_users", "accounts", "account_events", "invoice_lines"}


@pytest.fixture(scope="module")
def schedule(sim_data: Lake) -> pl.DataFrame:
    return read_landing_schedule(sim_data.root)


def _ts(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def _next_month(d: dt.date) -> dt.date:
    return dt.date(d.year + (d.month == 12), d.month % 12 + 1, 1)


def expected_time(row: dict, clicks_landed: dict[str, dt.datetime]) -> tuple[dt.datetime, str]:
    """(landed_at, kind) by the documented rules, for a file of a fault-free folder."""
    path, source = row["path"], row["source"]
    folder = path.split("/")[-2]
    if source == "clicks":
        if path.endswith("_manifest.jsonl"):
            return max(clicks_landed.values()), "manifest"
        return clicks_landed[path.rsplit("/", 1)[1]], "batch"
    if source == "experiment_registry":
        return dt.datetime(2025, 9, 1, tzinfo=UTC), "registry"
    if folder.startswith("month="):
        month = dt.date.fromisoformat(folder[6:] + "-01")
        if source == "filings":
            return dt.datetime.combine(
                _next_month(month).replace(day=10), dt.time(12), tzinfo=UTC
            ), "filing"
        return dt.datetime.combine(_next_month(month), dt.time(6), tzinfo=UTC), "export"
    day = dt.date.fromisoformat(folder[5:])
    minute = DAILY_MINUTE[source]
    when = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0, minute), tzinfo=UTC)
    kind = "initial_load" if day == START and source in HISTORY_SOURCES else "export"
    return when, kind


def clicks_landed_at(lake: Lake) -> dict[str, dt.datetime]:
    """Batch name -> landed_at, from the click manifest the ingestion contract defines."""
    out = {}
    for line in (lake.landing / "clickstream" / "_manifest.jsonl").read_text().splitlines():
        entry = json.loads(line)
        out[entry["batch"]] = _ts(entry["landed_at"])
    return out


def test_schedule_lists_every_landed_file_exactly_once(sim_data: Lake, schedule: pl.DataFrame):
    on_disk = sorted(
        p.relative_to(sim_data.landing).as_posix()
        for p in sim_data.landing.rglob("*")
        if p.is_file()
    )
    assert sorted(schedule["path"]) == on_disk
    assert schedule["path"].n_unique() == schedule.height
    assert dict(schedule.schema) == {
        "path": pl.String,
        "source": pl.String,
        "landed_at": pl.Datetime("us", "UTC"),
        "kind": pl.String,
    }
    assert schedule.equals(schedule.sort(["landed_at", "path"]))
    assert not schedule["path"].str.contains("\\\\").any()


def test_every_file_lands_at_its_documented_time(sim_data: Lake, schedule: pl.DataFrame):
    clicks = clicks_landed_at(sim_data)
    wrong = []
    for row in schedule.iter_rows(named=True):
        when, kind = expected_time(row, clicks)
        if (row["landed_at"], row["kind"]) != (when, kind):
            wrong.append((row["path"], row["landed_at"], row["kind"], when, kind))
    assert not wrong, wrong[:5]
    # the test profile has no late or corrected billing export
    assert set(schedule["kind"]) == {
        "batch",
        "manifest",
        "export",
        "initial_load",
        "registry",
        "filing",
    }


def test_click_batches_land_at_their_slot_end_and_carry_that_time(
    sim_data: Lake, schedule: pl.DataFrame
):
    batches = schedule.filter(pl.col("kind") == "batch")
    # 4 slots a day in the test profile: 05:59:59.999, 11:59:59.999, ...
    ends = batches.select(pl.col("landed_at") + pl.duration(milliseconds=1)).to_series()
    assert (ends.dt.hour().is_in([0, 6, 12, 18]) & (ends.dt.minute() == 0)).all()
    assert (ends.dt.second() == 0).all() and (ends.dt.microsecond() == 0).all()
    for row in batches.head(3).iter_rows(named=True):
        first = json.loads((sim_data.landing / row["path"]).read_text().splitlines()[0])
        assert _ts(first["landed_at"]) == row["landed_at"]


def test_late_crm_events_land_when_their_folder_lands(sim_data: Lake, schedule: pl.DataFrame):
    manifest = json.loads((sim_data.truth / "fault_manifest.json").read_text())
    late = manifest["crm"]["late_events"]
    assert late
    for event in late:
        path = f"crm/account_events/date={event['landing_date']}/part-00000.jsonl"
        (landed_at,) = schedule.filter(pl.col("path") == path)["landed_at"].to_list()
        effective = _ts(event["effective_at"])
        assert landed_at - effective >= dt.timedelta(days=14)
        assert landed_at.date() == dt.date.fromisoformat(event["landing_date"]) + dt.timedelta(1)


def test_monthly_files_land_after_their_month(schedule: pl.DataFrame):
    monthly = schedule.filter(pl.col("path").str.contains("/month="))
    month = monthly["path"].str.extract(r"month=(\d{4}-\d\d)") + "-01"
    start = month.str.to_date()
    assert (monthly["landed_at"].dt.date() > start.dt.month_end()).all()
