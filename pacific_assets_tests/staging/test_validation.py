"""The shared read-and-validate path, without Dagster: every malformed kind and edge of the contract."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from pacific_assets.contracts import SOURCES
from pacific_assets.staging.assets import read_and_validate
from pacific_assets.staging.landing import SchemaDriftError

from .conftest import VALID_FILES, write_landing


def _quarantine(run) -> list[tuple]:
    return run.quarantine.select("row_number", "column", "reason").rows()


def test_bad_boolean_date_and_non_finite_amount(lake) -> None:
    write_landing(
        lake,
        "ops/expenses/month=2025-09/expenses.csv",
        """\
        expense_id,month,category,capex,vendor,amount_usd,account_id
        E-1,2025-09,hosting,yes,Cloud,10,
        E-2,2025-09,hosting,false,Cloud,inf,
        E-3,2025-9,hosting,false,Cloud,NaN,
        E-4,2025-09,hosting,true,Cloud,-5.5,
        """,
    )
    run = read_and_validate(lake, SOURCES["ops_expenses"], ["2025-09-01"])
    assert _quarantine(run) == [
        (1, "capex", "not a valid boolean (true/false): 'yes'"),
        (2, "amount_usd", "not a finite number: 'inf'"),
        (3, "month", "not a YYYY-MM month; amount_usd: not a finite number: 'NaN'"),
    ]
    assert run.valid["expense_id"].to_list() == ["E-4"]  # a credit (negative) is allowed
    assert run.stats["2025-09-01"].rows_quarantined == 3


def test_bad_date_and_registry_weights(lake) -> None:
    write_landing(
        lake,
        "experiments/registry.csv",
        """\
        experiment_id,unit_type,variants,weights,start_date,end_date,primary_metric
        X-1,account,control|treatment,0.5|0.5,2025-09-01,2025-10-01,sessions
        X-2,account,control|treatment,0.5|0.4,2025-09-01,,sessions
        X-3,account,control|treatment,0.5,2025-09-01,,sessions
        X-4,team,control|treatment,0.5|0.5,01/09/2025,2025-08-01,sessions
        """,
    )
    run = read_and_validate(lake, SOURCES["experiment_registry"], ["current"])
    assert _quarantine(run) == [
        (2, "weights", "weights must be numbers summing to 1"),
        (
            3,
            "weights",
            "weights must list one number per variant; weights: weights must be numbers summing to 1",
        ),
        (
            4,
            "unit_type",
            "not one of the allowed values (account, user): 'team'; "
            "start_date: not a valid date (YYYY-MM-DD): '01/09/2025'",
        ),
    ]
    assert run.valid["experiment_id"].to_list() == ["X-1"]


def test_csv_edges_column_order_quotes_blank_lines_and_bad_bytes(lake) -> None:
    path = lake.landing / "crm/accounts/date=2025-09-01/accounts.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes(
        b"created_at,account_id,segment,name,region,industry\n"  # order differs: fine
        b'2025-09-01T07:00:00Z,A-1,smb,"Acme\nWest, Ltd",emea,retail\n'  # quoted newline
        b"\n"  # blank line: not a record
        b"2025-09-01T07:00:00Z,A-2,smb,Caf\xe9,emea,retail\n"  # latin-1 byte
        b"2025-09-01T07:00:00Z,A-3,smb,Beta,emea,retail\n"
    )
    run = read_and_validate(lake, SOURCES["accounts"], ["2025-09-01"])
    assert run.valid.select("account_id", "name", "_row_number").rows() == [
        ("A-1", "Acme\nWest, Ltd", 1),
        ("A-3", "Beta", 3),
    ]
    assert run.quarantine.select("row_number", "reason", "raw").rows() == [
        (2, "not valid UTF-8", "2025-09-01T07:00:00Z,A-2,smb,Caf\ufffd,emea,retail"),
    ]


def test_quarantined_raw_keeps_a_multiline_record_whole(lake) -> None:
    write_landing(
        lake,
        "crm/accounts/date=2025-09-01/accounts.csv",
        'account_id,name,segment,region,industry,created_at\nA-1,"Acme\nWest",smb,emea,retail,never\n',
    )
    run = read_and_validate(lake, SOURCES["accounts"], ["2025-09-01"])
    assert run.quarantine.select("row_number", "column", "raw").rows() == [
        (1, "created_at", 'A-1,"Acme\nWest",smb,emea,retail,never')
    ]


def test_jsonl_edges(lake) -> None:
    write_landing(
        lake,
        "crm/account_events/date=2025-09-01/events.jsonl",
        """\
        {"event_id": "EV-1", "account_id": "A-1", "event_type": "account_created", "effective_at": "2025-09-01T07:00:00Z", "recorded_at": "2025-09-01T07:00:00Z", "plan": null, "seats": null, "contract_end": null, "mrr_usd": null}
        ["EV-2"]
        {"event_id": "EV-3", "account_id": "A-1", "event_type": "subscribed", "effective_at": "2025-09-01T07:00:00Z", "recorded_at": "2025-09-01T07:00:00Z", "plan": {"name": "pro"}}
        {"event_id": "EV-4", "account_id": "A-1", "event_type": "subscribed", "effective_at": "2025-09-01T07:00:00Z", "recorded_at": "2025-09-01T07:00:00Z", "seats": 3.5}
        {"event_id": "EV-5", "account_id": "A-1", "event_type": "seats_changed", "effective_at": "2025-09-01T07:00:00Z", "recorded_at": "2025-09-01T07:00:00Z", "seats": -1, "mrr_usd": 10}
        {"event_id": "EV-6", "account_id": "A-1", "event_type": "renewed", "effective_at": "2025-09-01T07:00:00Z", "recorded_at": "2025-09-01T07:00:00Z"}
        """,
    )
    run = read_and_validate(lake, SOURCES["account_events"], ["2025-09-01"])
    assert _quarantine(run) == [
        (2, None, "not a JSON object: list"),
        (3, "plan", "expected a scalar, found an object/array"),
        (4, "seats", "not a valid integer: '3.5'"),
        (5, "seats", "seats must not be negative"),
    ]
    # a key left out of one line is a null in that line
    assert run.valid.select("event_id", "plan", "seats").rows() == [
        ("EV-1", None, None),
        ("EV-6", None, None),
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "empty file, no header row"),
        ("account_id,name,segment,region,created_at\n", "missing column(s) industry"),
        (
            "account_id,name,segment,region,industry,created_at,created_at\n",
            "duplicated column(s) created_at",
        ),
    ],
)
def test_csv_header_drift(lake, content, message) -> None:
    rel = "crm/accounts/date=2025-09-01/accounts.csv"
    write_landing(lake, rel, content)
    with pytest.raises(SchemaDriftError, match=re.escape(message)) as err:
        read_and_validate(lake, SOURCES["accounts"], ["2025-09-01"])
    assert rel in str(err.value)


def test_header_only_file_is_an_empty_partition(lake) -> None:
    write_landing(lake, "hr/salaries/month=2025-09/s.csv", "month,team,headcount,salary_cost_usd\n")
    run = read_and_validate(lake, SOURCES["salaries"], ["2025-09-01"])
    assert run.valid.height == 0 and run.stats["2025-09-01"].files == 1


def test_hidden_and_foreign_files_are_ignored(lake) -> None:
    rel, content = VALID_FILES["filings"]
    write_landing(lake, rel, content)
    write_landing(lake, rel.replace("filing.csv", ".filing.csv.tmp"), "garbage")
    write_landing(lake, rel.replace("filing.csv", "_SUCCESS"), "")
    write_landing(lake, rel.replace("filing.csv", "notes.txt"), "hello")
    run = read_and_validate(lake, SOURCES["filings"], ["2025-09-01"])
    assert run.valid["month_start"].to_list() == [dt.date(2025, 9, 1)]
    assert run.stats["2025-09-01"].files == 1


def test_refund_lines_are_negative_and_other_lines_are_not(lake) -> None:
    write_landing(
        lake,
        "billing/invoices/date=2025-09-01/invoices.csv",
        """\
        invoice_id,line_id,account_id,issued_at,paid_at,service_start,service_end,product,quantity,unit_price_usd,amount_usd,status
        INV-1,L-1-R1,A-1,2025-09-01T08:00:00Z,2025-09-01T08:00:00Z,2025-09-01,2026-06-01,seat_license,-2,30.0,-60.0,refunded
        INV-1,L-1-R2,A-1,2025-09-01T08:00:00Z,2025-09-01T08:00:00Z,2025-09-01,2026-06-01,seat_license,-2,30.0,60.0,refunded
        INV-2,L-2,A-1,2025-09-01T08:00:00Z,,2025-09-01,2026-06-01,feature:sso,-1,30.0,30.0,open
        INV-3,L-3,A-1,2025-09-01T08:00:00Z,,2025-09-01,2026-06-01,addon:sso,1,30.0,30.0,paid
        """,
    )
    run = read_and_validate(lake, SOURCES["invoice_lines"], ["2025-09-01"])
    assert run.valid["line_id"].to_list() == ["L-1-R1"]
    assert _quarantine(run) == [
        (2, "amount_usd", "refund lines carry a negative amount_usd"),
        (3, "quantity", "quantity must not be negative (except on refund lines)"),
        (
            4,
            "paid_at",
            "status is paid but paid_at is empty; "
            "product: product must be seat_license, feature:<name> or support:<tier>",
        ),
    ]
