"""Hand-written landing files for the staging tests: a few rows per source, every one checked."""

from __future__ import annotations

import hashlib
import textwrap
from pathlib import Path

import dagster as dg
import pytest

from pacific_assets.storage.lake import Lake

#: One valid landed file per source: (path under landing, content).
VALID_FILES: dict[str, tuple[str, str]] = {
    "invoice_lines": (
        "billing/invoices/date=2025-09-01/invoices-0001.csv",
        """\
        invoice_id,line_id,account_id,issued_at,paid_at,service_start,service_end,product,quantity,unit_price_usd,amount_usd,status
        INV-1,L-1,A-1,2025-09-01T08:00:00Z,,2025-09-01,2026-09-01,seat_license,10,30.0,3600.0,open
        INV-1,L-2,A-1,2025-09-01T08:00:00Z,2025-09-01T09:30:00.5Z,2025-09-01,2026-09-01,support:premium,1,1200,1200,paid
        """,
    ),
    "ops_expenses": (
        "ops/expenses/month=2025-09/expenses.csv",
        """\
        expense_id,month,category,capex,vendor,amount_usd,account_id
        E-1,2025-09,hosting,false,"Cloud, Inc.",1500.25,
        E-2,2025-09,laptops,true,Dell,3600,A-1
        """,
    ),
    "salaries": (
        "hr/salaries/month=2025-09/salaries.csv",
        """\
        month,team,headcount,salary_cost_usd
        2025-09,engineering,12,180000.0
        2025-09,sales,5,55000.5
        """,
    ),
    "accounts": (
        "crm/accounts/date=2025-09-01/accounts.csv",
        """\
        account_id,name,segment,region,industry,created_at
        A-1,Acme,smb,emea,retail,2025-09-01T07:00:00Z
        A-2,,enterprise,,,2025-09-01T07:05:00Z
        """,
    ),
    "account_events": (
        "crm/account_events/date=2025-09-01/events-0001.jsonl",
        """\
        {"event_id": "EV-1", "account_id": "A-1", "event_type": "account_created", "effective_at": "2025-09-01T07:00:00Z", "recorded_at": "2025-09-01T07:00:01Z", "plan": null, "seats": null, "contract_end": null, "mrr_usd": null}
        {"event_id": "EV-2", "account_id": "A-1", "event_type": "subscribed", "effective_at": "2025-09-01T08:00:00Z", "recorded_at": "2025-09-01T08:00:00Z", "plan": "pro", "seats": 10, "contract_end": "2026-09-01", "mrr_usd": 400.5}
        """,
    ),
    "directory_users": (
        "directory/users/date=2025-09-01/users.csv",
        """\
        user_id,account_id,team,licensed,created_at,deactivated_at
        U-1,A-1,sales,true,2025-09-01T07:10:00Z,
        U-2,A-1,support,FALSE,2025-09-01T07:11:00Z,2025-09-01T18:00:00Z
        """,
    ),
    "experiment_registry": (
        "experiments/registry.csv",
        """\
        experiment_id,unit_type,variants,weights,start_date,end_date,primary_metric
        X-1,account,control|treatment,0.5|0.5,2025-09-01,2025-10-01,sessions
        X-2,user,a|b|c,0.2|0.3|0.5,2025-09-15,,hours_per_active_day
        """,
    ),
    "experiment_assignments": (
        "experiments/assignments/date=2025-09-01/assignments.csv",
        """\
        experiment_id,unit_type,unit_id,variant,assigned_at
        X-1,account,A-1,treatment,2025-09-01T10:00:00Z
        X-2,user,U-1,b,2025-09-01T10:00:00+02:00
        """,
    ),
    "filings": (
        "finance/filings/month=2025-09/filing.csv",
        """\
        month,revenue_usd,expenses_usd
        2025-09,10000.0,8000
        """,
    ),
}


def write_landing(lake: Lake, rel_path: str, content: str) -> Path:
    """Land a file as a source would (dedented, so tests can indent their CSV)."""
    path = lake.landing / rel_path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(content), encoding="utf-8")
    return path


def landing_hashes(lake: Lake) -> dict[str, str]:
    """SHA-256 and mtime of every landed file: proof that a run changed nothing there."""
    return {
        str(
            p.relative_to(lake.landing)
        ): f"{hashlib.sha256(p.read_bytes()).hexdigest()}@{p.stat().st_mtime_ns}"
        for p in sorted(lake.landing.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def instance() -> dg.DagsterInstance:
    return dg.DagsterInstance.ephemeral()
