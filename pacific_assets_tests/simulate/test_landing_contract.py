"""Every landed file follows contracts.py: paths, formats, columns, types, change-feed rules."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import polars as pl
import pytest

from pacific_assets import contracts as K
from pacific_assets.storage.lake import Lake
from pacific_assets_tests.simulate import landing_reader as R
from pacific_tools.simulate import simulate

START, END = dt.date(2025, 9, 1), dt.date(2025, 12, 10)


@pytest.mark.parametrize("name", sorted(K.SOURCES))
def test_every_file_parses_with_the_contract_columns(sim_data: Lake, name: str) -> None:
    source = K.SOURCES[name]
    records = list(R.read(sim_data.landing, source))  # asserts header / JSON keys per file
    good = [r for r in records if r.values is not None]
    assert len(good) > 0.95 * len(records) > 0
    frame = R.valid(sim_data.landing, source)
    for col in source.required:
        assert frame[col].null_count() == 0, col
    for col, allowed in source.allowed.items():
        assert set(frame[col].unique()) <= set(allowed), col


def test_layout_has_only_contract_paths(sim_data: Lake) -> None:
    patterns = []
    for s in K.SOURCES.values():
        if s.grain == "none":
            patterns.append(re.escape(s.path))
        elif s.name == "clicks":
            patterns.append(rf"{s.path}/ingest_date=\d{{4}}-\d\d-\d\d/batch-\d{{8}}\.jsonl")
        elif s.grain == "daily":
            patterns.append(rf"{re.escape(s.path)}/date=\d{{4}}-\d\d-\d\d/part-\d{{5}}\.{s.fmt}")
        else:
            patterns.append(rf"{re.escape(s.path)}/month=\d{{4}}-\d\d/part-\d{{5}}\.{s.fmt}")
    patterns.append(r"clickstream/_manifest\.jsonl")
    rx = re.compile("|".join(f"(?:{p})" for p in patterns))
    files = [p.relative_to(sim_data.landing).as_posix() for p in sim_data.landing.rglob("*")]
    files = [f for f in files if (sim_data.landing / f).is_file()]
    assert files and all(rx.fullmatch(f) for f in files), [f for f in files if not rx.fullmatch(f)]
    for f in files:
        m = re.search(r"(?:date|ingest_date)=(\d{4}-\d\d-\d\d)", f)
        if m:
            assert START <= dt.date.fromisoformat(m.group(1)) < END, f
        m = re.search(r"month=(\d{4}-\d\d)", f)
        if m:
            assert "2025-09" <= m.group(1) <= "2025-12", f


def test_invoice_change_feed(sim_data: Lake) -> None:
    """Open when issued, again when paid or voided; refunds land once, negative, on the
    original invoice, over the original line's remaining days."""
    lines = R.valid(sim_data.landing, K.INVOICE_LINES).sort("_folder", "_file", "_row")
    by_line = lines.group_by("line_id", maintain_order=True).agg(
        pl.col("status"),
        pl.col("paid_at"),
        pl.col("_folder"),
        pl.col("amount_usd").first(),
        pl.col("invoice_id").first(),
        pl.col("service_end").first(),
        pl.col("product").first(),
        pl.col("issued_at").first(),
    )
    start = dt.datetime(2025, 9, 1, tzinfo=dt.UTC)
    for line_id, statuses, paid, folders, amount, inv, end, product, issued in by_line.iter_rows():
        assert folders == sorted(folders)
        if statuses == ["refunded"]:
            assert amount < 0 and paid[0] is not None
            original = lines.filter(
                (pl.col("invoice_id") == inv)
                & (pl.col("amount_usd") > 0)
                & (pl.col("product") == product)
            )
            assert end in set(original["service_end"]), line_id
        elif issued >= start:
            assert statuses[0] == "open" and paid[0] is None, line_id
            assert statuses[1:] in ([], ["paid"], ["void"]), line_id
            assert (paid[-1] is not None) == (statuses[-1] == "paid")
        else:  # initial load: one row with the state at the start, maybe changed later
            assert len(statuses) <= 2
    assert set(lines["status"]) == set(K.INVOICE_STATUSES)
    products = set(lines["product"])
    assert "seat_license" in products
    assert any(p.startswith("feature:") for p in products)
    assert any(p.startswith("support:") for p in products)
    # annual prepaid lines and monthly lines, with starts in mid-month
    days = (lines["service_end"] - lines["service_start"]).dt.total_days()
    assert (days >= 365).any() and ((days >= 28) & (days <= 31)).any()
    assert (lines["service_start"].dt.day() > 1).mean() > 0.5


def test_directory_feed_and_crm_folders(sim_data: Lake) -> None:
    users = R.valid(sim_data.landing, K.DIRECTORY_USERS).sort("_folder", "_row")
    per_user = users.group_by("user_id").agg(pl.col("deactivated_at"), pl.len())
    for _user, deact, n in per_user.iter_rows():
        assert n in (1, 2)
        if n == 2:  # created, then deactivated
            assert deact[0] is None and deact[1] is not None
    assert set(users["team"]) >= {"sales", "engineering", "support"}
    assert users["licensed"].any() and not users["licensed"].all()
    events = R.valid(sim_data.landing, K.ACCOUNT_EVENTS)
    recorded_day = events["recorded_at"].dt.date()
    folder = events["_folder"].str.to_date()
    # the folder is the day the CRM recorded the event; history before the start is the first load
    assert (folder == pl.Series([max(d, START) for d in recorded_day])).all()
    assert set(events["event_type"]) == set(K.CRM_EVENT_TYPES)


def test_experiments_registry_and_assignments(sim_data: Lake) -> None:
    registry = R.valid(sim_data.landing, K.EXPERIMENT_REGISTRY)
    assert registry.height == 3 and set(registry["unit_type"]) == {"user", "account"}
    assignments = R.valid(sim_data.landing, K.EXPERIMENT_ASSIGNMENTS)
    joined = assignments.join(
        registry.select("experiment_id", pl.col("unit_type").alias("reg")), on="experiment_id"
    )
    assert joined.height == assignments.height
    assert (joined["unit_type"] == joined["reg"]).all()
    assert (joined["_folder"] == joined["assigned_at"].dt.date().cast(pl.String)).all()
    assert assignments.select(pl.struct("experiment_id", "unit_id").is_unique().all()).item()


def test_schema_drift_is_off_by_default_and_on_with_the_flag(
    sim_data: Lake, tmp_path: Path
) -> None:
    off = json.loads((sim_data.truth / "fault_manifest.json").read_text())
    assert off["schema_drift"] is False and off["schema_drift_files"] == []
    root = tmp_path / "drift"
    simulate(root, profile="test", seed=7, days=30, accounts=12, schema_drift=True)
    manifest = json.loads((root / "truth" / "fault_manifest.json").read_text())
    (drift,) = manifest["schema_drift_files"]
    assert manifest["counts"]["schema_drift_files"] == 1
    headers = {}
    for path in R.files(root / "landing", K.INVOICE_LINES):
        headers[path.relative_to(root / "landing").as_posix()] = path.open().readline().strip()
    contract = ",".join(K.INVOICE_LINES.columns)
    drifted = {rel for rel, h in headers.items() if h != contract}
    assert drifted == {drift["file"]}
    assert headers[drift["file"]] == contract.replace("amount_usd", "amount")
