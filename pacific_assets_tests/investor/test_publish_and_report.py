"""Publication, restatement detection and the pack, without Spark (hand-made KPI rows)."""

from __future__ import annotations

import datetime as dt
import stat

import polars as pl
import pytest

from pacific_assets.investor import publish, report
from pacific_assets.investor.completeness import STATUS_SCHEMA
from pacific_assets.investor.inputs import MONTHLY, WEEKLY
from pacific_assets.investor.rollup import output_schema

OCT = dt.date(2025, 10, 1)


def _kpis(**overrides) -> pl.DataFrame:
    row = dict.fromkeys(output_schema(MONTHLY).names())
    row.update(
        month_start=OCT,
        segment="all",
        mrr_usd=1750.0,
        starting_mrr_usd=1300.0,
        new_mrr_usd=300.0,
        reactivation_mrr_usd=500.0,
        expansion_mrr_usd=50.0,
        contraction_mrr_usd=200.0,
        churned_mrr_usd=200.0,
        nrr=0.7308,
        grr=0.6923,
        dau_mau=None,
        dau_mau_null_reason="no_active_licensed_users",
        paying_accounts=4,
        publication_status="complete",
        is_complete=True,
    )
    row.update(overrides)
    return pl.DataFrame([row], schema=output_schema(MONTHLY), orient="row")


def test_tolerance() -> None:
    tol = publish.Tolerance(absolute=0.01, relative=0.001)
    assert not tol.changed(1000.0, 1000.5)  # 0.05 % of 1000
    assert tol.changed(1000.0, 1001.5)
    assert not tol.changed(0.0, 0.005)
    assert tol.changed(None, 0.0) and tol.changed(1.0, None) and not tol.changed(None, None)


def test_publish_is_append_only_and_read_only(lake) -> None:
    status = STATUS_SCHEMA.to_frame()
    first = publish.publish(lake, OCT, _kpis(), status, "<html>v1</html>", {"inputs": {}})
    second = publish.publish(lake, OCT, _kpis(mrr_usd=1800.0), status, "<html>v2</html>", {})
    assert (first.version, second.version) == (1, 2)
    assert publish.versions(lake, OCT) == [1, 2]
    assert first.path == lake.root / "published" / "investor_rollup" / "month=2025-10" / "v=1"
    assert (first.path / "report.html").read_text() == "<html>v1</html>"
    for f in first.path.iterdir():
        assert not f.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    latest = publish.latest_snapshot(lake, OCT)
    assert latest is not None and latest.version == 2
    assert latest.kpis["mrr_usd"][0] == 1800.0
    assert not list(first.path.parent.glob(".*tmp"))  # no leftovers from the build folder


def test_compare_names_kpi_old_new_and_cause() -> None:
    snapshot = publish.Snapshot(OCT, 1, None, _kpis(), {})  # type: ignore[arg-type]
    current = _kpis(mrr_usd=1790.0, dau_mau=0.5, dau_mau_null_reason=None, publication_status="x")
    cause = publish.restatement_cause(
        {
            "engagement_hours": {"2025-10-05": "date=2025-10-05.1-a"},
            "unit_profit": {"2025-10-01": "v1"},
        },
        {
            "engagement_hours": {"2025-10-05": "date=2025-10-05.2-b"},
            "unit_profit": {"2025-10-01": "v1"},
        },
        "2025-11-02T06:00:00+00:00",
    )
    assert cause == (
        "engagement_hours re-written 2025-10-05 (since publication 2025-11-02T06:00:00+00:00)"
    )
    items = publish.compare(snapshot, current, cause, publish.Tolerance())
    assert [(r.kpi, r.old, r.new) for r in items] == [
        ("dau_mau", None, 0.5),
        ("mrr_usd", 1750.0, 1790.0),
    ]
    assert items[1].describe() == (
        "2025-10 mrr_usd (all): published v1 1,750 -> now 1,790; cause: " + cause
    )
    frame = publish.restatement_frame(
        OCT, items, "pending", "run-1", dt.datetime(2025, 11, 3, tzinfo=dt.UTC)
    )
    assert frame.schema == publish.RESTATEMENT_SCHEMA and frame["delta"].to_list() == [None, 40.0]
    unchanged = publish.restatement_cause({"t": {"k": "v"}}, {"t": {"k": "v"}}, "then")
    assert "code or definition change" in unchanged


def test_charts_handle_gaps_zeros_and_negatives() -> None:
    bridge = report.bridge_chart(
        "MRR", [("Opening", 0.0, "level"), ("Churn", -0.0, "down"), ("Closing", None, "level")]
    )
    assert bridge.startswith("<svg") and "nan" not in bridge.lower()
    line = report.line_chart("t", ["a", "b", "c"], {"x": [None, -2.0, None]})
    assert "<path" in line and "nan" not in line.lower()
    assert "no data" in report.line_chart("t", ["a"], {"x": [None]})
    bars = report.bar_chart("p", ["2025-09", "2025-10"], [-75.0, 20.0])
    assert bars.count("<rect") == 2


@pytest.mark.parametrize("grain", [MONTHLY, WEEKLY])
def test_pack_is_self_contained_and_shows_reasons(grain) -> None:
    period = OCT if grain is MONTHLY else dt.date(2025, 10, 6)
    schema = output_schema(grain)
    row = dict.fromkeys(schema.names())
    row.update(
        {
            grain.period_col: period,
            "segment": "all",
            "mrr_usd": 10.0,
            "nrr": None,
            "nrr_null_reason": "no_mrr_at_period_start",
        }
    )
    row.update(
        publication_status="incomplete",
        is_complete=False,
        incomplete_reason="engagement_hours: missing 1 of 31",
    )
    kpis = pl.DataFrame([row], schema=schema, orient="row")
    daily = pl.DataFrame(
        {
            "period_start": [period] * 2,
            "date": [period, period + dt.timedelta(days=1)],
            "total_hours": [3.0, None],
            "active_users": [2, 0],
            "daily_active_licensed_users": [2, 0],
        }
    )
    html = report.render_html(
        grain,
        period,
        kpis,
        kpis,
        daily,
        STATUS_SCHEMA.to_frame(),
        [period.isoformat()],
        report.status_line(row),
        dt.datetime(2025, 12, 1, tzinfo=dt.UTC),
    )
    assert "DRAFT — NOT COMPLETE" in html and "no_mrr_at_period_start" in html
    assert "<script" not in html and "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    assert "incomplete input" in html  # the outage day is marked on the engagement charts
    md = report.markdown_preview(grain, period, kpis, report.status_line(row), None)
    assert md.splitlines()[2] == "| KPI | all |"
    assert "| NRR | – (no_mrr_at_period_start) |" in md
