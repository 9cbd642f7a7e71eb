"""`experiment_results` end to end: upstream frames -> ab_unit_daily + ab_unit_covariates ->
results, checked against scipy/numpy run on unit values recomputed here independently (polars,
not the pipeline's SQL)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
from scipy import stats as sps

from pacific_assets.experiments.results import SCHEMA
from pacific_assets_tests.declared import assert_written_as_declared
from pacific_assets_tests.experiments import fixtures as fx
from pacific_assets_tests.experiments.helpers import (
    ab_unit_covariates,
    ab_unit_daily,
    experiment_results,
    materialize_range,
)
from pacific_assets_tests.runs import checks_by_name

TOL = 1e-9
D = dt.date


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    from pacific_assets.storage.lake import Lake

    lake = Lake(tmp_path_factory.mktemp("synthetic") / "data")
    frames = fx.synthetic_experiments(lake, seed=3)
    units = [ab_unit_daily, ab_unit_covariates]
    assert materialize_range(units, lake, "2025-09-15", "2025-09-28").success
    result = materialize_range([experiment_results], lake, "2025-09-15", "2025-09-22")
    assert result.success
    return lake, frames, result


def unit_values(frames: dict, experiment_id: str, as_of_end: dt.date) -> pl.DataFrame:
    """Per unit: variant, exposure days, totals since assignment, 14-day pre-period totals."""
    a = frames["assignments"].filter(pl.col("experiment_id") == experiment_id)
    unit_type = a["unit_type"][0]
    a = a.with_columns(
        pl.col("assigned_at").str.to_datetime(time_zone="UTC").dt.date().alias("assigned")
    )
    key = "user_id" if unit_type == "user" else "account_id"
    eng = (
        frames["engagement"]
        .group_by("date", key)
        .agg(
            pl.col("sessions").sum(),
            pl.col("hours").sum(),
            pl.col("events").sum(),
            pl.col("user_id").n_unique().alias("active"),
        )
        .rename({key: "unit_id"})
    )
    end = min(as_of_end, frames["exp_end"])
    rows = []
    for unit, variant, assigned in a.select("unit_id", "variant", "assigned").iter_rows():
        mine = eng.filter(pl.col("unit_id") == unit)
        post = mine.filter((pl.col("date") >= assigned) & (pl.col("date") < end))
        pre = mine.filter(
            (pl.col("date") >= assigned - dt.timedelta(days=14)) & (pl.col("date") < assigned)
        )
        rev = frames["revenue"].filter(
            (pl.col("account_id") == unit) & (pl.col("date") >= assigned) & (pl.col("date") < end)
        )
        rows.append(
            dict(
                unit_id=unit,
                variant=variant,
                days=(end - assigned).days,
                sessions=post["sessions"].sum(),
                hours=post["hours"].sum(),
                active=post["active"].sum(),
                revenue=rev["recognized_revenue_usd"].sum(),
                pre_sessions=pre["sessions"].sum(),
                pre_hours=pre["hours"].sum(),
            )
        )
    return pl.DataFrame(rows)


def result_row(lake, week: str, experiment: str, metric: str) -> dict:
    df = lake.read("experiment_results").filter(
        (pl.col("week_start") == D.fromisoformat(week))
        & (pl.col("experiment_id") == experiment)
        & (pl.col("metric") == metric)
    )
    assert df.height == 1
    return df.row(0, named=True)


def arms(units: pl.DataFrame, expr) -> tuple[np.ndarray, np.ndarray]:
    t = units.filter(pl.col("variant") == "treatment").select(expr).to_series().to_numpy()
    c = units.filter(pl.col("variant") == "control").select(expr).to_series().to_numpy()
    return t.astype(float), c.astype(float)


@pytest.mark.parametrize(
    "week, as_of", [("2025-09-15", D(2025, 9, 22)), ("2025-09-22", D(2025, 9, 29))]
)
def test_mean_metric_matches_scipy_welch(synthetic, week, as_of):
    lake, frames, _ = synthetic
    units = unit_values(frames, "exp_effect", as_of)
    y_t, y_c = arms(units, pl.col("sessions") / pl.col("days"))
    row = result_row(lake, week, "exp_effect", "sessions")
    ref = sps.ttest_ind(y_t, y_c, equal_var=False)
    ci = ref.confidence_interval(0.95)
    assert row["units_variant"] == len(y_t) and row["units_control"] == len(y_c)
    assert row["mean_variant"] == pytest.approx(y_t.mean(), rel=TOL)
    assert row["mean_control"] == pytest.approx(y_c.mean(), rel=TOL)
    assert row["abs_diff"] == pytest.approx(y_t.mean() - y_c.mean(), rel=TOL)
    assert row["rel_diff"] == pytest.approx(y_t.mean() / y_c.mean() - 1, rel=TOL)
    assert row["p_value"] == pytest.approx(ref.pvalue, rel=TOL, abs=TOL)
    assert row["ci_low"] == pytest.approx(ci.low, rel=TOL)
    assert row["ci_high"] == pytest.approx(ci.high, rel=TOL)
    assert row["df"] == pytest.approx(ref.df, rel=TOL)
    assert row["is_primary_metric"] and row["test"] == "welch_t"
    assert row["data_through"] == as_of - dt.timedelta(days=1)

    # CUPED: θ = Cov(Y, X) / Var(X) over both arms, X = pre-period sessions per day (14 days)
    x_t, x_c = arms(units, pl.col("pre_sessions") / 14)
    y, x = np.concatenate([y_t, y_c]), np.concatenate([x_t, x_c])
    theta = np.cov(y, x)[0, 1] / np.var(x, ddof=1)
    adj = sps.ttest_ind(
        y_t - theta * (x_t - x.mean()), y_c - theta * (x_c - x.mean()), equal_var=False
    )
    adj_ci = adj.confidence_interval(0.95)
    assert row["cuped_theta"] == pytest.approx(theta, rel=TOL)
    assert row["cuped_p_value"] == pytest.approx(adj.pvalue, rel=TOL, abs=TOL)
    assert row["cuped_ci_low"] == pytest.approx(adj_ci.low, rel=TOL)
    assert row["cuped_ci_high"] == pytest.approx(adj_ci.high, rel=TOL)
    assert row["cuped_ci_high"] - row["cuped_ci_low"] < row["ci_high"] - row["ci_low"]


def test_ratio_metric_matches_numpy_delta_method(synthetic):
    lake, frames, _ = synthetic
    units = unit_values(frames, "exp_effect", D(2025, 9, 29))
    row = result_row(lake, "2025-09-22", "exp_effect", "hours_per_session")

    def ratio_and_var(part: pl.DataFrame) -> tuple[float, float]:
        num, den = part["hours"].to_numpy(), part["sessions"].to_numpy().astype(float)
        grad = np.array([1 / den.mean(), -num.mean() / den.mean() ** 2])
        return num.mean() / den.mean(), grad @ np.cov(num, den) @ grad / len(num)

    r_t, v_t = ratio_and_var(units.filter(pl.col("variant") == "treatment"))
    r_c, v_c = ratio_and_var(units.filter(pl.col("variant") == "control"))
    z = (r_t - r_c) / np.sqrt(v_t + v_c)
    assert row["test"] == "delta_method_z"
    assert row["mean_variant"] == pytest.approx(r_t, rel=TOL)
    assert row["mean_control"] == pytest.approx(r_c, rel=TOL)
    assert row["p_value"] == pytest.approx(2 * sps.norm.sf(abs(z)), rel=TOL, abs=TOL)
    assert row["ci_high"] - row["ci_low"] == pytest.approx(
        2 * sps.norm.ppf(0.975) * np.sqrt(v_t + v_c), rel=TOL
    )


def test_account_experiment_revenue_and_engagement(synthetic):
    lake, frames, _ = synthetic
    units = unit_values(frames, "exp_accounts", D(2025, 9, 29))
    row = result_row(lake, "2025-09-22", "exp_accounts", "recognized_revenue_usd")
    y_t, y_c = arms(units, pl.col("revenue") / pl.col("days"))
    ref = sps.ttest_ind(y_t, y_c, equal_var=False)
    assert row["p_value"] == pytest.approx(ref.pvalue, rel=TOL, abs=TOL)
    hours = result_row(lake, "2025-09-22", "exp_accounts", "hours")
    h_t, h_c = arms(units, pl.col("hours") / pl.col("days"))
    assert hours["abs_diff"] == pytest.approx(h_t.mean() - h_c.mean(), rel=TOL)
    assert hours["is_primary_metric"]
    active = result_row(lake, "2025-09-22", "exp_accounts", "hours_per_active_day")
    a_t, _ = arms(units, pl.col("active"))
    t_hours, _ = arms(units, pl.col("hours"))
    assert active["mean_variant"] == pytest.approx(t_hours.sum() / a_t.sum(), rel=TOL)
    # revenue is an account metric only
    users = lake.read("experiment_results").filter(pl.col("unit_type") == "user")
    assert "recognized_revenue_usd" not in set(users["metric"])


def test_srm_flags_the_broken_allocation_only(synthetic):
    lake, _, result = synthetic
    srm = checks_by_name(result)["sample_ratio_mismatch"]
    assert not srm.passed
    assert srm.metadata["flagged_experiments"].value == ["exp_srm"]
    row = result_row(lake, "2025-09-22", "exp_srm", "sessions")
    ref = sps.chisquare([row["units_control"], row["units_variant"]])
    assert (row["units_control"], row["units_variant"]) == (60, 20)
    assert row["srm_chi2"] == pytest.approx(ref.statistic, rel=TOL)
    assert row["srm_p_value"] == pytest.approx(ref.pvalue, rel=TOL)
    assert row["srm_flagged"]
    fine = result_row(lake, "2025-09-22", "exp_effect", "sessions")
    assert not fine["srm_flagged"] and fine["srm_p_value"] == pytest.approx(1.0)


def test_results_never_hold_nan_or_inf(synthetic):
    lake, _, _ = synthetic
    df = lake.read("experiment_results")
    assert df.schema == pl.Schema(SCHEMA)
    floats = [c for c, t in SCHEMA.items() if t == pl.Float64]
    assert not df.select(
        pl.any_horizontal(pl.col(floats).is_nan() | pl.col(floats).is_infinite()).any()
    ).item()
    # every statistic is present on this well-populated fixture ...
    assert df["p_value"].null_count() == 0
    # ... except CUPED on revenue: each account's daily revenue is the same before and after
    # assignment here, so the adjustment explains everything and leaves no variance to test
    no_cuped = df.filter(pl.col("cuped_ci_low").is_null())
    assert set(no_cuped["metric"]) == {"recognized_revenue_usd"}
    assert set(no_cuped["cuped_null_reason"]) == {"no variation after adjustment"}


def test_too_few_units_gives_nulls_with_reasons(hand_lake):
    units = [ab_unit_daily, ab_unit_covariates]
    assert materialize_range(units, hand_lake, "2025-09-15", "2025-09-21").success
    result = materialize_range([experiment_results], hand_lake, "2025-09-15", "2025-09-15")
    assert result.success
    df = hand_lake.read("experiment_results")
    assert set(df["experiment_id"]) == {"exp_user", "exp_acct"}
    assert set(df["stats_null_reason"]) == {"fewer than 2 units in an arm"}
    assert df["p_value"].null_count() == df.height
    assert set(df["srm_null_reason"]) == {"fewer than 8 expected units in a variant"}
    assert checks_by_name(result)["sample_ratio_mismatch"].passed  # too small to judge, not flagged
    # means are still reported: u1 (control) averaged 4/3 sessions a day over 09-15..09-17
    row = df.filter((pl.col("experiment_id") == "exp_user") & (pl.col("metric") == "sessions"))
    assert row["mean_control"].item() == pytest.approx(4 / 3)
    assert row["data_through"].item() == D(2025, 9, 17)  # the experiment ended 09-18


def test_written_columns_are_the_declared_ones(synthetic) -> None:
    """What the three experiment assets write equals their declarations (the upstream tables of
    this fixture are synthetic, so only the assets' own tables are held here)."""
    lake, _, _ = synthetic
    assert_written_as_declared(lake, ["ab_unit_daily", "ab_unit_covariates", "experiment_results"])
