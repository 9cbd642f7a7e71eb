"""Ground truth: hand-computed cases for the rules, and consistency with the landed files."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict

import polars as pl
import pytest
from scipy.stats import chisquare

from pacific_assets import contracts as K
from pacific_assets.storage.lake import Lake
from pacific_assets_tests.simulate import landing_reader as R
from pacific_tools.simulate import make_config
from pacific_tools.simulate import truth as T
from pacific_tools.simulate.catalog import REGION_UTC_OFFSET

D = dt.date


# -- the rules on hand-made data ------------------------------------------------------------
def test_recognized_revenue_hand_computed() -> None:
    """Half-open periods, amount / days per day, refunds over remaining days, voids ignored."""
    cfg = make_config("test", start="2025-09-01", days=30)
    lines = pl.DataFrame(
        {
            "account_id": ["A", "A", "A", "B"],
            "service_start": [D(2025, 9, 1), D(2025, 9, 22), D(2025, 9, 1), D(2025, 8, 17)],
            "service_end": [D(2025, 10, 1), D(2025, 10, 1), D(2025, 10, 1), D(2025, 9, 17)],
            "amount_usd": [300.0, -90.0, 1000.0, 310.0],
            "status": ["paid", "refunded", "void", "open"],
        }
    )
    out = T.recognized_revenue_daily(cfg, lines)
    a = dict(
        out.filter(pl.col("account_id") == "A").select("date", "recognized_revenue_usd").rows()
    )
    b = dict(
        out.filter(pl.col("account_id") == "B").select("date", "recognized_revenue_usd").rows()
    )
    assert a[D(2025, 9, 1)] == pytest.approx(10.0)  # 300 / 30 days
    assert a[D(2025, 9, 21)] == pytest.approx(10.0)
    assert a[D(2025, 9, 22)] == pytest.approx(0.0)  # refund -90 over 9 remaining days
    assert len(a) == 30
    assert set(b) == {D(2025, 9, 1) + dt.timedelta(days=i) for i in range(16)}  # ends Sep 16
    assert b[D(2025, 9, 16)] == pytest.approx(10.0)  # 310 / 31 days
    assert out["recognized_revenue_usd"].sum() == pytest.approx(300 - 90 + 160)


def _ev(account: str, etype: str, when: str, status: str, seats: int, mrr: float) -> dict:
    return dict(
        account_id=account,
        event_type=etype,
        effective_at=dt.datetime.fromisoformat(when),
        status=status,
        plan=None,
        seats=seats,
        mrr_usd=mrr,
        contract_end=None,
    )


def test_growth_movements_hand_computed() -> None:
    cfg = make_config("test", start="2025-09-01", end="2025-12-01")
    events = pl.DataFrame(
        [
            _ev("X", "account_created", "2025-09-01 10:00", "created", 0, 0),
            _ev("X", "subscribed", "2025-09-02 10:00", "subscribed", 10, 500),
            _ev("X", "seats_changed", "2025-09-10 10:00", "subscribed", 12, 600),
            _ev("X", "seats_changed", "2025-09-20 10:00", "subscribed", 11, 550),
            _ev("X", "renewal_opened", "2025-10-01 10:00", "renewal_opened", 11, 550),
            _ev("X", "seats_changed", "2025-10-05 10:00", "renewal_opened", 15, 750),
            _ev("X", "renewed", "2025-11-03 10:00", "renewed", 16, 800),
            _ev("Y", "subscribed", "2024-03-01 10:00", "subscribed", 6, 300),
            _ev("Y", "renewal_opened", "2025-06-01 10:00", "renewal_opened", 6, 300),
            _ev("Y", "churned", "2025-09-15 10:00", "churned", 0, 0),
            _ev("Y", "reactivated", "2025-10-20 10:00", "subscribed", 4, 200),
            _ev("Z", "account_created", "2025-09-01 11:00", "created", 0, 0),
            _ev("Z", "trial_started", "2025-09-02 11:00", "trial", 2, 0),
            _ev("Z", "churned", "2025-09-16 11:00", "churned", 0, 0),
        ]
    )
    days = T.days(cfg)
    status = pl.DataFrame(
        {
            "date": days,
            "account_id": "X",
            "status": [
                "renewal_opened" if D(2025, 10, 1) <= d < D(2025, 11, 3) else "subscribed"
                for d in days
            ],
        }
    )
    out = T.account_growth(cfg, events, status, "month")
    sep, oct_, nov = (r for r in out.iter_rows(named=True))
    assert (sep["new_accounts"], sep["new_mrr_usd"]) == (1, 500.0)
    assert (sep["expansion_mrr_usd"], sep["contraction_mrr_usd"]) == (100.0, 50.0)
    assert (sep["seats_added"], sep["seats_removed"]) == (2, 1)
    assert (sep["churned_accounts"], sep["churned_mrr_usd"]) == (1, 300.0)  # Y; Z's trial lapsed
    assert (sep["trials_lapsed"], sep["created_accounts"], sep["trials_started"]) == (1, 2, 1)
    assert sep["net_new_mrr_usd"] == 500 + 100 - 50 - 300
    assert (oct_["reactivated_accounts"], oct_["reactivation_mrr_usd"]) == (1, 200.0)
    assert (oct_["expansion_mrr_usd"], oct_["renewing_accounts"]) == (200.0, 1)
    assert (nov["renewed_accounts"], nov["expansion_mrr_usd"]) == (1, 50.0)
    assert nov["renewal_expansion_usd"] == 800 - 550  # MRR at renewal - MRR when window opened
    assert nov["renewing_accounts"] == 0


# -- truth vs what landed ----------------------------------------------------------------
@pytest.fixture(scope="module")
def manifest(sim_data: Lake) -> dict:
    return json.loads((sim_data.truth / "fault_manifest.json").read_text())


def _truth(sim_data: Lake, name: str) -> pl.DataFrame:
    return pl.read_parquet(sim_data.truth / f"{name}.parquet")


def _latest(frame: pl.DataFrame, key: str) -> pl.DataFrame:
    """Change feed -> current state: the last row per key by folder, then file order."""
    return frame.sort("_folder", "_file", "_row").group_by(key, maintain_order=True).last()


def test_truth_tables_have_the_contract_columns(sim_data: Lake) -> None:
    for name, columns in K.TRUTH_TABLES.items():
        schema = pl.read_parquet_schema(sim_data.truth / f"{name}.parquet")
        for col, dtype in columns.items():
            assert schema[col] == dtype, (name, col)
        frame = _truth(sim_data, name)
        floats = [c for c, t in frame.schema.items() if t == pl.Float64]
        assert not frame.select(pl.any_horizontal(pl.col(floats).is_nan())).to_series().any()


def test_recognized_revenue_is_the_unfaulted_lines(sim_data: Lake, manifest: dict) -> None:
    """Truth = landed lines (current state, voids ignored) + the invoices that never landed."""
    lines = _latest(R.valid(sim_data.landing, K.INVOICE_LINES), "line_id")
    start, end = D(2025, 9, 1), D(2025, 12, 10)
    landed: dict[str, float] = defaultdict(float)
    for s, e, amount, status in lines.select(
        "service_start", "service_end", "amount_usd", "status"
    ).iter_rows():
        if status == "void":
            continue
        rate = amount / (e - s).days
        day = max(s, start)
        while day < min(e, end):
            landed[day.strftime("%Y-%m")] += rate
            day += dt.timedelta(days=1)
    gap: dict[str, float] = defaultdict(float)
    for m in manifest["billing"]["missing_invoices"]:
        for month, value in m["revenue_gap_by_month"].items():
            gap[month] += value
    truth = _truth(sim_data, "unit_profit_monthly")
    daily = _truth(sim_data, "recognized_revenue_daily")
    assert daily["date"].min() == start and daily["date"].max() == end - dt.timedelta(days=1)
    for month_start, revenue in truth.select("month_start", "recognized_revenue_usd").iter_rows():
        month = month_start.strftime("%Y-%m")
        assert revenue == pytest.approx(landed[month] + gap[month], abs=1e-6)
        in_month = daily.filter(pl.col("date").dt.strftime("%Y-%m") == month)
        assert in_month["recognized_revenue_usd"].sum() == pytest.approx(revenue, abs=1e-6)
    assert sum(gap.values()) > 0


def test_cash_collected_is_paid_lines_by_payment_month(sim_data: Lake, manifest: dict) -> None:
    lines = _latest(R.valid(sim_data.landing, K.INVOICE_LINES), "line_id")
    paid = lines.filter(pl.col("paid_at").is_not_null() & (pl.col("status") != "void"))
    start = dt.datetime(2025, 9, 1, tzinfo=dt.UTC)
    cash = (
        paid.filter(pl.col("paid_at") >= start)
        .group_by(pl.col("paid_at").dt.strftime("%Y-%m").alias("month"))
        .agg(pl.col("amount_usd").sum())
    )
    cash = dict(cash.rows())
    for m in manifest["billing"]["missing_invoices"]:
        if m["paid_at"]:
            month = m["paid_at"][:7]
            cash[month] = cash.get(month, 0.0) + m["amount_usd"]
    truth = _truth(sim_data, "unit_profit_monthly")
    for month_start, value in truth.select("month_start", "cash_collected_usd").iter_rows():
        assert value == pytest.approx(cash.get(month_start.strftime("%Y-%m"), 0.0), abs=1e-6)


def test_expenses_and_profit(sim_data: Lake) -> None:
    ops = R.valid(sim_data.landing, K.OPS_EXPENSES)
    salaries = R.valid(sim_data.landing, K.SALARIES)
    truth = _truth(sim_data, "unit_profit_monthly")
    assert ops["account_id"].null_count() > 0 and ops["account_id"].drop_nulls().len() > 0
    assert ops["capex"].any()
    for row in truth.iter_rows(named=True):
        month = row["month_start"].strftime("%Y-%m")
        opex = ops.filter((pl.col("month") == month) & ~pl.col("capex"))["amount_usd"].sum()
        amort = 0.0
        for booked, amount in ops.filter(pl.col("capex")).select("month", "amount_usd").rows():
            age = (int(month[:4]) - int(booked[:4])) * 12 + int(month[5:]) - int(booked[5:])
            amort += amount / 36 if 0 <= age < 36 else 0.0
        sal = salaries.filter(pl.col("month") == month)["salary_cost_usd"].sum()
        assert row["opex_usd"] == pytest.approx(opex)
        assert row["capex_amortization_usd"] == pytest.approx(amort)
        assert row["salaries_usd"] == pytest.approx(sal)
        assert row["total_expenses_usd"] == pytest.approx(opex + amort + sal)
        assert row["profit_usd"] == pytest.approx(
            row["recognized_revenue_usd"] - opex - amort - sal
        )


def test_subscribers_and_seats_come_from_status_at_month_end(sim_data: Lake) -> None:
    status = _truth(sim_data, "account_status_daily")
    truth = _truth(sim_data, "unit_profit_monthly")
    for row in truth.iter_rows(named=True):
        eom = status.filter((pl.col("date") == row["status_as_of"]) & pl.col("is_paying"))
        assert row["paying_subscribers"] == eom.height > 0
        assert row["licensed_seats"] == eom["seats"].sum()
    assert set(status["status"]) <= {
        "trial",
        "subscribed",
        "renewal_opened",
        "renewed",
        "churned",
        "created",
    }
    assert (
        status["is_paying"] == status["status"].is_in(["subscribed", "renewal_opened", "renewed"])
    ).all()


def test_status_follows_the_full_crm_history(sim_data: Lake, manifest: dict) -> None:
    """Accounts without a skipped step: the last landed event's state is the final truth."""
    events = R.valid(sim_data.landing, K.ACCOUNT_EVENTS)
    skipped = set(manifest["fault_free_scope"]["accounts_with_skipped_steps"])
    last = events.sort("effective_at").group_by("account_id").last()
    status = _truth(sim_data, "account_status_daily")
    final = status.filter(pl.col("date") == status["date"].max())
    joined = final.join(last, on="account_id", suffix="_ev").filter(
        ~pl.col("account_id").is_in(list(skipped))
    )
    assert joined.height == final.height - len(skipped)
    assert (joined["mrr_usd"] == joined["mrr_usd_ev"]).all()
    assert (joined["seats"] == joined["seats_ev"]).all()
    assert joined["contract_end"].eq_missing(joined["contract_end_ev"]).all()


def test_weekly_and_monthly_growth_agree(sim_data: Lake) -> None:
    weekly = _truth(sim_data, "account_growth_weekly")
    monthly = _truth(sim_data, "account_growth_monthly")
    assert (weekly["week_start"].dt.weekday() == 1).all()  # Mondays
    for col in T.MEASURES:
        assert weekly[col].sum() == pytest.approx(monthly[col].sum()), col
    assert monthly["new_accounts"].sum() > 0 and monthly["renewed_accounts"].sum() > 0
    assert monthly["churned_accounts"].sum() > 0 and monthly["reactivated_accounts"].sum() > 0


def test_licensed_users_match_the_directory(sim_data: Lake) -> None:
    """Licensed on a day = licensed, created before the day ends, not deactivated before it."""
    users = _latest(R.valid(sim_data.landing, K.DIRECTORY_USERS), "user_id").filter("licensed")
    days = T.days(make_config("test")).alias("date").to_frame()
    grid = users.join(days, how="cross").with_columns(
        pl.col("date").cast(pl.Datetime("us", "UTC")).alias("day0")
    )
    alive = grid.filter(
        (pl.col("created_at") < pl.col("day0") + pl.duration(days=1))
        & (pl.col("deactivated_at").is_null() | (pl.col("deactivated_at") > pl.col("day0")))
    )
    expected = alive.group_by("date", "account_id").agg(pl.len().alias("n"))
    truth = _truth(sim_data, "engagement_daily").filter(pl.col("licensed_users") > 0)
    both = truth.join(expected, on=["date", "account_id"], how="full", coalesce=True)
    assert both.height == truth.height == expected.height
    assert (both["licensed_users"] == both["n"]).all()


def test_engagement_truth_is_sane_and_weekday_heavy(sim_data: Lake) -> None:
    eng = _truth(sim_data, "engagement_daily")
    assert (eng["active_users"] <= eng["events"]).all()
    assert (eng["sessions"] <= eng["events"]).all() and (eng["total_hours"] >= 0).all()
    by_day = (
        eng.group_by("date")
        .agg(pl.col("events").sum())
        .with_columns((pl.col("date").dt.weekday() >= 6).alias("weekend"))
    )
    means = dict(by_day.group_by("weekend").agg(pl.col("events").mean()).rows())
    assert means[False] > 3 * means[True]
    users = _truth(sim_data, "engagement_users_daily")
    per_day = users.group_by("date", "account_id").agg(pl.col("events").sum())
    assert (
        per_day.join(eng, on=["date", "account_id"])
        .filter(pl.col("events") != pl.col("events_right"))
        .height
        == 0
    )


def test_clicks_follow_local_business_hours(sim_data: Lake) -> None:
    clicks = R.valid(sim_data.landing, K.CLICKS).unique("event_id")
    accounts = R.valid(sim_data.landing, K.ACCOUNTS).select("account_id", "region")
    local = clicks.join(accounts, on="account_id").with_columns(
        (
            (pl.col("event_ts").dt.hour() + pl.col("region").replace_strict(REGION_UTC_OFFSET)) % 24
        ).alias("local_hour")
    )
    business = local.filter(pl.col("local_hour").is_between(8, 17)).height / local.height
    night = local.filter(pl.col("local_hour") < 6).height / local.height
    assert business > 0.6 and night < 0.08


def test_experiment_allocations(sim_data: Lake) -> None:
    truth = _truth(sim_data, "experiments")
    assert set(truth["kind"]) == {"true_effect", "null", "broken_allocation"}
    assignments = R.valid(sim_data.landing, K.EXPERIMENT_ASSIGNMENTS)
    counts = assignments.group_by("experiment_id", "variant").len().sort("experiment_id", "variant")
    for row in truth.iter_rows(named=True):
        c = counts.filter(pl.col("experiment_id") == row["experiment_id"])
        n = dict(c.select("variant", "len").rows())
        assert n["control"] + n["treatment"] == row["units"]
        p = chisquare([n["control"], n["treatment"]], [row["units"] / 2] * 2).pvalue
        assert (p < 0.001) == row["srm_expected"], row
