"""The Spark rollup against hand-computed KPIs (fixture.py), and the missing-input cases."""

from __future__ import annotations

import datetime as dt
import math

import polars as pl
import pytest

from pacific_assets.investor.inputs import MONTHLY, WEEKLY
from pacific_assets.investor.rollup import RollupResult, compute_rollup, output_schema
from pacific_assets.storage.lake import Lake
from pacific_assets_tests.investor.fixture import (
    EXPECTED_OCTOBER,
    EXPECTED_WEEK,
    OCT,
    WEEK,
    write_fixture,
)

pytestmark = pytest.mark.spark
AFTER_CLOSE = dt.datetime(2025, 12, 1, 6, tzinfo=dt.UTC)


def _row(result: RollupResult, segment: str) -> dict:
    rows = result.kpis.filter(pl.col("segment") == segment).to_dicts()
    assert len(rows) == 1, f"one row for {segment}"
    return rows[0]


def _assert_matches(row: dict, expected: dict, where: str) -> None:
    for name, want in expected.items():
        got = row[name]
        if want is None or isinstance(want, str):
            assert got == want, f"{where} {name}: {got!r} != {want!r}"
        else:
            assert got is not None and math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-9), (
                f"{where} {name}: {got!r} != {want!r}"
            )


@pytest.fixture(scope="module")
def complete(spark, tmp_path_factory) -> dict[str, RollupResult]:
    lake = Lake(tmp_path_factory.mktemp("investor_complete") / "data")
    write_fixture(lake)
    return {
        "monthly": compute_rollup(spark, lake, MONTHLY, [OCT], as_of=AFTER_CLOSE),
        "weekly": compute_rollup(spark, lake, WEEKLY, [WEEK], as_of=AFTER_CLOSE),
    }


@pytest.mark.parametrize("segment", list(EXPECTED_OCTOBER))
def test_monthly_kpis_equal_hand_computed(complete, segment) -> None:
    _assert_matches(_row(complete["monthly"], segment), EXPECTED_OCTOBER[segment], segment)


def test_monthly_output_shape_and_completeness(complete) -> None:
    result = complete["monthly"]
    assert result.kpis.schema == output_schema(MONTHLY)
    assert result.kpis["segment"].to_list() == ["all", "enterprise", "mid_market", "smb"]
    assert result.kpis["is_complete"].all()
    assert set(result.kpis["publication_status"]) == {"complete"}
    assert result.input_status["is_ok"].all()
    # The bridge balances and segments add up to the company (exact on this fixture).
    all_row = _row(result, "all")
    assert result.kpis.filter(pl.col("segment") != "all")["mrr_usd"].sum() == all_row["mrr_usd"]
    # No NaN or inf anywhere, and every null ratio says why.
    for name, dtype in result.kpis.schema.items():
        if dtype.is_float():
            assert (
                not result.kpis[name].is_nan().any() and not result.kpis[name].is_infinite().any()
            )
            if f"{name}_null_reason" in result.kpis.columns:
                nulls = result.kpis.filter(pl.col(name).is_null())
                assert nulls[f"{name}_null_reason"].null_count() == 0, name


def test_engagement_daily_series(complete) -> None:
    daily = complete["monthly"].engagement_daily
    assert daily.height == 31
    first = daily.filter(pl.col("date") == OCT).row(0, named=True)
    # Oct 1: U1 1.0 h + U2 0.5 h + U3 2.0 h + U4 1.0 h; licensed active U1, U2, U3.
    assert first["total_hours"] == pytest.approx(4.5)
    assert first["daily_active_licensed_users"] == 3


def test_weekly_kpis_equal_hand_computed(complete) -> None:
    result = complete["weekly"]
    assert result.kpis.schema == output_schema(WEEKLY)
    _assert_matches(_row(result, "all"), EXPECTED_WEEK["all"], "week all")
    assert _row(result, "all")["new_accounts"] == 0  # from the growth pipeline's weekly table


def test_missing_and_incomplete_inputs_are_named(spark, lake) -> None:
    """A missing day, an outage day, an unreconciled month and an absent input: flagged, not hidden."""
    write_fixture(
        lake,
        skip={"user_engagement_daily": {"2025-10-15"}, "unit_profit": {OCT.isoformat()}},
        outage_days=[dt.date(2025, 10, 7)],
    )
    lake.write_partitions(
        "profit_reconciliation",
        "month_start",
        [OCT.isoformat()],
        pl.DataFrame(
            {
                "month_start": [OCT],
                "status": ["mismatch"],
                "status_reason": ["revenue computed $1,700 vs filed $1,900, variance -$200"],
                "filed_revenue_usd": [1900.0],
                "computed_revenue_usd": [1700.0],
                "revenue_variance_usd": [-200.0],
            }
        ),
    )
    result = compute_rollup(spark, lake, MONTHLY, [OCT], as_of=AFTER_CLOSE)
    company = _row(result, "all")
    assert company["is_complete"] is False
    assert company["publication_status"] == "incomplete"
    bad = set(company["incomplete_inputs"].split(", "))
    assert bad == {
        "user_engagement_daily",
        "engagement_completeness",
        "unit_profit",
        "profit_reconciliation",
    }
    reason = company["incomplete_reason"]
    assert "user_engagement_daily: missing 1 of 31 partitions: 2025-10-15" in reason
    assert "engagement_completeness: flagged incomplete: 2025-10-07" in reason
    assert "filings mismatch" in reason and "variance -$200" in reason
    # The absent input nulls its KPIs with a reason; the others are still computed (as a draft).
    assert company["profit_usd"] is None
    assert company["profit_per_subscriber_usd_null_reason"] == "input_missing:unit_profit"
    assert company["mrr_usd"] == 1750.0
    # DAU/MAU over the days that exist: U2 was active Oct 1-10 so Oct 15 only loses U1's day.
    assert company["avg_daily_active_users"] == pytest.approx(41 / 31)
    statuses = dict(result.input_status.select("input", "status").iter_rows())
    assert statuses["user_engagement_daily"] == "missing"
    assert statuses["engagement_completeness"] == "incomplete"
    assert statuses["profit_reconciliation"] == "mismatch"
    assert statuses["account_status_daily"] == "ok"


def test_open_period_is_a_draft_and_nothing_is_due_early(spark, lake) -> None:
    write_fixture(lake)
    mid_october = dt.datetime(2025, 10, 16, 8, tzinfo=dt.UTC)
    result = compute_rollup(spark, lake, MONTHLY, [OCT], as_of=mid_october)
    company = _row(result, "all")
    assert company["publication_status"] == "open_period"
    assert company["days_observed"] == 15
    assert company["is_complete"] is True  # every day due so far is there
    statuses = dict(result.input_status.select("input", "status").iter_rows())
    assert statuses["unit_profit"] == "not_due"
    assert statuses["engagement_hours"] == "ok"
    # Month-to-date: the closing balance is the last day present (Oct 31 is in the fixture, but
    # the rollup only reads the days due: Oct 1-15).
    assert company["mrr_usd"] == 150.0 + 200.0 + 800.0 + 300.0
