"""The statistics behind `experiment_results`: Welch t-test, delta method, CUPED, SRM.

Pure numpy/scipy, no Dagster, so the data-science team can reuse and audit it. Every core
function works on *summary moments* (n, mean, variance) held in numpy arrays of any shape, so one
call can evaluate many experiments (or many simulated datasets) at once; the ``*_test`` helpers
take the unit-level values of one comparison.

Conventions (documented in docs/experiments.md):
- Variances are sample variances (``ddof=1``), as in ``scipy.stats.ttest_ind``.
- Undefined results (fewer than 2 units in an arm, zero variance, zero control mean) are NaN
  here; the asset turns every NaN into null with a ``*_null_reason``. Never inf.
- Two-sided tests at ``alpha`` (default 0.05, i.e. 95% intervals).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ALPHA = 0.05
#: SRM is flagged below this p-value (docs/experiments.md: chi-square against registry weights).
SRM_P_THRESHOLD = 0.001
#: ...and only when every variant expects at least this many units (the chi-square needs counts).
SRM_MIN_EXPECTED_UNITS = 8

ArrayLike = np.ndarray | float


def _sps():
    """scipy.stats, imported on first use: every Dagster run process imports the code location,
    and scipy.stats alone was a third of that import (~0.5 s)."""
    from scipy import stats

    return stats


def _errstate():
    return np.errstate(divide="ignore", invalid="ignore")


def _mean(a: np.ndarray, axis: int = -1, keepdims: bool = False) -> np.ndarray:
    """Mean that is NaN (without a warning) for an empty axis."""
    with _errstate():
        return a.sum(axis=axis, keepdims=keepdims) / a.shape[axis]


def _nan_if(cond: np.ndarray, values: np.ndarray) -> np.ndarray:
    return np.where(cond, np.nan, values)


@dataclass(frozen=True)
class Comparison:
    """Treatment minus control for one metric (arrays broadcast over any leading shape)."""

    n_control: np.ndarray
    n_treatment: np.ndarray
    mean_control: np.ndarray
    mean_treatment: np.ndarray
    abs_diff: np.ndarray
    se: np.ndarray
    #: Welch–Satterthwaite degrees of freedom; inf for normal-theory (delta-method) tests.
    df: np.ndarray
    statistic: np.ndarray
    p_value: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    rel_diff: np.ndarray
    #: Fieller interval for treatment/control − 1; NaN when unbounded (control mean ≈ 0).
    rel_ci_low: np.ndarray
    rel_ci_high: np.ndarray


def _finish(
    n_t: np.ndarray,
    m_t: np.ndarray,
    vm_t: np.ndarray,
    n_c: np.ndarray,
    m_c: np.ndarray,
    vm_c: np.ndarray,
    df: np.ndarray,
    alpha: float,
) -> Comparison:
    """Shared tail: from the two means and the variances *of the means* to test, CI, relative CI."""
    with _errstate():
        diff = m_t - m_c
        se = np.sqrt(vm_t + vm_c)
        bad = ~(se > 0) | ~np.isfinite(se) | (n_t < 2) | (n_c < 2)
        stat = _nan_if(bad, diff / se)
        finite_df = np.isfinite(df)
        p = np.where(
            finite_df,
            2.0 * _sps().t.sf(np.abs(stat), np.where(finite_df, df, 1.0)),
            2.0 * _sps().norm.sf(np.abs(stat)),
        )
        crit = np.where(
            finite_df,
            _sps().t.ppf(1.0 - alpha / 2.0, np.where(finite_df, df, 1.0)),
            _sps().norm.ppf(1.0 - alpha / 2.0),
        )
        half = _nan_if(bad, crit * se)
        # Relative difference (treatment / control - 1), interval by Fieller's theorem with the
        # same critical value as the absolute interval: the ratios ρ with
        # (m_t - ρ·m_c)² ≤ crit²·(vm_t + ρ²·vm_c). It holds ρ = 1 exactly when the absolute
        # interval holds 0, so the two intervals never disagree on significance (the plain delta
        # method can, with few units and a treatment mean far from control). Unbounded — NaN —
        # when the control mean itself is not distinguishable from zero (a ≤ 0 below).
        rel_bad = bad | (m_c == 0) | ~np.isfinite(m_c)
        safe_mc = np.where(rel_bad, 1.0, m_c)
        rel = _nan_if(rel_bad, m_t / safe_mc - 1.0)
        a = m_c**2 - crit**2 * vm_c
        disc = np.sqrt(np.maximum(m_t**2 * vm_c + vm_t * a, 0.0)) * crit
        bounded = ~rel_bad & (a > 0)
        safe_a = np.where(bounded, a, 1.0)
        rel_low = np.where(bounded, (m_t * m_c - disc) / safe_a - 1.0, np.nan)
        rel_high = np.where(bounded, (m_t * m_c + disc) / safe_a - 1.0, np.nan)
    return Comparison(
        n_control=np.asarray(n_c),
        n_treatment=np.asarray(n_t),
        mean_control=np.asarray(m_c, dtype=float),
        mean_treatment=np.asarray(m_t, dtype=float),
        abs_diff=np.asarray(diff, dtype=float),
        se=_nan_if(bad, se),
        df=_nan_if(bad, np.asarray(df, dtype=float)),
        statistic=stat,
        p_value=_nan_if(bad, p),
        ci_low=diff - half,
        ci_high=diff + half,
        rel_diff=rel,
        rel_ci_low=rel_low,
        rel_ci_high=rel_high,
    )


# --- means: Welch t-test -------------------------------------------------------------------
def welch_from_moments(
    n_t: ArrayLike,
    mean_t: ArrayLike,
    var_t: ArrayLike,
    n_c: ArrayLike,
    mean_c: ArrayLike,
    var_c: ArrayLike,
    alpha: float = ALPHA,
) -> Comparison:
    """Welch's unequal-variance t-test of mean_t − mean_c (same as scipy's ttest_ind(equal_var=False))."""
    n_t, n_c = np.asarray(n_t, dtype=float), np.asarray(n_c, dtype=float)
    var_t, var_c = np.asarray(var_t, dtype=float), np.asarray(var_c, dtype=float)
    with _errstate():
        vm_t, vm_c = var_t / n_t, var_c / n_c
        df = (vm_t + vm_c) ** 2 / (vm_t**2 / (n_t - 1.0) + vm_c**2 / (n_c - 1.0))
    return _finish(
        n_t,
        np.asarray(mean_t, dtype=float),
        vm_t,
        n_c,
        np.asarray(mean_c, dtype=float),
        vm_c,
        df,
        alpha,
    )


def moments(y: np.ndarray, axis: int = -1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(n, mean, sample variance) along ``axis``."""
    y = np.asarray(y, dtype=float)
    n = np.asarray(y.shape[axis], dtype=float)
    with _errstate():
        mean = _mean(y, axis)
        var = ((y - np.expand_dims(mean, axis)) ** 2).sum(axis=axis) / (n - 1.0)
        return n, mean, var


def welch_test(y_t: np.ndarray, y_c: np.ndarray, alpha: float = ALPHA) -> Comparison:
    """Welch t-test on unit-level values (one value per unit) of treatment and control."""
    return welch_from_moments(*moments(y_t), *moments(y_c), alpha=alpha)


# --- ratios: delta method -----------------------------------------------------------------
def ratio_moments(
    num: np.ndarray, den: np.ndarray, axis: int = -1
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(n, R, Var(R)) for the ratio of means R = mean(num) / mean(den) over units.

    Delta method (first-order Taylor expansion of R around the two means):
    Var(R) ≈ [Var(num) − 2·R·Cov(num, den) + R²·Var(den)] / (n · mean(den)²), sample (ddof=1)
    (co)variances. Equivalently the variance of the mean of the linearized values
    (num − R·den) / mean(den); see ``linearize_ratio``. NaN when mean(den) is 0.
    """
    num, den = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    n = np.asarray(num.shape[axis], dtype=float)
    with _errstate():
        mn, md = _mean(num, axis), _mean(den, axis)
        r = np.where(md != 0, mn / np.where(md != 0, md, 1.0), np.nan)
        dn = num - np.expand_dims(mn, axis)
        dd = den - np.expand_dims(md, axis)
        var_n = (dn**2).sum(axis=axis) / (n - 1.0)
        var_d = (dd**2).sum(axis=axis) / (n - 1.0)
        cov = (dn * dd).sum(axis=axis) / (n - 1.0)
        var_r = (var_n - 2.0 * r * cov + r**2 * var_d) / (n * md**2)
    return n, r, var_r


def linearize_ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """Per-unit values whose mean is R and whose sample variance / n is the delta-method Var(R).

    R + (num_i − R·den_i) / mean(den). Used to apply CUPED to ratio metrics: CUPED then works on
    these values exactly as on a plain per-unit mean.
    """
    num, den = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    with _errstate():
        md = _mean(den, keepdims=True)
        r = _mean(num, keepdims=True) / md
        return r + (num - r * den) / md


def delta_ratio_test(
    num_t: np.ndarray, den_t: np.ndarray, num_c: np.ndarray, den_c: np.ndarray, alpha: float = ALPHA
) -> Comparison:
    """Difference of two ratio metrics (e.g. hours per session), delta-method variance, z-test."""
    n_t, r_t, v_t = ratio_moments(num_t, den_t)
    n_c, r_c, v_c = ratio_moments(num_c, den_c)
    return _finish(n_t, r_t, v_t, n_c, r_c, v_c, np.full(np.shape(r_t), np.inf), alpha)


# --- CUPED ------------------------------------------------------------------------------------
def cuped_theta(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """θ = Cov(Y, X) / Var(X) on the pooled units of both arms (Deng et al. 2013). NaN if Var(X)=0."""
    y, x = np.asarray(y, dtype=float), np.asarray(x, dtype=float)
    with _errstate():
        dx = x - _mean(x, keepdims=True)
        dy = y - _mean(y, keepdims=True)
        var_x = (dx**2).sum(axis=-1)
        theta = (dx * dy).sum(axis=-1) / var_x
        return np.where(var_x > 0, theta, np.nan)


def cuped_adjust(y: np.ndarray, x: np.ndarray, theta: ArrayLike, x_mean: ArrayLike) -> np.ndarray:
    """Y − θ·(X − mean(X)): same expectation per arm as Y (X is pre-treatment), smaller variance."""
    theta = np.asarray(theta, dtype=float)
    x_mean = np.asarray(x_mean, dtype=float)
    if theta.ndim:
        theta, x_mean = theta[..., None], x_mean[..., None]
    return np.asarray(y, dtype=float) - theta * (np.asarray(x, dtype=float) - x_mean)


def cuped_welch_test(
    y_t: np.ndarray, x_t: np.ndarray, y_c: np.ndarray, x_c: np.ndarray, alpha: float = ALPHA
) -> tuple[Comparison, np.ndarray]:
    """Welch test on CUPED-adjusted values; θ and mean(X) from both arms pooled. Returns (test, θ).

    Pooling θ keeps the adjustment identical in both arms, so the difference stays unbiased; the
    interval treats θ as known (standard practice, its estimation error is O(1/n)).
    """
    y = np.concatenate([y_t, y_c], axis=-1)
    x = np.concatenate([x_t, x_c], axis=-1)
    theta = cuped_theta(y, x)
    x_mean = _mean(np.asarray(x, dtype=float))
    return (
        welch_test(
            cuped_adjust(y_t, x_t, theta, x_mean), cuped_adjust(y_c, x_c, theta, x_mean), alpha
        ),
        theta,
    )


# --- sample-ratio mismatch ----------------------------------------------------------------
@dataclass(frozen=True)
class SrmResult:
    total_units: int
    observed: tuple[int, ...]
    expected: tuple[float, ...]
    chi2: float | None
    p_value: float | None
    #: True when the test is valid (every expected count ≥ SRM_MIN_EXPECTED_UNITS) and p < 0.001.
    flagged: bool
    #: Why chi2/p are null, or why the test was not judged ("too few units").
    null_reason: str | None


def srm_chisquare(observed: list[int] | np.ndarray, weights: list[float] | np.ndarray) -> SrmResult:
    """Pearson chi-square goodness of fit of the variant counts against the registry weights.

    Weights are normalized to sum 1 (the registry may state 50|50). Judged only when every variant
    *expects* at least 8 units: the chi-square approximation needs counts, and using expected (not
    observed) counts keeps a variant starved of units — the worst SRM — from escaping the test.
    """
    obs = np.asarray(observed, dtype=float)
    w = np.asarray(weights, dtype=float)
    total = float(obs.sum())
    if obs.shape != w.shape or obs.size < 2:
        raise ValueError(f"need one weight per variant and at least 2 variants: {obs}, {w}")
    if not np.all(w > 0):
        raise ValueError(f"registry weights must be positive: {w.tolist()}")
    expected = total * w / w.sum()
    if total == 0:
        return SrmResult(
            0, tuple(int(o) for o in obs), tuple(expected), None, None, False, "no units"
        )
    chi2 = float(((obs - expected) ** 2 / expected).sum())
    p = float(_sps().chi2.sf(chi2, obs.size - 1))
    enough = bool(np.all(expected >= SRM_MIN_EXPECTED_UNITS))
    return SrmResult(
        total_units=int(total),
        observed=tuple(int(o) for o in obs),
        expected=tuple(float(e) for e in expected),
        chi2=chi2,
        p_value=p,
        flagged=enough and p < SRM_P_THRESHOLD,
        null_reason=None
        if enough
        else f"fewer than {SRM_MIN_EXPECTED_UNITS} expected units in a variant",
    )


def cuped_delta_ratio_test(
    num_t: np.ndarray,
    den_t: np.ndarray,
    x_t: np.ndarray,
    num_c: np.ndarray,
    den_c: np.ndarray,
    x_c: np.ndarray,
    alpha: float = ALPHA,
) -> tuple[Comparison, np.ndarray]:
    """CUPED for a ratio metric: adjust each arm's linearized values (``linearize_ratio``) by the
    pre-period covariate, θ pooled; normal-theory test like ``delta_ratio_test``. Returns (test, θ).

    With θ = 0 this is exactly ``delta_ratio_test``: the linearized values have mean R and
    sample variance / n equal to the delta-method Var(R).
    """
    lin_t, lin_c = linearize_ratio(num_t, den_t), linearize_ratio(num_c, den_c)
    x = np.concatenate([x_t, x_c], axis=-1)
    theta = cuped_theta(np.concatenate([lin_t, lin_c], axis=-1), x)
    x_mean = _mean(np.asarray(x, dtype=float))
    n_t, m_t, v_t = moments(cuped_adjust(lin_t, x_t, theta, x_mean))
    n_c, m_c, v_c = moments(cuped_adjust(lin_c, x_c, theta, x_mean))
    with _errstate():
        result = _finish(
            n_t, m_t, v_t / n_t, n_c, m_c, v_c / n_c, np.full(np.shape(m_t), np.inf), alpha
        )
    return result, theta
