"""The statistics layer against scipy/statsmodels (to 1e-9) and against known truth over many seeds.

Coverage-style tests run K independent synthetic experiments at once (arrays of shape K × n) and
judge the *rate* with a binomial test, so no assertion rests on one lucky seed; the seeds are
fixed, so the outcome is deterministic.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from pacific_assets.experiments import stats

TOL = 1e-9
#: A rate is "consistent with" its nominal value unless a two-sided binomial test rejects at 0.001.
BINOMIAL_ALPHA = 0.001


def consistent(hits: int, k: int, p: float) -> bool:
    return sps.binomtest(int(hits), k, p).pvalue > BINOMIAL_ALPHA


# --- agreement with reference implementations ---------------------------------------------------
@pytest.mark.parametrize(
    "seed, n_t, n_c, sd_t, sd_c",
    [(1, 50, 70, 2.0, 1.0), (2, 5, 9, 0.1, 3.0), (3, 400, 380, 1.0, 1.0), (4, 2, 2, 1.0, 5.0)],
)
def test_welch_matches_scipy(seed, n_t, n_c, sd_t, sd_c):
    rng = np.random.default_rng(seed)
    y_t, y_c = rng.normal(1.0, sd_t, n_t), rng.exponential(sd_c, n_c)
    ours = stats.welch_test(y_t, y_c)
    ref = sps.ttest_ind(y_t, y_c, equal_var=False)
    ci = ref.confidence_interval(0.95)
    assert ours.statistic == pytest.approx(ref.statistic, abs=TOL, rel=TOL)
    assert ours.p_value == pytest.approx(ref.pvalue, abs=TOL, rel=TOL)
    assert ours.df == pytest.approx(ref.df, abs=TOL, rel=TOL)
    assert ours.ci_low == pytest.approx(ci.low, abs=TOL, rel=TOL)
    assert ours.ci_high == pytest.approx(ci.high, abs=TOL, rel=TOL)
    assert ours.abs_diff == pytest.approx(y_t.mean() - y_c.mean(), abs=TOL)


def test_welch_vectorized_equals_one_by_one():
    rng = np.random.default_rng(5)
    y_t, y_c = rng.normal(0, 1, (6, 30)), rng.normal(0.2, 2, (6, 40))
    many = stats.welch_test(y_t, y_c)
    for i in range(6):
        ref = sps.ttest_ind(y_t[i], y_c[i], equal_var=False)
        assert many.p_value[i] == pytest.approx(ref.pvalue, abs=TOL, rel=TOL)


@pytest.mark.parametrize(
    "observed, weights",
    [
        ([480, 520], [0.5, 0.5]),
        ([650, 350], [1, 1]),
        ([100, 210, 290], [0.2, 0.3, 0.5]),
        ([9, 31], [0.25, 0.75]),
    ],
)
def test_srm_matches_scipy_chisquare(observed, weights):
    ours = stats.srm_chisquare(observed, weights)
    w = np.asarray(weights, dtype=float)
    ref = sps.chisquare(observed, f_exp=sum(observed) * w / w.sum())
    assert ours.chi2 == pytest.approx(ref.statistic, abs=TOL, rel=TOL)
    assert ours.p_value == pytest.approx(ref.pvalue, abs=TOL, rel=TOL)


def test_srm_flags_only_with_enough_expected_units():
    assert stats.srm_chisquare([650, 350], [0.5, 0.5]).flagged
    assert not stats.srm_chisquare([520, 480], [0.5, 0.5]).flagged
    # p < 0.001 but one variant expects fewer than 8 units: reported, not judged
    small = stats.srm_chisquare([1, 29], [0.25, 0.75])
    assert not small.flagged and small.p_value is not None and small.null_reason
    # a starved variant (0 observed) is still judged: it is the worst SRM there is
    assert stats.srm_chisquare([0, 40], [0.5, 0.5]).flagged
    assert stats.srm_chisquare([0, 0], [0.5, 0.5]).null_reason == "no units"


def test_srm_threshold_is_a_p_value_of_0_001():
    # by hand: chi2 = 2 * 45^2 / 500 = 8.1, p = erfc(sqrt(8.1 / 2)) = 0.0044: not flagged;
    # chi2 = 2 * 60^2 / 500 = 14.4, p = erfc(sqrt(7.2)) = 0.00015: flagged
    between = stats.srm_chisquare([545, 455], [0.5, 0.5])
    assert between.chi2 == pytest.approx(8.1)
    assert between.p_value == pytest.approx(math.erfc(math.sqrt(8.1 / 2)))
    assert 0.001 < between.p_value < 0.01 and not between.flagged
    below = stats.srm_chisquare([560, 440], [0.5, 0.5])
    assert below.p_value == pytest.approx(math.erfc(math.sqrt(7.2))) and below.flagged


def test_an_arm_with_one_unit_is_undefined_even_with_a_given_variance():
    """Fewer than 2 units in an arm is NaN (module docstring), also when the moments come from
    elsewhere with a finite variance (the asset computes moments in SQL)."""
    r = stats.welch_from_moments(1, 2.0, 0.5, 10, 1.0, 1.0)
    assert np.isnan(r.p_value) and np.isnan(r.ci_low) and np.isnan(r.statistic)
    r = stats.welch_from_moments(10, 2.0, 0.5, 1, 1.0, 1.0)
    assert np.isnan(r.p_value) and np.isnan(r.ci_high)


def _ratio_data(rng, n, shape=(), hours_per_session=0.6):
    sessions = rng.poisson(4.0, (*shape, n)).astype(float)
    hours = sessions * hours_per_session * rng.gamma(4.0, 0.25, (*shape, n))
    return hours, sessions


def test_delta_method_matches_numpy_and_statsmodels():
    rng = np.random.default_rng(11)
    h_t, s_t = _ratio_data(rng, 300, hours_per_session=0.65)
    h_c, s_c = _ratio_data(rng, 250)
    ours = stats.delta_ratio_test(h_t, s_t, h_c, s_c)

    # numpy reference: textbook delta method with np.cov's (ddof=1) covariance matrix
    def var_ratio(num, den):
        cov = np.cov(num, den)
        mx, my = num.mean(), den.mean()
        grad = np.array([1 / my, -mx / my**2])
        return grad @ cov @ grad / len(num)

    r_t, r_c = h_t.mean() / s_t.mean(), h_c.mean() / s_c.mean()
    se = np.sqrt(var_ratio(h_t, s_t) + var_ratio(h_c, s_c))
    assert ours.abs_diff == pytest.approx(r_t - r_c, abs=TOL, rel=TOL)
    assert ours.se == pytest.approx(se, abs=TOL, rel=TOL)

    # statsmodels reference: the two-sample z-test (unequal variances) on the linearized values
    lin_t = r_t + (h_t - r_t * s_t) / s_t.mean()
    lin_c = r_c + (h_c - r_c * s_c) / s_c.mean()
    cm = CompareMeans(DescrStatsW(lin_t), DescrStatsW(lin_c))
    z, p = cm.ztest_ind(usevar="unequal")
    low, high = cm.zconfint_diff(alpha=0.05, usevar="unequal")
    assert ours.statistic == pytest.approx(z, abs=TOL, rel=TOL)
    assert ours.p_value == pytest.approx(p, abs=TOL, rel=TOL)
    assert ours.ci_low == pytest.approx(low, abs=TOL, rel=TOL)
    assert ours.ci_high == pytest.approx(high, abs=TOL, rel=TOL)


def test_relative_interval_is_fieller_and_agrees_with_the_absolute_test():
    """Few, skewed units: the relative (Fieller) interval excludes 0 exactly when the absolute
    interval does, and its ends solve Fieller's quadratic."""
    rng = np.random.default_rng(8)
    y_t = rng.lognormal(0.0, 0.9, (K, 9))
    y_c = rng.lognormal(0.3, 0.9, (K, 8))
    res = stats.welch_test(y_t, y_c)
    ok = np.isfinite(res.rel_ci_low)
    assert ok.sum() > K * 0.8  # unbounded only when the control mean is near zero
    abs_sig = (res.ci_low > 0) | (res.ci_high < 0)
    rel_sig = (res.rel_ci_low > 0) | (res.rel_ci_high < 0)
    assert 0 < abs_sig[ok].sum() < ok.sum()  # both outcomes occur: the equality means something
    assert np.array_equal(abs_sig[ok], rel_sig[ok])
    _, m_t, v_t = stats.moments(y_t)
    _, m_c, v_c = stats.moments(y_c)
    crit = sps.t.ppf(0.975, res.df)
    for rho in (res.rel_ci_low[ok] + 1, res.rel_ci_high[ok] + 1):
        lhs = (m_t[ok] - rho * m_c[ok]) ** 2
        rhs = crit[ok] ** 2 * (v_t[ok] / 9 + rho**2 * v_c[ok] / 8)
        np.testing.assert_allclose(lhs, rhs, rtol=1e-9)
    # a control mean indistinguishable from zero gives no bounded interval: NaN, never inf
    flat = stats.welch_test(np.array([1.0, 2.0, 3.0]), np.array([-5.0, 0.1, 5.0]))
    assert np.isnan(flat.rel_ci_low) and np.isnan(flat.rel_ci_high)


def test_delta_method_variance_agrees_with_bootstrap():
    """Fixed-seed bootstrap of the ratio; the bootstrap variance itself has sampling error
    ≈ sqrt(2/(B-1)) ≈ 3% for B = 3000, so 10% is a ~3-sigma band."""
    rng = np.random.default_rng(2024)
    hours, sessions = _ratio_data(rng, 500)
    _, _, var_delta = stats.ratio_moments(hours, sessions)
    b = 3000
    idx = np.random.default_rng(7).integers(0, 500, size=(b, 500))
    boot = hours[idx].mean(axis=1) / sessions[idx].mean(axis=1)
    assert boot.var(ddof=1) / var_delta == pytest.approx(1.0, abs=0.10)


def test_linearized_ratio_reproduces_the_delta_method():
    """CUPED on ratio metrics works on these values, so they must carry R and Var(R) exactly."""
    rng = np.random.default_rng(3)
    hours, sessions = _ratio_data(rng, 80)
    _n, r, var_r = stats.ratio_moments(hours, sessions)
    n_lin, mean_lin, var_lin = stats.moments(stats.linearize_ratio(hours, sessions))
    assert mean_lin == pytest.approx(r, rel=TOL)
    assert var_lin / n_lin == pytest.approx(var_r, rel=TOL)
    # a covariate without variation cannot adjust anything: θ is undefined, not 0/0 = inf
    assert np.isnan(stats.cuped_theta(hours, np.ones(80)))


def test_undefined_results_are_nan_never_inf():
    one = stats.welch_test(np.array([1.0]), np.array([1.0, 2.0]))
    flat = stats.welch_test(np.ones(5), np.ones(5))
    zero_ctrl = stats.welch_test(np.array([1.0, 2.0]), np.array([0.0, 0.0, 0.0]))
    empty = stats.welch_test(np.array([]), np.array([1.0, 2.0]))
    no_den = stats.delta_ratio_test(np.ones(3), np.zeros(3), np.ones(3), np.ones(3))
    for r in (one, flat, empty, no_den):
        assert np.isnan(r.p_value) and np.isnan(r.ci_low) and not np.isinf(r.rel_diff)
    assert np.isnan(zero_ctrl.rel_diff)  # control mean 0: relative difference undefined


# --- behaviour over K seeds (synthetic data with known effects) ---------------------------------
K = 400
N = 150  # units per arm


def _engagement(rng, k, n, effect):
    """Per-unit daily-activity outcome y and its pre-period reading x; returns (y, x).

    Units differ in their propensity (lognormal, mean exp(0.18)); y and x are noisy (mean-one
    gamma) readings of it, so the pre-period explains much of y and CUPED has something to do.
    The treatment multiplies y by (1 + effect): the true relative effect.
    """
    propensity = rng.lognormal(0.0, 0.6, (k, n))
    x = propensity * rng.gamma(10.0, 0.1, (k, n))
    y = propensity * rng.gamma(10.0, 0.1, (k, n)) * (1 + effect)
    return y, x


def test_true_effect_inside_95_interval_at_a_95_rate():
    rng = np.random.default_rng(20251)
    effect = 0.10
    y_t, x_t = _engagement(rng, K, N, effect)
    y_c, x_c = _engagement(rng, K, N, 0.0)
    true_mean_c = np.exp(0.6**2 / 2)  # E[lognormal(0, 0.6)]
    true_abs = effect * true_mean_c
    res = stats.welch_test(y_t, y_c)
    cuped, _ = stats.cuped_welch_test(y_t, x_t, y_c, x_c)
    for low, high, truth in (
        (res.ci_low, res.ci_high, true_abs),
        (res.rel_ci_low, res.rel_ci_high, effect),
        (cuped.ci_low, cuped.ci_high, true_abs),
    ):
        hits = int(((low <= truth) & (truth <= high)).sum())
        assert consistent(hits, K, 0.95), f"coverage {hits}/{K}"


def test_ratio_metric_interval_covers_true_ratio_difference():
    rng = np.random.default_rng(777)
    h_t, s_t = _ratio_data(rng, N, (K,), hours_per_session=0.66)
    h_c, s_c = _ratio_data(rng, N, (K,), hours_per_session=0.60)
    # E[hours]/E[sessions] = hours_per_session * E[gamma(4, .25)] = hours_per_session
    res = stats.delta_ratio_test(h_t, s_t, h_c, s_c)
    hits = int(((res.ci_low <= 0.06) & (res.ci_high >= 0.06)).sum())
    assert consistent(hits, K, 0.95), f"coverage {hits}/{K}"


def test_null_experiment_significant_at_a_5_rate():
    rng = np.random.default_rng(4242)
    y_t, x_t = _engagement(rng, K, N, 0.0)
    y_c, x_c = _engagement(rng, K, N, 0.0)
    res = stats.welch_test(y_t, y_c)
    cuped, _ = stats.cuped_welch_test(y_t, x_t, y_c, x_c)
    h_t, s_t = _ratio_data(rng, N, (K,))
    h_c, s_c = _ratio_data(rng, N, (K,))
    ratio = stats.delta_ratio_test(h_t, s_t, h_c, s_c)
    for name, p in (("welch", res.p_value), ("cuped", cuped.p_value), ("delta", ratio.p_value)):
        hits = int((p < 0.05).sum())
        assert consistent(hits, K, 0.05), f"{name}: {hits}/{K} significant"


def test_cuped_narrows_the_interval_every_time():
    rng = np.random.default_rng(99)
    y_t, x_t = _engagement(rng, K, N, 0.1)
    y_c, x_c = _engagement(rng, K, N, 0.0)
    raw = stats.welch_test(y_t, y_c)
    cuped, theta = stats.cuped_welch_test(y_t, x_t, y_c, x_c)
    assert np.all(cuped.ci_high - cuped.ci_low < raw.ci_high - raw.ci_low)
    assert np.all(theta > 0)
    # and the estimate stays unbiased: mean CUPED difference ≈ mean raw difference ≈ truth
    truth = 0.1 * np.exp(0.6**2 / 2)
    assert abs(cuped.abs_diff.mean() - truth) < 3 * cuped.se.mean() / np.sqrt(K)


def test_broken_allocation_flagged_every_time_and_fair_one_rarely():
    rng = np.random.default_rng(65)
    n = 1000
    broken = [
        stats.srm_chisquare(np.bincount(rng.random(n) < 0.35, minlength=2), [0.5, 0.5])
        for _ in range(100)
    ]
    fair = [
        stats.srm_chisquare(np.bincount(rng.random(n) < 0.5, minlength=2), [0.5, 0.5])
        for _ in range(K)
    ]
    assert all(r.flagged for r in broken)
    assert consistent(sum(r.flagged for r in fair), K, stats.SRM_P_THRESHOLD)


def test_cuped_for_a_ratio_metric_is_cuped_on_the_linearized_values():
    """The reference written out with numpy (docs/experiments.md): each arm's ratio values
    linearized (R + (num - R den) / mean(den)), theta = Cov / Var of the pooled linearized
    values against the pre-period covariate, each value adjusted by theta (x - mean(x)), then
    the difference of means with a normal interval."""
    rng = np.random.default_rng(5)
    h_t, s_t = _ratio_data(rng, 120, hours_per_session=0.65)
    h_c, s_c = _ratio_data(rng, 150)
    x_t = s_t * rng.gamma(5.0, 0.2, 120)  # a pre-period reading correlated with sessions
    x_c = s_c * rng.gamma(5.0, 0.2, 150)
    ours, theta = stats.cuped_delta_ratio_test(h_t, s_t, x_t, h_c, s_c, x_c)

    def linear(num, den):
        r = num.mean() / den.mean()
        return r + (num - r * den) / den.mean()

    lin_t, lin_c = linear(h_t, s_t), linear(h_c, s_c)
    lin, x = np.concatenate([lin_t, lin_c]), np.concatenate([x_t, x_c])
    ref_theta = np.cov(lin, x)[0, 1] / np.var(x, ddof=1)
    adj_t = lin_t - ref_theta * (x_t - x.mean())
    adj_c = lin_c - ref_theta * (x_c - x.mean())
    diff = adj_t.mean() - adj_c.mean()
    se = math.sqrt(adj_t.var(ddof=1) / 120 + adj_c.var(ddof=1) / 150)
    z = sps.norm.ppf(0.975)
    assert theta == pytest.approx(ref_theta, rel=1e-12)
    assert ours.abs_diff == pytest.approx(diff, rel=1e-12)
    assert ours.se == pytest.approx(se, rel=1e-12)
    assert ours.statistic == pytest.approx(diff / se, rel=1e-12)
    assert ours.p_value == pytest.approx(2 * sps.norm.sf(abs(diff / se)), rel=1e-9)
    assert (ours.ci_low, ours.ci_high) == (
        pytest.approx(diff - z * se, rel=1e-12),
        pytest.approx(diff + z * se, rel=1e-12),
    )
    assert (ours.n_treatment, ours.n_control) == (120, 150)
    assert (ours.mean_treatment, ours.mean_control) == (
        pytest.approx(adj_t.mean(), rel=1e-12),
        pytest.approx(adj_c.mean(), rel=1e-12),
    )
    # a covariate that explains part of the ratio narrows the interval
    plain = stats.delta_ratio_test(h_t, s_t, h_c, s_c)
    assert ours.se < plain.se


# --- the rules one by one, against hand computations (each names the change it catches) ------
def test_relative_difference_is_treatment_over_control_minus_one():
    """docs/experiments.md: rel_diff = mean_variant ÷ mean_control − 1; by hand 3 / 2 − 1 = 0.5."""
    r = stats.welch_from_moments(10, 3.0, 1.0, 10, 2.0, 1.0)
    assert r.rel_diff == pytest.approx(0.5, abs=1e-12)
    r = stats.welch_from_moments(10, 1.0, 1.0, 10, 4.0, 1.0)  # 1 / 4 − 1
    assert r.rel_diff == pytest.approx(-0.75, abs=1e-12)


def test_relative_interval_is_unbounded_exactly_at_the_edge_of_significance():
    """Fieller's interval is bounded only when the control mean is distinguishable from zero:
    a = m_c² − crit²·Var(m_c) > 0 (strictly). Here n = 11 and variance 11 in both arms, so
    Var(mean) = 1 in each and the Welch df is (1 + 1)² / (1/10 + 1/10) = 20 exactly; with the
    control mean set to crit = t.ppf(0.975, 20), a = crit² − crit² = 0: no bounded interval, NaN
    (never inf). A control mean 1 % further from zero gives a finite interval around 5/m_c − 1."""
    crit = sps.t.ppf(0.975, 20.0)
    edge = stats.welch_from_moments(11, 5.0, 11.0, 11, crit, 11.0)
    assert edge.df == 20.0 and crit**2 - crit**2 * 1.0 == 0.0  # the premise: a = 0 exactly
    assert np.isnan(edge.rel_ci_low) and np.isnan(edge.rel_ci_high)
    assert edge.rel_diff == pytest.approx(5.0 / crit - 1.0)  # the point estimate is defined
    inside = stats.welch_from_moments(11, 5.0, 11.0, 11, 1.01 * crit, 11.0)
    assert np.isfinite(inside.rel_ci_low) and np.isfinite(inside.rel_ci_high)
    assert inside.rel_ci_low < 5.0 / (1.01 * crit) - 1.0 < inside.rel_ci_high


def test_integer_means_are_computed_in_floating_point():
    """Means handed in as integers (say, a BIGINT of cents from SQL) are floats before Fieller's
    terms square them: 5e9² overflows int64. By hand: Var(mean) = 1e19 / 10 = 1e18 in both arms,
    df = (2e18)² / (2 · 1e36 / 9) = 18, rel_diff = 5e9 / 4e9 − 1 = 0.25, and each end ρ − 1 of
    the interval solves (m_t − ρ·m_c)² = crit² · (Var_t + ρ²·Var_c)."""
    r = stats.welch_from_moments(10, 5_000_000_000, 10**19, 10, 4_000_000_000, 10**19)
    assert r.df == pytest.approx(18.0) and r.rel_diff == pytest.approx(0.25)
    crit = sps.t.ppf(0.975, 18.0)
    for end in (r.rel_ci_low, r.rel_ci_high):
        rho = float(end) + 1.0
        lhs = (5e9 - rho * 4e9) ** 2
        assert lhs == pytest.approx(crit**2 * (1e18 + rho**2 * 1e18), rel=1e-9)


def test_an_arm_with_one_unit_has_no_standard_error_or_degrees_of_freedom():
    """Fewer than 2 units: se and df are NaN too (the asset nulls the whole row of statistics),
    though the given variance makes se = sqrt(0.5/1 + 1/10) finite and the Welch formula gives
    df = 0.36 / (0.25/0 + 0.01/9) = 0."""
    r = stats.welch_from_moments(1, 2.0, 0.5, 10, 1.0, 1.0)
    assert np.isnan(r.se) and np.isnan(r.df)
    assert r.abs_diff == pytest.approx(1.0)  # the difference of means itself is defined


@pytest.mark.filterwarnings("error")
def test_undefined_results_raise_no_numpy_warning():
    """Undefined is NaN *without a warning* (module docstring, ``_mean``): divisions by zero
    (one unit: n − 1 = 0) and 0/0 (no units, no variation) happen under ``np.errstate``. With
    warnings as errors, each case below must still return its NaN."""
    one = stats.welch_from_moments(1, 2.0, 0.5, 10, 1.0, 1.0)  # vm_t² / 0: divide
    empty = stats.welch_test(np.array([]), np.array([1.0, 2.0]))  # 0 / 0: invalid
    flat = stats.welch_test(np.ones(5), np.ones(5))  # se = 0: 0 / 0
    no_den = stats.delta_ratio_test(np.ones(3), np.zeros(3), np.ones(3), np.ones(3))
    for r in (one, empty, flat, no_den):
        assert np.isnan(r.p_value)
    assert np.isnan(stats.moments(np.array([4.0]))[2])  # 0 / 0
    assert np.isnan(stats.cuped_theta(np.arange(4.0), np.ones(4)))  # 0 / 0


def test_alpha_sets_the_interval_of_every_test():
    """A 90 % interval (alpha 0.1) against scipy's, for the Welch test and its CUPED form."""
    rng = np.random.default_rng(12)
    y_t, y_c = rng.normal(1.0, 1.0, 30), rng.normal(0.5, 2.0, 25)
    ours = stats.welch_test(y_t, y_c, alpha=0.1)
    ci = sps.ttest_ind(y_t, y_c, equal_var=False).confidence_interval(0.90)
    assert (ours.ci_low, ours.ci_high) == (pytest.approx(ci.low), pytest.approx(ci.high))
    # CUPED with a covariate: the same Welch interval on Y − θ(X − mean X), θ from np.cov
    x_t, x_c = y_t + rng.normal(0, 0.5, 30), y_c + rng.normal(0, 0.5, 25)
    cuped, theta = stats.cuped_welch_test(y_t, x_t, y_c, x_c, alpha=0.1)
    y, x = np.concatenate([y_t, y_c]), np.concatenate([x_t, x_c])
    ref_theta = np.cov(y, x)[0, 1] / np.var(x, ddof=1)
    adj_t, adj_c = y_t - ref_theta * (x_t - x.mean()), y_c - ref_theta * (x_c - x.mean())
    ci = sps.ttest_ind(adj_t, adj_c, equal_var=False).confidence_interval(0.90)
    assert theta == pytest.approx(ref_theta, rel=1e-12)
    assert (cuped.ci_low, cuped.ci_high) == (pytest.approx(ci.low), pytest.approx(ci.high))


def test_cuped_theta_by_hand_with_a_covariate_of_small_variance():
    """θ = Σdx·dy / Σdx²; x = 0.1..0.4 has Σdx² = 2·(0.15² + 0.05²) = 0.05 (< 1, still a
    variation: θ is defined). ȳ = 5.8 / 4 = 1.45, dy = (−.45, −.15, .05, .55),
    Σdx·dy = .0675 + .0075 + .0025 + .0825 = 0.16, θ = 0.16 / 0.05 = 3.2."""
    theta = stats.cuped_theta(np.array([1.0, 1.3, 1.5, 2.0]), np.array([0.1, 0.2, 0.3, 0.4]))
    assert theta == pytest.approx(3.2, rel=1e-12)


def test_cuped_theta_is_centred_so_a_large_level_costs_no_precision():
    """θ is the covariance over the variance, each of *centred* values (np.cov's reference): on
    outcomes around 1e9 (revenue in cents) it still agrees with np.cov to 1e-12. An uncentred
    Σdx·y would be equal in exact arithmetic but lose six digits here."""
    rng = np.random.default_rng(1)
    x = rng.normal(0.3, 0.1, 50)
    y = 1e9 + 2 * x + rng.normal(0, 0.05, 50)
    ref = np.cov(y, x)[0, 1] / np.var(x, ddof=1)
    assert stats.cuped_theta(y, x) == pytest.approx(ref, rel=1e-12)


def _cuped_ratio_reference(h_t, s_t, x_t, h_c, s_c, x_c):
    """(θ, difference, se) of CUPED on linearized ratios, written out with numpy (1-D arrays)."""

    def linear(num, den):
        r = num.mean() / den.mean()
        return r + (num - r * den) / den.mean()

    lin_t, lin_c = linear(h_t, s_t), linear(h_c, s_c)
    lin, x = np.concatenate([lin_t, lin_c]), np.concatenate([x_t, x_c])
    theta = np.cov(lin, x)[0, 1] / np.var(x, ddof=1)
    adj_t = lin_t - theta * (x_t - x.mean())
    adj_c = lin_c - theta * (x_c - x.mean())
    se = math.sqrt(adj_t.var(ddof=1) / len(adj_t) + adj_c.var(ddof=1) / len(adj_c))
    return theta, adj_t.mean() - adj_c.mean(), se


def test_vectorized_cuped_and_linearization_equal_the_reference_row_by_row():
    """Arrays of shape (experiments, units), 3 × 40 and 3 × 50: every row is its own experiment
    (θ, mean(X) and the linearization per row), as the numpy reference computes row by row."""
    rng = np.random.default_rng(21)
    h_t, s_t = _ratio_data(rng, 40, (3,), hours_per_session=0.65)
    h_c, s_c = _ratio_data(rng, 50, (3,))
    x_t = s_t * rng.gamma(5.0, 0.2, (3, 40))
    x_c = s_c * rng.gamma(5.0, 0.2, (3, 50))
    ours, theta = stats.cuped_delta_ratio_test(h_t, s_t, x_t, h_c, s_c, x_c)
    plain, plain_theta = stats.cuped_welch_test(h_t, x_t, h_c, x_c)
    lin = stats.linearize_ratio(h_t, s_t)
    assert theta.shape == ours.abs_diff.shape == lin.shape[:1] == (3,)
    for i in range(3):
        ref_theta, ref_diff, ref_se = _cuped_ratio_reference(
            h_t[i], s_t[i], x_t[i], h_c[i], s_c[i], x_c[i]
        )
        assert theta[i] == pytest.approx(ref_theta, rel=1e-12)
        assert ours.abs_diff[i] == pytest.approx(ref_diff, rel=1e-12)
        assert ours.se[i] == pytest.approx(ref_se, rel=1e-12)
        r = h_t[i].mean() / s_t[i].mean()
        np.testing.assert_allclose(lin[i], r + (h_t[i] - r * s_t[i]) / s_t[i].mean(), rtol=1e-12)
        # the plain-mean CUPED of hours, per row, against np.cov
        y, x = np.concatenate([h_t[i], h_c[i]]), np.concatenate([x_t[i], x_c[i]])
        ref = np.cov(y, x)[0, 1] / np.var(x, ddof=1)
        assert plain_theta[i] == pytest.approx(ref, rel=1e-12)
        adj_t, adj_c = h_t[i] - ref * (x_t[i] - x.mean()), h_c[i] - ref * (x_c[i] - x.mean())
        ref_p = sps.ttest_ind(adj_t, adj_c, equal_var=False).pvalue
        assert plain.p_value[i] == pytest.approx(ref_p, rel=1e-9)


def test_moments_along_another_axis():
    """``axis`` picks the units' axis: units in rows (axis 0) against numpy's ddof=1 variance."""
    y = np.arange(12.0).reshape(4, 3) ** 2
    n, mean, var = stats.moments(y, axis=0)
    assert n == 4
    np.testing.assert_allclose(mean, y.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(var, y.var(axis=0, ddof=1), rtol=1e-12)
    num = y + 1.0
    den = np.arange(1.0, 13.0).reshape(4, 3)
    n, r, var_r = stats.ratio_moments(num, den, axis=0)
    _, r_rows, var_rows = stats.ratio_moments(num.T, den.T)  # the same units in rows
    np.testing.assert_allclose(r, num.mean(axis=0) / den.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(var_r, var_rows, rtol=1e-12)
    np.testing.assert_allclose(r, r_rows, rtol=1e-12)


def test_a_denominator_mean_of_one_is_a_ratio_like_any_other():
    """Only a denominator mean of 0 makes R undefined: den = (0.5, 1.5, 1) has mean 1 exactly,
    num = (1, 2, 3) mean 2, so R = 2; by the delta formula with Var(num) = 1, Var(den) = 0.25,
    Cov = (−1·−0.5 + 0 + 1·0) / 2 = 0.25: Var(R) = (1 − 2·2·0.25 + 4·0.25) / (3 · 1) = 1/3."""
    n, r, var_r = stats.ratio_moments(np.array([1.0, 2.0, 3.0]), np.array([0.5, 1.5, 1.0]))
    assert n == 3
    assert r == pytest.approx(2.0, rel=1e-12)
    assert var_r == pytest.approx(1 / 3, rel=1e-12)


# --- SRM, every field ------------------------------------------------------------------------
def test_srm_result_every_field():
    """By hand: 480 | 520 against 1 | 1 (weights are normalized): expected 500 each,
    chi2 = 2 · 20² / 500 = 1.6, p = erfc(sqrt(1.6 / 2)) (chi-square with 1 df), not flagged."""
    r = stats.srm_chisquare([480, 520], [1, 1])
    assert r == stats.SrmResult(
        total_units=1000,
        observed=(480, 520),
        expected=(500.0, 500.0),
        chi2=pytest.approx(1.6),
        p_value=pytest.approx(math.erfc(math.sqrt(0.8))),
        flagged=False,
        null_reason=None,
    )
    assert stats.srm_chisquare([0, 0], [1, 3]) == stats.SrmResult(
        0, (0, 0), (0.0, 0.0), None, None, False, "no units"
    )


def test_srm_judged_from_exactly_eight_expected_units():
    """docs/experiments.md: flagged when p < 0.001 and every variant expects *at least* 8 units.
    0 | 16 against 1 | 1 expects 8 | 8: judged; chi2 = 8 + 8 = 16, p = erfc(sqrt(8)) ≈ 6e-5."""
    r = stats.srm_chisquare([0, 16], [0.5, 0.5])
    assert r.chi2 == pytest.approx(16.0)
    assert r.p_value == pytest.approx(math.erfc(math.sqrt(8.0)))
    assert r.flagged and r.null_reason is None
    # 0 | 14 expects 7 | 7: reported, not judged, and says why
    small = stats.srm_chisquare([0, 14], [0.5, 0.5])
    assert not small.flagged
    assert small.null_reason == "fewer than 8 expected units in a variant"


@pytest.mark.parametrize(
    "observed, weights, message",
    [
        ([10, 20], [0.2, 0.3, 0.5], "^need one weight per variant and at least 2 variants"),
        ([10], [1.0], "^need one weight per variant and at least 2 variants"),
        ([10, 20], [0.0, 1.0], r"^registry weights must be positive: \[0.0, 1.0\]"),
    ],
)
def test_srm_refuses_a_malformed_registry(observed, weights, message):
    with pytest.raises(ValueError, match=message):
        stats.srm_chisquare(observed, weights)


def test_float32_inputs_are_computed_in_double_precision():
    """A Float32 column reaches numpy as float32: every function computes in float64 all the
    same. Values sit at a level of 1000 with a spread of 1, where a float32 sum is off by ~1e-4
    (its step at 1000 is 6e-5); the references are the same values in float64, by hand."""
    rng = np.random.default_rng(32)
    y_t = (1000 + rng.normal(0.1, 1.0, 300)).astype(np.float32)
    y_c = (1000 + rng.normal(0.0, 1.0, 200)).astype(np.float32)
    x_t = (1000 + rng.normal(0.0, 1.0, 300)).astype(np.float32)
    x_c = (1000 + rng.normal(0.0, 1.0, 200)).astype(np.float32)
    t64, c64, xt64, xc64 = (a.astype(float) for a in (y_t, y_c, x_t, x_c))

    _, mean, var = stats.moments(y_t)
    assert (mean, var) == (
        pytest.approx(t64.mean(), rel=1e-13),
        pytest.approx(t64.var(ddof=1), rel=1e-12),
    )
    ref = sps.ttest_ind(t64, c64, equal_var=False)
    assert stats.welch_test(y_t, y_c).statistic == pytest.approx(ref.statistic, rel=1e-9)

    # ratio metrics: y per x, the delta method and its linearized values
    r = t64.mean() / xt64.mean()
    _, ratio, _ = stats.ratio_moments(y_t, x_t)
    assert ratio == pytest.approx(r, rel=1e-13)
    lin = r + (t64 - r * xt64) / xt64.mean()
    np.testing.assert_allclose(stats.linearize_ratio(y_t, x_t), lin, rtol=1e-13)

    # CUPED: θ and the adjusted means, with mean(X) of both arms pooled
    y, x = np.concatenate([t64, c64]), np.concatenate([xt64, xc64])
    theta = np.cov(y, x)[0, 1] / np.var(x, ddof=1)
    assert stats.cuped_theta(np.concatenate([y_t, y_c]), np.concatenate([x_t, x_c])) == (
        pytest.approx(theta, rel=1e-9)
    )
    cuped, _ = stats.cuped_welch_test(y_t, x_t, y_c, x_c)
    assert cuped.mean_treatment == pytest.approx(
        (t64 - theta * (xt64 - x.mean())).mean(), rel=1e-13
    )
    ones_t, ones_c = np.ones(300, np.float32), np.ones(200, np.float32)
    ratio_cuped, _ = stats.cuped_delta_ratio_test(y_t, ones_t, x_t, y_c, ones_c, x_c)
    # over a denominator of ones the linearized values are the values themselves
    assert ratio_cuped.mean_treatment == pytest.approx(cuped.mean_treatment, rel=1e-13)

    # SRM: registry weights in float32 give the chi-square of the same weights in float64
    w = np.array([0.1, 0.2, 0.7], np.float32)
    observed = [95, 230, 675]
    expected = 1000 * w.astype(float) / w.astype(float).sum()
    chi2 = sps.chisquare(observed, f_exp=expected).statistic
    assert stats.srm_chisquare(observed, w).chi2 == pytest.approx(chi2, rel=1e-12)


def test_a_covariate_whose_spread_underflows_has_no_theta_never_inf():
    """x = 0 and 1e-200: its deviations (±5e-201) square to 0 in float64 (below 5e-324) while
    Σdx·dy (±2.5e-201) does not: θ would be a number over zero. Var(X) = 0 means no θ (NaN),
    never inf (module docstring)."""
    theta = stats.cuped_theta(np.array([1.0, 2.0]), np.array([0.0, 1e-200]))
    assert np.isnan(theta)
