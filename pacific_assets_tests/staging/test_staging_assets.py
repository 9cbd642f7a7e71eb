"""Staging through Dagster: typed output per source, quarantine, drift, ranges, idempotency."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import polars as pl
import pytest

from pacific_assets import partitions
from pacific_assets.contracts import SOURCES
from pacific_assets.lineage import grid_of
from pacific_assets.resources import LakeResource
from pacific_assets.staging.assets import RAW_SPECS, STAGING_ASSETS, staging_columns
from pacific_assets.storage.lake import Lake
from pacific_assets.storage.quarantine import QUARANTINE_TABLE
from pacific_assets_tests.declared import assert_written_as_declared
from pacific_assets_tests.runs import range_tags
from pacific_tools.demo import wave_runs

from .conftest import VALID_FILES, landing_hashes, write_landing

ASSETS = {a.key.to_user_string(): a for a in STAGING_ASSETS}
GRAPH = dg.Definitions(
    assets=[*RAW_SPECS, *STAGING_ASSETS], resources={"lake": LakeResource()}
).resolve_asset_graph()
UTC = dt.UTC


def ts(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


D = dt.date


def _run(
    names: list[str],
    lake_resource: LakeResource,
    instance: dg.DagsterInstance,
    partition_key: str | None = None,
    tags: dict[str, str] | None = None,
    raise_on_error: bool = True,
) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [ASSETS[f"stg_{n}"] for n in names],
        partition_key=partition_key,
        tags=tags,
        resources={"lake": lake_resource},
        instance=instance,
        raise_on_error=raise_on_error,
    )


def _mat_metadata(result: dg.ExecuteInProcessResult, table: str) -> dict:
    mats = [
        m
        for m in result.get_asset_materialization_events()
        if m.asset_key.to_user_string() == table
    ]
    return {k: v.value for k, v in mats[0].materialization.metadata.items()}


def _checks(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetCheckEvaluation]:
    return {
        f"{e.asset_key.to_user_string()}:{e.check_name}": e
        for e in result.get_asset_check_evaluations()
    }


#: What each valid file above must become (contract columns, typed), row by row.
EXPECTED: dict[str, dict[str, list]] = {
    "invoice_lines": {
        "invoice_id": ["INV-1", "INV-1"],
        "line_id": ["L-1", "L-2"],
        "account_id": ["A-1", "A-1"],
        "issued_at": [ts(2025, 9, 1, 8), ts(2025, 9, 1, 8)],
        "paid_at": [None, dt.datetime(2025, 9, 1, 9, 30, 0, 500000, tzinfo=UTC)],
        "service_start": [D(2025, 9, 1), D(2025, 9, 1)],
        "service_end": [D(2026, 9, 1), D(2026, 9, 1)],
        "product": ["seat_license", "support:premium"],
        "quantity": [10, 1],
        "unit_price_usd": [30.0, 1200.0],
        "amount_usd": [3600.0, 1200.0],
        "status": ["open", "paid"],
    },
    "ops_expenses": {
        "expense_id": ["E-1", "E-2"],
        "month": ["2025-09", "2025-09"],
        "category": ["hosting", "laptops"],
        "capex": [False, True],
        "vendor": ["Cloud, Inc.", "Dell"],
        "amount_usd": [1500.25, 3600.0],
        "account_id": [None, "A-1"],
    },
    "salaries": {
        "month": ["2025-09", "2025-09"],
        "team": ["engineering", "sales"],
        "headcount": [12, 5],
        "salary_cost_usd": [180000.0, 55000.5],
    },
    "accounts": {
        "account_id": ["A-1", "A-2"],
        "name": ["Acme", None],
        "segment": ["smb", "enterprise"],
        "region": ["emea", None],
        "industry": ["retail", None],
        "created_at": [ts(2025, 9, 1, 7), ts(2025, 9, 1, 7, 5)],
    },
    "account_events": {
        "event_id": ["EV-1", "EV-2"],
        "account_id": ["A-1", "A-1"],
        "event_type": ["account_created", "subscribed"],
        "effective_at": [ts(2025, 9, 1, 7), ts(2025, 9, 1, 8)],
        "recorded_at": [ts(2025, 9, 1, 7, 0, 1), ts(2025, 9, 1, 8)],
        "plan": [None, "pro"],
        "seats": [None, 10],
        "contract_end": [None, D(2026, 9, 1)],
        "mrr_usd": [None, 400.5],
    },
    "directory_users": {
        "user_id": ["U-1", "U-2"],
        "account_id": ["A-1", "A-1"],
        "team": ["sales", "support"],
        "licensed": [True, False],
        "created_at": [ts(2025, 9, 1, 7, 10), ts(2025, 9, 1, 7, 11)],
        "deactivated_at": [None, ts(2025, 9, 1, 18)],
    },
    "experiment_registry": {
        "experiment_id": ["X-1", "X-2"],
        "unit_type": ["account", "user"],
        "variants": ["control|treatment", "a|b|c"],
        "weights": ["0.5|0.5", "0.2|0.3|0.5"],
        "start_date": [D(2025, 9, 1), D(2025, 9, 15)],
        "end_date": [D(2025, 10, 1), None],
        "primary_metric": ["sessions", "hours_per_active_day"],
    },
    "experiment_assignments": {
        "experiment_id": ["X-1", "X-2"],
        "unit_type": ["account", "user"],
        "unit_id": ["A-1", "U-1"],
        "variant": ["treatment", "b"],
        # an explicit offset is converted to UTC
        "assigned_at": [ts(2025, 9, 1, 10), ts(2025, 9, 1, 8)],
    },
    "filings": {
        "month": ["2025-09"],
        "revenue_usd": [10000.0],
        "expenses_usd": [8000.0],
    },
}


def _expected_frame(name: str) -> pl.DataFrame:
    source = SOURCES[name]
    rel_path = VALID_FILES[name][0]
    rows = len(next(iter(EXPECTED[name].values())))
    data = dict(EXPECTED[name])
    if source.grain != "none":  # the landing day, or the first day of the landing month
        data[source.partition_col] = [D(2025, 9, 1)] * rows
    data["_source_file"] = [rel_path] * rows
    data["_row_number"] = list(range(1, rows + 1))
    return pl.DataFrame(data, schema=staging_columns(source))


GRAINS = {
    "daily": [n for n, s in SOURCES.items() if s.grain == "daily" and n != "clicks"],
    "monthly": [n for n, s in SOURCES.items() if s.grain == "monthly"],
    "none": ["experiment_registry"],
}


@pytest.mark.parametrize("grain", ["daily", "monthly", "none"])
def test_every_source_is_staged_typed(grain, lake, lake_resource, instance) -> None:
    names = GRAINS[grain]
    for name in names:
        write_landing(lake, *VALID_FILES[name])
    before = landing_hashes(lake)
    result = _run(names, lake_resource, instance, "2025-09-01" if grain != "none" else None)
    assert result.success
    assert landing_hashes(lake) == before, "landed files must never be modified"
    for name in names:
        table = SOURCES[name].staging_table
        got = lake.read(table)
        assert got.schema == pl.Schema(staging_columns(SOURCES[name])), name
        assert got.equals(_expected_frame(name)), f"{name}:\n{got}"
        meta = _mat_metadata(result, table)
        assert meta["rows_written"] == got.height
        assert meta["rows_quarantined"] == 0
    for check in _checks(result).values():
        assert check.passed, check


def test_all_staging_tables_and_raw_assets_are_declared() -> None:
    staged = sorted(n for n in SOURCES if n != "clicks")
    assert sorted(ASSETS) == [f"stg_{n}" for n in staged]
    assert sorted(s.key.to_user_string() for s in RAW_SPECS) == [f"raw_{n}" for n in staged]
    for spec in RAW_SPECS:
        stg = ASSETS[spec.key.to_user_string().replace("raw_", "stg_")]
        assert stg.group_names_by_key[stg.key] == "staging" and spec.group_name == "staging"
        assert {d.asset_key for d in stg.specs_by_key[stg.key].deps} == {spec.key}
        assert stg.partitions_def == spec.partitions_def


# -- quarantine -------------------------------------------------------------------------------
BAD_INVOICES = """\
invoice_id,line_id,account_id,issued_at,paid_at,service_start,service_end,product,quantity,unit_price_usd,amount_usd,status
INV-1,L-1,A-1,2025-09-01T08:00:00Z,,2025-09-01,2026-09-01,seat_license,10,30.0,3600.0,open
INV-1,L-2,A-1,2025-09-01T08:00:00Z,,2025-09-01,2026-09-01,seat_license,10,30.0,12O0.0,open
INV-1,L-3,A-1,2025-09-31T08:00:00Z,,2025-09-01,2026-09-01,seat_license,10,30.0,3600.0,open
INV-1,L-4,,2025-09-01T08:00:00Z,,2025-09-01,2026-09-01,seat_license,10,30.0,3600.0,open
INV-1,L-5,A-1,2025-09-01T08:00:00Z,,2025-09-01,2026-09-01,seat_license,10,30.0,3600.0,pending
INV-1,L-6,A-1,2025-09-01T08:00:00Z,,2025-09-01,2026-09-01,seat_license,10,30.0,3600.0
INV-1,L-7,A-1,2025-09-01T08:00:00Z,,2025-09-01,2025-09-01,seat_license,-1,30.0,3600.0,open
"""

BAD_EVENTS = """\
{"event_id": "EV-1", "account_id": "A-1", "event_type": "subscribed", "effective_at": "2025-09-01T08:00:00Z", "recorded_at": "2025-09-01T08:00:00Z", "plan": "pro", "seats": 10, "contract_end": "2026-09-01", "mrr_usd": 400.5}
{"event_id": "EV-2", "account_id": "A-1", "event_type": "seats_changed", "effective_at": "2025-09-01T09:00:00Z", "recorded_at": "2025-09-01T09:00:00Z", "plan": "pro", "seats": 12, "contr
{"event_id": "EV-3", "account_id": "A-1", "event_type": "upgraded", "effective_at": "2025-09-01T10:00:00Z", "recorded_at": "2025-09-01T10:00:00Z", "plan": "pro", "seats": 12, "contract_end": "2026-09-01", "mrr_usd": "lots"}
"""


def test_malformed_rows_are_quarantined_with_file_row_column_reason(
    lake, lake_resource, instance
) -> None:
    inv = "billing/invoices/date=2025-09-01/invoices-0001.csv"
    ev = "crm/account_events/date=2025-09-01/events-0001.jsonl"
    write_landing(lake, inv, BAD_INVOICES)
    write_landing(lake, ev, BAD_EVENTS)
    before = landing_hashes(lake)
    result = _run(["invoice_lines", "account_events"], lake_resource, instance, "2025-09-01")
    assert landing_hashes(lake) == before

    assert lake.read("stg_invoice_lines")["line_id"].to_list() == ["L-1"]
    assert lake.read("stg_account_events")["event_id"].to_list() == ["EV-1"]
    lines = BAD_INVOICES.splitlines()
    ev_lines = BAD_EVENTS.splitlines()
    got = lake.read(QUARANTINE_TABLE).sort("source", "row_number")
    assert got.select("source", "partition_key", "file", "row_number", "column", "reason", "raw").rows() == [
        ("account_events", "2025-09-01", ev, 2, None, "broken JSON: Unterminated string starting at", ev_lines[1]),
        (
            "account_events", "2025-09-01", ev, 3, "event_type",
            "not one of the allowed values (account_created, trial_started, subscribed, "
            "seats_changed, plan_changed, addon_added, addon_removed, renewal_opened, renewed, "
            "churned, reactivated): 'upgraded'; mrr_usd: not a valid number: 'lots'",
            ev_lines[2],
        ),
        ("invoice_lines", "2025-09-01", inv, 2, "amount_usd", "not a valid number: '12O0.0'", lines[2]),
        (
            "invoice_lines", "2025-09-01", inv, 3, "issued_at",
            "not a valid UTC timestamp (YYYY-MM-DDTHH:MM:SSZ): '2025-09-31T08:00:00Z'",
            lines[3],
        ),
        ("invoice_lines", "2025-09-01", inv, 4, "account_id", "missing required value", lines[4]),
        (
            "invoice_lines", "2025-09-01", inv, 5, "status",
            "not one of the allowed values (paid, open, void, refunded): 'pending'",
            lines[5],
        ),
        ("invoice_lines", "2025-09-01", inv, 6, None, "expected 12 fields, found 11", lines[6]),
        (
            "invoice_lines", "2025-09-01", inv, 7, "service_end",
            "service_end must be after service_start (periods are [start, end)); "
            "quantity: quantity must not be negative (except on refund lines)",
            lines[7],
        ),
    ]  # fmt: skip

    meta = _mat_metadata(result, "stg_invoice_lines")
    assert (meta["rows_landed"], meta["rows_written"], meta["rows_quarantined"]) == (7, 1, 6)
    checks = _checks(result)
    share = checks["stg_invoice_lines:quarantine_share"]
    assert not share.passed and share.severity == dg.AssetCheckSeverity.ERROR  # 6/7 > 5 %
    assert "2025-09-01: 6/7" in share.description


def test_each_writer_reports_its_quarantine_partitions_as_a_materialization(
    lake, lake_resource, instance
) -> None:
    """The quarantine table is an asset: every staging step that writes it records, in the
    instance, which lake partitions it wrote and how many rows; a clean rerun that clears them
    reports the clearing too, and a step that never quarantined reports nothing."""
    write_landing(lake, "billing/invoices/date=2025-09-01/invoices-0001.csv", BAD_INVOICES)
    write_landing(lake, "crm/account_events/date=2025-09-01/events-0001.jsonl", BAD_EVENTS)
    write_landing(lake, *VALID_FILES["directory_users"])  # clean: quarantines nothing
    _run(
        ["invoice_lines", "account_events", "directory_users"],
        lake_resource,
        instance,
        "2025-09-01",
    )

    def reported() -> list[dict]:
        records = instance.fetch_materializations(dg.AssetKey(QUARANTINE_TABLE), limit=100)
        return [
            {k: getattr(v, "value", v) for k, v in r.asset_materialization.metadata.items()}
            for r in reversed(records.records)
        ]

    first = sorted(reported(), key=lambda m: m["source"])
    assert first == [
        {"source": "account_events", "rows_written": 2, "lake_partitions": ["account_events__2025-09-01"]},
        {"source": "invoice_lines", "rows_written": 6, "lake_partitions": ["invoice_lines__2025-09-01"]},
    ]  # fmt: skip
    assert sorted(lake.partition_keys(QUARANTINE_TABLE)) == [
        "account_events__2025-09-01",
        "invoice_lines__2025-09-01",
    ]

    # the source re-lands a clean file: the rerun clears its quarantine rows, and says so
    write_landing(
        lake, "billing/invoices/date=2025-09-01/invoices-0001.csv", VALID_FILES["invoice_lines"][1]
    )
    _run(["invoice_lines"], lake_resource, instance, "2025-09-01")
    last = reported()[-1]
    assert last == {
        "source": "invoice_lines",
        "rows_written": 0,
        "lake_partitions": ["invoice_lines__2025-09-01"],
    }
    assert set(lake.read(QUARANTINE_TABLE)["source"]) == {"account_events"}


def test_quarantine_share_warns_below_five_percent(lake, lake_resource, instance) -> None:
    header, good = VALID_FILES["accounts"][1].splitlines()[:2]
    rows = [good.strip().replace("A-1", f"A-{i}") for i in range(1, 41)]
    rows[9] = rows[9].replace("smb", "")  # segment is required
    write_landing(lake, VALID_FILES["accounts"][0], "\n".join([header.strip(), *rows]) + "\n")
    result = _run(["accounts"], lake_resource, instance, "2025-09-01")
    share = _checks(result)["stg_accounts:quarantine_share"]
    assert not share.passed and share.severity == dg.AssetCheckSeverity.WARN  # 1/40 = 2.5 %
    assert lake.read(QUARANTINE_TABLE).select("row_number", "column").rows() == [(10, "segment")]


# -- schema drift -----------------------------------------------------------------------------
def test_schema_drift_fails_naming_file_and_column(lake, lake_resource, instance) -> None:
    good = "billing/invoices/date=2025-09-01/invoices-0001.csv"
    drifted = "billing/invoices/date=2025-09-02/invoices-0001.csv"
    write_landing(lake, good, VALID_FILES["invoice_lines"][1])
    content = VALID_FILES["invoice_lines"][1].replace("unit_price_usd", "unit_price_eur", 1)
    write_landing(lake, drifted, content.replace("status\n", "status,discount\n", 1))
    result = _run(
        ["invoice_lines"],
        lake_resource,
        instance,
        tags=range_tags("2025-09-01", "2025-09-02"),
        raise_on_error=False,
    )
    assert not result.success
    failure = result.get_step_failure_events()[0].step_failure_data
    message = failure.user_failure_data.description
    assert drifted in message
    assert "missing column(s) unit_price_usd" in message
    assert "unexpected column(s) unit_price_eur, discount" in message
    assert good not in message
    # nothing written for the range, not even the good day
    assert lake.partition_keys("stg_invoice_lines") == []
    assert lake.partition_keys(QUARANTINE_TABLE) == []


def test_jsonl_with_an_unexpected_key_is_drift(lake, lake_resource, instance) -> None:
    rel, content = VALID_FILES["account_events"]
    write_landing(lake, rel, content.replace('"mrr_usd": 400.5', '"mrr_usd": 400.5, "mrr_eur": 1'))
    result = _run(["account_events"], lake_resource, instance, "2025-09-01", raise_on_error=False)
    message = result.get_step_failure_events()[0].step_failure_data.user_failure_data.description
    assert f"{rel}: unexpected column(s) mrr_eur" in message


# -- ranges, empty partitions, idempotency ----------------------------------------------------
def test_range_run_writes_every_partition_including_empty_ones(
    lake, lake_resource, instance
) -> None:
    rel, content = VALID_FILES["account_events"]
    write_landing(lake, rel, content)
    write_landing(
        lake,
        rel.replace("2025-09-01", "2025-09-03"),
        content.replace("EV-1", "EV-3").replace("EV-2", "EV-4"),
    )
    # another source delivered through 09-05: the CRM's days without a file are quiet days
    # inside its life, so they are facts ("no events"), not days no source has reached yet
    directory, users = VALID_FILES["directory_users"]
    write_landing(lake, directory.replace("2025-09-01", "2025-09-05"), users)
    result = _run(
        ["account_events"],
        lake_resource,
        instance,
        tags=range_tags("2025-09-01", "2025-09-05"),
    )
    keys = ["2025-09-01", "2025-09-02", "2025-09-03", "2025-09-04", "2025-09-05"]
    assert lake.partition_keys("stg_account_events") == keys
    per_key = {k: lake.read("stg_account_events", [k]).height for k in keys}
    assert per_key == {k: (2 if k in ("2025-09-01", "2025-09-03") else 0) for k in keys}
    assert lake.read("stg_account_events", ["2025-09-03"])["export_date"].unique().to_list() == [
        D(2025, 9, 3)
    ]
    meta = _mat_metadata(result, "stg_account_events")
    assert meta["partitions_without_files"] == ["2025-09-02", "2025-09-04", "2025-09-05"]
    assert meta["no_file_landed"].startswith("no file landed for 3 of 5")
    mats = result.get_asset_materialization_events()
    assert sorted(m.partition for m in mats) == keys


def test_monthly_partition_reads_its_month_folder(lake, lake_resource, instance) -> None:
    rel, content = VALID_FILES["salaries"]
    write_landing(lake, rel, content)
    write_landing(lake, rel.replace("2025-09", "2025-10"), content.replace("2025-09", "2025-10"))
    _run(
        ["salaries"],
        lake_resource,
        instance,
        tags=range_tags("2025-09-01", "2025-11-01"),
    )
    assert lake.partition_keys("stg_salaries") == ["2025-09-01", "2025-10-01", "2025-11-01"]
    oct_rows = lake.read("stg_salaries", ["2025-10-01"])
    assert oct_rows["month"].to_list() == ["2025-10", "2025-10"]
    assert oct_rows["month_start"].to_list() == [D(2025, 10, 1)] * 2
    assert lake.read("stg_salaries", ["2025-11-01"]).height == 0


def test_rerun_is_idempotent(lake, lake_resource, instance) -> None:
    write_landing(lake, "billing/invoices/date=2025-09-01/invoices-0001.csv", BAD_INVOICES)
    write_landing(
        lake, "billing/invoices/date=2025-09-01/invoices-0002.csv", VALID_FILES["invoice_lines"][1]
    )
    directory, users = VALID_FILES["directory_users"]  # the sources delivered through 09-02
    write_landing(lake, directory.replace("2025-09-01", "2025-09-02"), users)
    tags = range_tags("2025-09-01", "2025-09-02")
    _run(["invoice_lines"], lake_resource, instance, tags=tags)
    first = (lake.read("stg_invoice_lines"), lake.read(QUARANTINE_TABLE))
    _run(["invoice_lines"], lake_resource, instance, tags=tags)
    _run(["invoice_lines"], lake_resource, instance, partition_key="2025-09-01")
    second = (lake.read("stg_invoice_lines"), lake.read(QUARANTINE_TABLE))
    assert first[0].height == 3 and first[1].height == 6
    assert first[0].equals(second[0]) and first[1].equals(second[1])
    assert first[0].select("_source_file", "_row_number").rows() == [
        ("billing/invoices/date=2025-09-01/invoices-0001.csv", 1),
        ("billing/invoices/date=2025-09-01/invoices-0002.csv", 1),
        ("billing/invoices/date=2025-09-01/invoices-0002.csv", 2),
    ]


def test_duplicate_event_id_across_partitions_fails_uniqueness(
    lake, lake_resource, instance
) -> None:
    rel, content = VALID_FILES["account_events"]
    write_landing(lake, rel, content)
    _run(["account_events"], lake_resource, instance, "2025-09-01")
    # the same event recorded again a day later (only EV-2 kept)
    write_landing(lake, rel.replace("09-01", "09-02"), content.splitlines()[1] + "\n")
    result = _run(["account_events"], lake_resource, instance, "2025-09-02")
    check = _checks(result)["stg_account_events:unique_event_id_per_table"]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.ERROR
    assert check.metadata["duplicated_keys"].value == 1
    assert "EV-2" in check.metadata["examples"].value


def test_a_registry_that_never_landed_is_refused_not_staged_empty(
    lake, lake_resource, instance
) -> None:
    """Nothing is built from nothing (docs/operations.md §3): no registry has landed, so there
    is nothing to stage; the run refuses, naming the source, and writes no table. (Fails if
    ``SourceData._landed`` accepts a source with no landing.)"""
    with pytest.raises(dg.Failure, match="stg_experiment_registry current: experiment_registry "
                       "has landed nothing"):  # fmt: skip
        _run(["experiment_registry"], lake_resource, instance)
    assert "stg_experiment_registry" not in lake.tables()


def test_lake_is_untouched_outside_the_range(lake: Lake, lake_resource, instance) -> None:
    rel, content = VALID_FILES["accounts"]
    write_landing(lake, rel, content)
    write_landing(lake, rel.replace("09-01", "09-02"), content)
    _run(
        ["accounts"],
        lake_resource,
        instance,
        tags=range_tags("2025-09-01", "2025-09-02"),
    )
    files_02 = lake.partition_files("stg_accounts", ["2025-09-02"])
    _run(["accounts"], lake_resource, instance, "2025-09-01")
    assert lake.partition_files("stg_accounts", ["2025-09-02"]) == files_02


# -- the simulated company --------------------------------------------------------------------
def test_simulated_company_quarantines_exactly_the_injected_malformed_rows(
    sim_data: Lake, tmp_path, instance
) -> None:
    """Stage the whole "test" profile; the quarantine must equal the fault manifest's rows."""
    import json

    # Our own data root whose landing/ is the shared simulated one (read-only for us).
    root = tmp_path / "data"
    root.mkdir()
    (root / "landing").symlink_to(sim_data.landing, target_is_directory=True)
    lake = Lake(root)
    resource = LakeResource(data_root=str(root), duckdb_memory_limit="1GB", duckdb_threads=2)
    manifest = json.loads((sim_data.truth / "fault_manifest.json").read_text())
    last_day = (dt.date.fromisoformat(manifest["end_exclusive"]) - dt.timedelta(days=1)).isoformat()
    before = landing_hashes(lake)

    # every source over the days it delivered (the experiments start weeks after the company)
    results = [_run(GRAINS["none"], resource, instance)]
    for pdef in (partitions.daily, partitions.monthly):
        wave = [dg.AssetKey(f"stg_{n}") for n in GRAINS[grid_of(pdef)]]
        for keys, (first, last) in wave_runs(
            GRAPH, resource, pdef, wave, manifest["start"], last_day
        ):
            names = [k.to_user_string().removeprefix("stg_") for k in keys]
            results.append(_run(names, resource, instance, tags=range_tags(first, last)))
    assert landing_hashes(lake) == before

    expected = sorted(
        (m["source"], m["file"], m["row"], m["column"])
        for m in manifest["malformed"]
        if m["source"] != "clicks"
    )
    assert len(expected) >= 5
    got = lake.read(QUARANTINE_TABLE).select("source", "file", "row_number", "column")
    assert sorted(got.rows()) == expected

    # nothing lost: every landed data row is either staged or quarantined
    for name in (n for names in GRAINS.values() for n in names):
        source = SOURCES[name]
        landed = sum(
            sum(1 for line in p.read_text().splitlines() if line.strip()) - (source.fmt == "csv")
            for p in (lake.landing / source.path).parent.rglob(f"*.{source.fmt}")
            if p.is_relative_to(lake.landing / source.path)
        )
        staged = lake.read(source.staging_table).height
        quarantined = sum(1 for e in expected if e[0] == name)
        assert staged + quarantined == landed, name

    # the only failing checks are the quarantine shares of sources with injected rows
    failing = {
        key
        for result in results
        for key, evaluation in _checks(result).items()
        if not evaluation.passed
    }
    assert failing == {f"stg_{e[0]}:quarantine_share" for e in expected}

    # every staging table and the quarantine hold exactly their declared columns (issue #15)
    checked = assert_written_as_declared(lake)
    assert set(checked) == {s.staging_table for n, s in SOURCES.items() if n != "clicks"} | {
        QUARANTINE_TABLE
    }


def test_simulated_schema_drift_fails_naming_the_drifted_file(
    lake, lake_resource, instance
) -> None:
    """The simulator's drift switch renames a column in one file: the range run must name both."""
    import json

    from pacific_tools.simulate import simulate

    simulate(lake.root, profile="test", seed=7, schema_drift=True, events_per_user_day=0.1, days=40)
    (drift,) = json.loads((lake.truth / "fault_manifest.json").read_text())["schema_drift_files"]
    assert drift["source"] == "invoice_lines"
    result = _run(
        ["invoice_lines"],
        lake_resource,
        instance,
        tags=range_tags("2025-09-01", "2025-10-10"),
        raise_on_error=False,
    )
    message = result.get_step_failure_events()[0].step_failure_data.user_failure_data.description
    ((old, new),) = drift["renamed"].items()
    assert f"{drift['file']}: missing column(s) {old}; unexpected column(s) {new}" in message
    assert lake.partition_keys("stg_invoice_lines") == []
