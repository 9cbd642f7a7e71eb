"""`experiment_results`: weekly read-out of every running experiment for the data-science team.

For each Monday week, as of the end of that week (Sunday 24:00 UTC, or the experiment's end if
sooner): per experiment × metric × variant against control — units, means, absolute and relative
difference with 95% intervals, p-value (Welch t-test; delta method for ratio metrics), the
CUPED-adjusted difference with its interval, and the sample-ratio-mismatch test of the
experiment's units against the registry weights (the ``sample_ratio_mismatch`` check).

Results are cumulative: a unit contributes all its days from assignment to the as-of date.
"""

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import numpy as np
import polars as pl

from pacific_assets.experiments import stats
from pacific_assets.experiments.ab_unit_daily import SCHEMA as AB_SCHEMA
from pacific_assets.experiments.ab_unit_daily import TABLE as AB_TABLE
from pacific_assets.experiments.columns import EXPERIMENT_RESULTS
from pacific_assets.experiments.covariates import SCHEMA as COV_SCHEMA
from pacific_assets.experiments.covariates import TABLE as COV_TABLE
from pacific_assets.experiments.registry import REGISTRY_TABLE, load_registry
from pacific_assets.orchestration import Read, reads_metadata, single_run_backfill, weekly
from pacific_assets.previews import markdown_frame
from pacific_assets.resources import LakeResource
from pacific_assets.storage.duck import lake_view, run_sql

TABLE = "experiment_results"
SQL_DIR = Path(__file__).parent / "sql"
CHECK_SRM = "sample_ratio_mismatch"


@dataclass(frozen=True)
class Metric:
    """An outcome compared between arms. Columns refer to ``unit_outcomes`` (unit totals)."""

    name: str
    #: "mean": per-unit value numerator/denominator, averaged over units (Welch t-test).
    #: "ratio": mean(numerator)/mean(denominator) over units (delta method).
    kind: str
    numerator: str
    denominator: str
    pre_numerator: str
    pre_denominator: str
    unit_types: tuple[str, ...]
    definition: str


_BOTH = ("account", "user")
METRICS: tuple[Metric, ...] = (
    Metric(
        "active_users",
        "mean",
        "active_users",
        "exposure_days",
        "pre_active_users",
        "pre_period_days",
        _BOTH,
        "Daily active users of the unit, averaged over its days since assignment "
        "(for a user unit: the share of its days it was active).",
    ),
    Metric(
        "sessions",
        "mean",
        "sessions",
        "exposure_days",
        "pre_sessions",
        "pre_period_days",
        _BOTH,
        "Sessions per day of the unit, averaged over its days since assignment.",
    ),
    Metric(
        "hours",
        "mean",
        "hours",
        "exposure_days",
        "pre_hours",
        "pre_period_days",
        _BOTH,
        "Hours on the platform per day of the unit, averaged over its days since assignment.",
    ),
    Metric(
        "events",
        "mean",
        "events",
        "exposure_days",
        "pre_events",
        "pre_period_days",
        _BOTH,
        "Click events per day of the unit, averaged over its days since assignment.",
    ),
    Metric(
        "recognized_revenue_usd",
        "mean",
        "recognized_revenue_usd",
        "revenue_days",
        "pre_recognized_revenue_usd",
        "pre_revenue_days",
        ("account",),
        "Recognized revenue (USD) per day of the account, over its days since assignment.",
    ),
    Metric(
        "hours_per_session",
        "ratio",
        "hours",
        "sessions",
        "pre_hours",
        "pre_sessions",
        _BOTH,
        "Total hours ÷ total sessions of the arm's units (ratio metric, delta method).",
    ),
    Metric(
        "hours_per_active_day",
        "ratio",
        "hours",
        "active_users",
        "pre_hours",
        "pre_active_users",
        _BOTH,
        "Total hours ÷ total active user-days of the arm's units (ratio metric, delta method).",
    ),
)
METRICS_BY_NAME = {m.name: m for m in METRICS}

SCHEMA = dict(EXPERIMENT_RESULTS.polars())


def _f(x) -> float | None:
    """numpy scalar -> float, NaN/inf -> None (outputs never hold NaN or inf)."""
    v = float(x)
    return v if np.isfinite(v) else None


def _covariate(pre_num: np.ndarray, pre_den: np.ndarray) -> tuple[np.ndarray, str | None]:
    """Per-unit pre-period value; units without pre-period data get the pooled mean (no adjustment)."""
    has = pre_den > 0
    if not has.any():
        return np.zeros_like(pre_num), "no pre-period data for any unit"
    x = np.where(has, pre_num / np.where(has, pre_den, 1.0), np.nan)
    return np.where(has, x, np.nanmean(x)), None


def _ratio_covariate(pre_num: np.ndarray, pre_den: np.ndarray) -> tuple[np.ndarray, str | None]:
    """Linearized pre-period ratio (pooled), 0 (= its mean) for units without pre-period data."""
    if pre_den.sum() <= 0:
        return np.zeros_like(pre_num), "pre-period denominator is zero for every unit"
    r = pre_num.sum() / pre_den.sum()
    return (pre_num - r * pre_den) / pre_den.mean(), None


def compare(metric: Metric, treat: dict[str, np.ndarray], ctrl: dict[str, np.ndarray]) -> dict:
    """One results row's statistics for ``metric`` from unit-level arrays of the two arms.

    ``treat``/``ctrl`` map unit_outcomes columns to arrays (units with data for the metric only).
    """
    out: dict = {"metric": metric.name, "metric_kind": metric.kind}
    n_t, n_c = len(treat[metric.numerator]), len(ctrl[metric.numerator])
    out["units_variant"], out["units_control"] = n_t, n_c
    if metric.kind == "mean":
        y_t = treat[metric.numerator] / treat[metric.denominator]
        y_c = ctrl[metric.numerator] / ctrl[metric.denominator]
        res = stats.welch_test(y_t, y_c)
        out["test"] = "welch_t"
    else:
        res = stats.delta_ratio_test(
            treat[metric.numerator],
            treat[metric.denominator],
            ctrl[metric.numerator],
            ctrl[metric.denominator],
        )
        out["test"] = "delta_method_z"
    out.update(
        mean_control=_f(res.mean_control) if n_c else None,
        mean_variant=_f(res.mean_treatment) if n_t else None,
        abs_diff=_f(res.abs_diff) if n_t and n_c else None,
        ci_low=_f(res.ci_low),
        ci_high=_f(res.ci_high),
        rel_diff=_f(res.rel_diff),
        rel_ci_low=_f(res.rel_ci_low),
        rel_ci_high=_f(res.rel_ci_high),
        p_value=_f(res.p_value),
        df=_f(res.df),
    )
    out["significant"] = None if out["p_value"] is None else out["p_value"] < stats.ALPHA
    if n_t < 2 or n_c < 2:
        out["stats_null_reason"] = "fewer than 2 units in an arm"
    elif metric.kind == "ratio" and (
        treat[metric.denominator].sum() == 0 or ctrl[metric.denominator].sum() == 0
    ):
        out["stats_null_reason"] = f"no {metric.denominator} in an arm (ratio undefined)"
    elif out["p_value"] is None:
        out["stats_null_reason"] = "no variation in either arm"
    else:
        out["stats_null_reason"] = None
    if out["stats_null_reason"] is None and out["rel_diff"] is None:
        out["rel_diff_null_reason"] = "control mean is zero"
    else:
        out["rel_diff_null_reason"] = out["stats_null_reason"]
    if out["rel_diff_null_reason"] is None and out["rel_ci_low"] is None:
        out["rel_ci_null_reason"] = (
            "control mean not distinguishable from zero: the relative interval is unbounded"
        )
    else:
        out["rel_ci_null_reason"] = out["rel_diff_null_reason"]
    out.update(_cuped(metric, treat, ctrl, res, out["stats_null_reason"]))
    return out


def _cuped(metric: Metric, treat: dict, ctrl: dict, raw: stats.Comparison, reason) -> dict:
    empty = dict.fromkeys(
        (
            "cuped_theta",
            "cuped_abs_diff",
            "cuped_ci_low",
            "cuped_ci_high",
            "cuped_rel_diff",
            "cuped_p_value",
            "cuped_variance_reduction",
        ),
    )
    if reason:
        return {**empty, "cuped_null_reason": reason}
    pre_num = np.concatenate([treat[metric.pre_numerator], ctrl[metric.pre_numerator]])
    pre_den = np.concatenate([treat[metric.pre_denominator], ctrl[metric.pre_denominator]])
    pre_num = np.nan_to_num(pre_num, nan=0.0)
    pre_den = np.nan_to_num(pre_den, nan=0.0)
    n_t = len(treat[metric.numerator])
    if metric.kind == "mean":
        x, why = _covariate(pre_num, pre_den)
    else:
        x, why = _ratio_covariate(pre_num, pre_den)
    if why:
        return {**empty, "cuped_null_reason": why}
    if metric.kind == "mean":
        res, theta = stats.cuped_welch_test(
            treat[metric.numerator] / treat[metric.denominator],
            x[:n_t],
            ctrl[metric.numerator] / ctrl[metric.denominator],
            x[n_t:],
        )
    else:
        res, theta = stats.cuped_delta_ratio_test(
            treat[metric.numerator],
            treat[metric.denominator],
            x[:n_t],
            ctrl[metric.numerator],
            ctrl[metric.denominator],
            x[n_t:],
        )
    if not np.isfinite(theta):
        return {**empty, "cuped_null_reason": "pre-period covariate has no variation"}
    with np.errstate(divide="ignore", invalid="ignore"):
        reduction = 1.0 - (res.se**2) / (raw.se**2)
        rel = res.abs_diff / raw.mean_control if raw.mean_control != 0 else np.nan
    return {
        "cuped_theta": _f(theta),
        "cuped_abs_diff": _f(res.abs_diff),
        "cuped_ci_low": _f(res.ci_low),
        "cuped_ci_high": _f(res.ci_high),
        "cuped_rel_diff": _f(rel),
        "cuped_p_value": _f(res.p_value),
        "cuped_variance_reduction": _f(reduction),
        "cuped_null_reason": None
        if _f(res.p_value) is not None
        else "no variation after adjustment",
    }


def experiment_rows(exp: dict, units: pl.DataFrame) -> tuple[list[dict], stats.SrmResult]:
    """Results rows (one per metric × non-control variant) and the SRM test of one experiment."""
    variants, weights, control = exp["variants"], exp["weights"], exp["control_variant"]
    counts = units.group_by("variant").len()
    by_variant = dict(zip(counts["variant"].to_list(), counts["len"].to_list(), strict=True))
    srm = stats.srm_chisquare([by_variant.get(v, 0) for v in variants], weights)
    rows = []
    for metric in METRICS:
        if exp["unit_type"] not in metric.unit_types:
            continue
        with_data = units.filter(
            pl.col(metric.denominator if metric.kind == "mean" else "exposure_days") > 0
        )
        cols = {metric.numerator, metric.denominator, metric.pre_numerator, metric.pre_denominator}

        def arm(v: str, with_data=with_data, cols=cols) -> dict[str, np.ndarray]:
            part = with_data.filter(pl.col("variant") == v)
            return {c: part[c].cast(pl.Float64).to_numpy() for c in cols}

        ctrl = arm(control)
        for v in variants:
            if v == control:
                continue
            row = compare(metric, arm(v), ctrl)
            row.update(
                experiment_id=exp["experiment_id"],
                unit_type=exp["unit_type"],
                is_primary_metric=metric.name == exp["primary_metric"],
                control_variant=control,
                variant=v,
                srm_units=srm.total_units,
                srm_chi2=srm.chi2,
                srm_p_value=srm.p_value,
                srm_flagged=srm.flagged,
                srm_null_reason=srm.null_reason,
            )
            rows.append(row)
    return rows, srm


def build_experiment_results(
    lake_resource: LakeResource, week_starts: list[dt.date]
) -> tuple[pl.DataFrame, list[dict]]:
    """Results rows for each week and the SRM verdicts (week, experiment, counts, p, flagged)."""
    lake = lake_resource.lake
    registry = load_registry(lake).experiments
    built_days = {dt.date.fromisoformat(k) for k in lake.partition_keys(AB_TABLE)}
    covariate_days = {dt.date.fromisoformat(k) for k in lake.partition_keys(COV_TABLE)}
    rows: list[dict] = []
    srm_log: list[dict] = []
    with lake_resource.duckdb() as con:
        for week_start in week_starts:
            week_end = week_start + dt.timedelta(days=7)
            in_scope = registry.filter(
                (pl.col("start_date") < week_end)
                & (pl.col("end_date").is_null() | (pl.col("end_date") > week_start))
            )
            if in_scope.is_empty():
                continue
            # only the days these experiments can have rows on: their start to the week's end
            first_day = min(in_scope["start_date"])
            keys = [k.isoformat() for k in sorted(built_days) if first_day <= k < week_end]
            files = lake_view(con, lake, AB_TABLE, pl.Schema(AB_SCHEMA), keys)
            assigned = [k.isoformat() for k in sorted(covariate_days) if first_day <= k < week_end]
            lake_view(con, lake, COV_TABLE, pl.Schema(COV_SCHEMA), assigned)
            through = max((d for d in built_days if d < week_end), default=None)
            if files:
                con.register("experiments_in_scope", in_scope.select("experiment_id"))
                con.execute("SET VARIABLE as_of_end = CAST(? AS DATE)", [week_end])
                run_sql(con, SQL_DIR, "unit_outcomes")
                outcomes = con.execute("SELECT * FROM unit_outcomes").pl()
            else:
                outcomes = pl.DataFrame(schema={"experiment_id": pl.String, "variant": pl.String})
            for exp in in_scope.to_dicts():
                units = outcomes.filter(pl.col("experiment_id") == exp["experiment_id"])
                if units.is_empty():
                    units = _empty_units()
                exp_rows, srm = experiment_rows(exp, units)
                exp_through = through
                if exp["end_date"] is not None and through is not None:
                    exp_through = min(through, exp["end_date"] - dt.timedelta(days=1))
                for r in exp_rows:
                    r.update(week_start=week_start, data_through=exp_through)
                rows.extend(exp_rows)
                srm_log.append(
                    {
                        "week_start": week_start.isoformat(),
                        "experiment_id": exp["experiment_id"],
                        "observed": dict(zip(exp["variants"], srm.observed, strict=True)),
                        "expected": {
                            v: round(e, 2)
                            for v, e in zip(exp["variants"], srm.expected, strict=True)
                        },
                        "chi2": srm.chi2,
                        "p_value": srm.p_value,
                        "flagged": srm.flagged,
                        "note": srm.null_reason,
                    }
                )
    df = pl.DataFrame(rows, schema=SCHEMA) if rows else pl.DataFrame(schema=SCHEMA)
    return df.select(list(SCHEMA)).sort("week_start", "experiment_id", "metric", "variant"), srm_log


def _empty_units() -> pl.DataFrame:
    cols = {m.numerator for m in METRICS} | {m.denominator for m in METRICS}
    cols |= {m.pre_numerator for m in METRICS} | {m.pre_denominator for m in METRICS}
    schema = {c: pl.Float64 for c in cols} | {"variant": pl.String, "exposure_days": pl.Int64}
    return pl.DataFrame(schema=schema)


@dg.asset(
    name=TABLE,
    group_name="experiments",
    partitions_def=weekly,
    backfill_policy=single_run_backfill,
    kinds={"duckdb", "parquet"},
    deps=[
        dg.AssetDep(AB_TABLE, partition_mapping=dg.TimeWindowPartitionMapping()),
        dg.AssetDep(COV_TABLE, partition_mapping=dg.TimeWindowPartitionMapping()),
        dg.AssetDep(REGISTRY_TABLE),
    ],
    # The graph shows the week's days; a week's results read each experiment's days and units
    # from its start (cumulative), so a restated older day or unit makes every later week stale.
    metadata=reads_metadata(
        Read(AB_TABLE, "through"), Read(COV_TABLE, "through"), Read(REGISTRY_TABLE, "all")
    ),
    check_specs=[
        dg.AssetCheckSpec(
            CHECK_SRM,
            asset=TABLE,
            description=(
                "Sample-ratio mismatch: chi-square test of each running experiment's units per "
                f"variant against the registry weights; fails when p < {stats.SRM_P_THRESHOLD} "
                f"and every variant expects at least {stats.SRM_MIN_EXPECTED_UNITS} units. An "
                "SRM means assignment or logging is broken: do not trust that experiment's "
                "results until the cause is found."
            ),
        )
    ],
)
def experiment_results(
    context: dg.AssetExecutionContext, lake: LakeResource
) -> dg.MaterializeResult:
    """Weekly A/B read-out per experiment × metric × variant vs control, as of the week's end.

    Units, means, absolute and relative difference with 95% CIs, p-value (Welch t-test for
    per-unit means, delta method z-test for ratio metrics), CUPED-adjusted difference (θ from
    the 14-day pre-period covariate) with its CI, and the SRM test. Definitions:
    docs/experiments.md.
    """
    store = lake.for_asset(context)
    keys = context.partition_keys
    week_starts = [dt.date.fromisoformat(k) for k in keys]
    df, srm_log = build_experiment_results(lake, week_starts)
    store.write_partitions(TABLE, "week_start", keys, df)

    flagged = [s for s in srm_log if s["flagged"]]
    latest_week = keys[-1]
    latest_srm = [s for s in srm_log if s["week_start"] == latest_week]
    primary = df.filter(
        pl.col("is_primary_metric") & (pl.col("week_start").cast(pl.String) == latest_week)
    )
    return dg.MaterializeResult(
        metadata={
            "rows": df.height,
            "weeks": len(keys),
            "experiments": df["experiment_id"].n_unique() if df.height else 0,
            "primary_metrics_latest_week": dg.MetadataValue.md(
                markdown_frame(
                    primary.select(
                        "experiment_id",
                        "metric",
                        "variant",
                        "units_control",
                        "units_variant",
                        "rel_diff",
                        "ci_low",
                        "ci_high",
                        "p_value",
                        "cuped_abs_diff",
                        "srm_flagged",
                    ),
                    50,
                )
            ),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name=CHECK_SRM,
                passed=not flagged,
                metadata={
                    "flagged_experiment_weeks": len(flagged),
                    "flagged_experiments": dg.MetadataValue.json(
                        sorted({s["experiment_id"] for s in flagged})
                    ),
                    "latest_week": dg.MetadataValue.json(latest_srm),
                    "flagged": dg.MetadataValue.json(flagged[-20:]),
                },
            )
        ],
    )
