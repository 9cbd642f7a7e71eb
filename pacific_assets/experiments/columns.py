"""The columns of the experiments pipeline's lake tables (docs/experiments.md).

User units appear only as HMAC-SHA256 pseudonyms (docs/experiments.md, "Pseudonymization"); no
output is ever NaN or inf: every undefined statistic is null with its reason.
"""

from __future__ import annotations

import polars as pl

from pacific_assets.columns import UTC_TS, Column, declare, null_reason

BOOL, DATE, F64, I64, STR = pl.Boolean, pl.Date, pl.Float64, pl.Int64, pl.String

_ENGAGEMENT = (
    "the unit's user_engagement_daily value that day (summed over an account's users); 0 on a "
    "day with no clicks, null when the day's engagement was never built"
)
_PRE = "summed over the 14 days before assignment_date; null when pre_period_days = 0"

AB_UNIT_DAILY = declare(
    "ab_unit_daily",
    Column("date", DATE, "the UTC day (the partition); one row per experiment × unit × day", False),
    Column("experiment_id", STR, "the experiment, from the registry", False),
    Column("unit_type", STR, "account or user, from the registry", False),
    Column(
        "unit_id",
        STR,
        "account units: the account_id; user units: HMAC-SHA256 pseudonym of the user_id",
        False,
    ),
    Column(
        "account_id",
        STR,
        "the account (user units: from the latest directory export; null if unknown)",
    ),
    Column("variant", STR, "the first exposure's variant", False),
    Column("assigned_at", UTC_TS, "the first exposure's time", False),
    Column("assignment_date", DATE, "date(assigned_at) in UTC", False),
    Column("days_since_assignment", I64, "date − assignment_date (0 on the assignment day)", False),
    Column("active_users", I64, "users of the unit with ≥ 1 click that day: " + _ENGAGEMENT),
    Column("sessions", I64, "sessions: " + _ENGAGEMENT),
    Column("hours", F64, "hours: " + _ENGAGEMENT),
    Column("events", I64, "clicks: " + _ENGAGEMENT),
    Column("late_events", I64, "late clicks: " + _ENGAGEMENT),
    Column(
        "engagement_null_reason",
        STR,
        "why the engagement columns are null (the day's engagement was never built)",
    ),
    Column(
        "recognized_revenue_usd",
        F64,
        "account units: the account's recognized revenue that day (0 when the day has no row); "
        "null for user units and for days without a revenue partition",
    ),
    null_reason("recognized_revenue_usd", "a user unit, or the revenue day is not built"),
)

AB_UNIT_COVARIATES = declare(
    "ab_unit_covariates",
    Column(
        "assignment_date",
        DATE,
        "date(assigned_at) in UTC (the partition): the day the unit was first exposed",
        False,
    ),
    Column("experiment_id", STR, "the experiment, from the registry", False),
    Column("unit_type", STR, "account or user, from the registry", False),
    Column(
        "unit_id",
        STR,
        "account units: the account_id; user units: HMAC-SHA256 pseudonym of the user_id",
        False,
    ),
    Column("variant", STR, "the first exposure's variant", False),
    Column("assigned_at", UTC_TS, "the first exposure's time", False),
    Column(
        "pre_period_days",
        I64,
        "of the 14 days before assignment_date, how many have engagement data",
        False,
    ),
    Column("pre_active_users", I64, "pre-period covariate: active user-days " + _PRE),
    Column("pre_sessions", I64, "pre-period covariate: sessions " + _PRE),
    Column("pre_hours", F64, "pre-period covariate: hours " + _PRE),
    Column("pre_events", I64, "pre-period covariate: clicks " + _PRE),
    Column("pre_period_null_reason", STR, "why the engagement covariates are null"),
    Column(
        "pre_revenue_days",
        I64,
        "account units: of the same 14 days, how many have revenue data",
        False,
    ),
    Column(
        "pre_recognized_revenue_usd",
        F64,
        "account units: recognized revenue over the same 14 days",
    ),
    null_reason("pre_recognized_revenue_usd", "a user unit, or no revenue data in the window"),
)

_CUPED = "CUPED: the same test on Y − θ(X − mean X); null with cuped_null_reason"
EXPERIMENT_RESULTS = declare(
    "experiment_results",
    Column("week_start", DATE, "Monday of the week (the partition); results as of its end", False),
    Column(
        "data_through",
        DATE,
        "last day included (newest built ab_unit_daily day before the week's end, capped at the "
        "experiment's last day)",
        False,
    ),
    Column("experiment_id", STR, "the experiment", False),
    Column("unit_type", STR, "account or user", False),
    Column("metric", STR, "the metric (docs/experiments.md metrics table)", False),
    Column("metric_kind", STR, "mean or ratio", False),
    Column("is_primary_metric", BOOL, "the registry's primary_metric", False),
    Column("control_variant", STR, "the variant named control, else the first listed", False),
    Column("variant", STR, "the treatment variant compared with the control", False),
    Column("units_control", I64, "control units with data for the metric", False),
    Column("units_variant", I64, "treatment units with data for the metric", False),
    Column("mean_control", F64, "mean of unit values (ratio metrics: Σnum ÷ Σden), control"),
    Column("mean_variant", F64, "the same for the treatment"),
    Column("abs_diff", F64, "mean_variant − mean_control"),
    Column("ci_low", F64, "95% interval of abs_diff, low (Welch t, or delta method for ratios)"),
    Column("ci_high", F64, "95% interval of abs_diff, high"),
    Column("rel_diff", F64, "mean_variant ÷ mean_control − 1"),
    Column("rel_ci_low", F64, "Fieller interval of the ratio − 1, low"),
    Column("rel_ci_high", F64, "Fieller interval of the ratio − 1, high"),
    Column("rel_diff_null_reason", STR, "why rel_diff is null (e.g. control mean zero)"),
    Column(
        "rel_ci_null_reason",
        STR,
        "why the relative interval is null (control mean not distinguishable from zero)",
    ),
    Column("p_value", F64, "two-sided p of the test"),
    Column("significant", BOOL, "p_value < 0.05", False),
    Column("test", STR, "welch_t or delta_method_z", False),
    Column("df", F64, "Welch–Satterthwaite degrees of freedom; null for the delta method (normal)"),
    Column(
        "stats_null_reason",
        STR,
        "why the statistics are null (fewer than 2 units in an arm, no variation, no denominator)",
    ),
    Column("cuped_theta", F64, "θ = Cov(Y, X) ÷ Var(X) over both arms pooled"),
    Column("cuped_abs_diff", F64, f"difference after adjustment. {_CUPED}"),
    Column("cuped_ci_low", F64, f"interval after adjustment, low. {_CUPED}"),
    Column("cuped_ci_high", F64, f"interval after adjustment, high. {_CUPED}"),
    Column("cuped_rel_diff", F64, "cuped_abs_diff ÷ mean_control"),
    Column("cuped_p_value", F64, f"p after adjustment. {_CUPED}"),
    Column(
        "cuped_variance_reduction",
        F64,
        "1 − Var_CUPED ÷ Var_raw of the difference (≈ ρ² between Y and X)",
    ),
    Column("cuped_null_reason", STR, "why CUPED is null (no pre-period data, no variation)"),
    Column("srm_units", I64, "the experiment's units (every unit with a row by the as-of date)"),
    Column(
        "srm_chi2",
        F64,
        "sample-ratio mismatch: Pearson chi-square of units per variant against the weights",
    ),
    Column("srm_p_value", F64, "p of the sample-ratio mismatch test"),
    Column(
        "srm_flagged",
        BOOL,
        "p < 0.001 and every variant expects at least 8 units: assignment or logging is broken",
        False,
    ),
    Column("srm_null_reason", STR, "why the SRM test is null (fewer than 8 expected units)"),
)
