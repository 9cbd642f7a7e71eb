"""Asset checks of the rollups, evaluated in the same step on the figures just computed.

They cover the runbook's common issues for this pipeline: stale or incomplete inputs, NA /
divide-by-zero, restatements of published figures; plus two consistency checks that catch bugs
in the rollup itself (the MRR bridge must balance; movements must agree with the growth pipeline).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

import dagster as dg
import polars as pl

from pacific_assets.investor.inputs import GROWTH_MRR_COLUMNS, Grain
from pacific_assets.investor.publish import Restatement
from pacific_assets.investor.rollup import RollupResult
from pacific_assets.previews import markdown_table

CHECK_DESCRIPTIONS = {
    "inputs_not_stale_or_incomplete": (
        "Every input partition the period needs is present, fresh, complete (no engagement "
        "outage, filings reconcile) and passed its checks. Fails (ERROR) for an ended period that "
        "is not complete, naming the input and why; WARN only for the still-open period. The "
        "full record is the lake table rollup_input_status."
    ),
    "no_nan_or_unexplained_null": (
        "No NaN or infinity in any output column, and every null ratio carries its "
        "<ratio>_null_reason (runbook: missing data must not cause NA or divide-by-zero)."
    ),
    "mrr_bridge_balances": (
        "Per period and segment: opening MRR + new + reactivation + expansion − contraction − "
        "churn = closing MRR, and segments add up to the company total."
    ),
    "movements_match_growth": (
        "The company's MRR movements recomputed from daily account status agree with the growth "
        "pipeline's own (account_growth / account_growth_monthly) within $1 or 0.5%. WARN: a "
        "difference points to a status/event inconsistency upstream."
    ),
    "no_unapproved_restatement": (
        "A re-materialization of a published month changes no published figure beyond the "
        "tolerance. Fails (ERROR) naming each KPI, its published and new value and the cause "
        "(input partitions re-written since publication); approve by re-running with "
        "approve_restatement=true, which publishes v=n+1."
    ),
}


def check_specs(grain: Grain) -> list[dg.AssetCheckSpec]:
    names = [
        "inputs_not_stale_or_incomplete",
        "no_nan_or_unexplained_null",
        "mrr_bridge_balances",
        "movements_match_growth",
    ]
    if grain.name == "monthly":
        names.append("no_unapproved_restatement")
    return [
        dg.AssetCheckSpec(n, asset=grain.asset, description=CHECK_DESCRIPTIONS[n]) for n in names
    ]


def inputs_not_stale_or_incomplete(result: RollupResult, as_of: dt.date) -> dg.AssetCheckResult:
    grain = result.grain
    ended_bad, open_bad = [], []
    for period, verdict in sorted(result.periods.items()):
        if verdict.is_complete:
            continue
        (ended_bad if grain.period_end(period) <= as_of else open_bad).append(verdict)
    bad = ended_bad + open_bad
    rows = [
        (v.period_start.isoformat(), r["input"], r["status"], r["reason"])
        for v in bad
        for r in result.input_status.filter(
            (pl.col("period_start") == v.period_start) & ~pl.col("is_ok")
        ).iter_rows(named=True)
    ]
    if not bad:
        return dg.AssetCheckResult(
            check_name="inputs_not_stale_or_incomplete",
            passed=True,
            description=f"all {len(result.periods)} periods have complete inputs",
        )
    text = "; ".join(f"{v.period_start}: {v.incomplete_reason}" for v in bad[:3])
    return dg.AssetCheckResult(
        check_name="inputs_not_stale_or_incomplete",
        passed=False,
        severity=dg.AssetCheckSeverity.ERROR if ended_bad else dg.AssetCheckSeverity.WARN,
        description=f"{len(bad)} period(s) not complete — {text}"[:1000],
        metadata={
            "incomplete_periods": [v.period_start.isoformat() for v in bad],
            "inputs": dg.MetadataValue.md(
                markdown_table(["period", "input", "status", "why"], rows, limit=30)
            ),
        },
    )


def no_nan_or_unexplained_null(
    df: pl.DataFrame, check_name: str = "no_nan_or_unexplained_null"
) -> dg.AssetCheckResult:
    problems = []
    for name, dtype in df.schema.items():
        if dtype.is_float():
            bad = df.filter(pl.col(name).is_nan() | pl.col(name).is_infinite()).height
            if bad:
                problems.append(f"{name}: {bad} NaN/inf")
            reason = f"{name}_null_reason"
            if reason in df.columns:
                unexplained = df.filter(pl.col(name).is_null() & pl.col(reason).is_null()).height
                if unexplained:
                    problems.append(f"{name}: {unexplained} nulls without a reason")
    return dg.AssetCheckResult(
        check_name=check_name,
        passed=not problems,
        description="; ".join(problems)
        or f"{df.height} rows, every value finite or null with a reason",
    )


def mrr_bridge_balances(result: RollupResult, tolerance: float = 0.01) -> dg.AssetCheckResult:
    df = result.kpis.filter(pl.col("mrr_usd").is_not_null())
    pc = result.grain.period_col
    problems = []
    for r in df.iter_rows(named=True):
        bridge = (
            r["starting_mrr_usd"]
            + r["new_mrr_usd"]
            + r["reactivation_mrr_usd"]
            + r["expansion_mrr_usd"]
            - r["contraction_mrr_usd"]
            - r["churned_mrr_usd"]
        )
        if not math.isclose(bridge, r["mrr_usd"], abs_tol=tolerance):
            problems.append(
                f"{r[pc]} {r['segment']}: bridge {bridge:,.2f} vs closing {r['mrr_usd']:,.2f}"
            )
    sums = (
        df.filter(pl.col("segment") != "all")
        .group_by(pc)
        .agg(pl.col("mrr_usd").sum().alias("segments"))
        .join(
            df.filter(pl.col("segment") == "all").select(pc, pl.col("mrr_usd").alias("all")), on=pc
        )
    )
    for r in sums.iter_rows(named=True):
        if not math.isclose(r["segments"], r["all"], abs_tol=tolerance):
            problems.append(
                f"{r[pc]}: segments sum to {r['segments']:,.2f}, company {r['all']:,.2f}"
            )
    return dg.AssetCheckResult(
        check_name="mrr_bridge_balances",
        passed=not problems,
        description="; ".join(problems[:10]) or "every bridge balances and segments add up",
    )


def movements_match_growth(result: RollupResult) -> dg.AssetCheckResult:
    pc = result.grain.period_col
    mine = result.kpis.filter(pl.col("segment") == "all")
    theirs = {r["period_start"]: r for r in result.growth_movements.iter_rows(named=True)}
    rows, missing = [], []
    for r in mine.iter_rows(named=True):
        g = theirs.get(r[pc])
        if g is None or r["mrr_usd"] is None:
            missing.append(str(r[pc]))
            continue
        for col in GROWTH_MRR_COLUMNS:
            a, b = r.get(col), g.get(col)
            if a is None or b is None:
                continue
            if abs(a - b) > max(1.0, 0.005 * abs(b)):
                rows.append((str(r[pc]), col, round(a, 2), round(b, 2)))
    description = (
        f"{len(rows)} movement(s) differ from the growth pipeline"
        if rows
        else "MRR movements agree with the growth pipeline"
    )
    if missing:
        description += f"; not compared (no growth or status data): {', '.join(missing[:6])}"
    return dg.AssetCheckResult(
        check_name="movements_match_growth",
        passed=not rows,
        severity=dg.AssetCheckSeverity.WARN,
        description=description,
        metadata={
            "differences": dg.MetadataValue.md(
                markdown_table(["period", "movement", "rollup", "growth"], rows, limit=30)
            )
        }
        if rows
        else {},
    )


def no_unapproved_restatement(
    pending: Sequence[Restatement], approved: Sequence[Restatement]
) -> dg.AssetCheckResult:
    rows = [
        (f"{r.month:%Y-%m}", r.segment, r.kpi, f"v{r.version}", r.old, r.new, r.cause)
        for r in [*pending, *approved]
    ]
    metadata = (
        {
            "restatements": dg.MetadataValue.md(
                markdown_table(
                    ["month", "segment", "kpi", "published", "old", "new", "cause"], rows, limit=30
                )
            )
        }
        if rows
        else {}
    )
    if not pending:
        text = "no published figure changed beyond the tolerance"
        if approved:
            text = f"{len(approved)} approved restatement(s) published as a new version"
        return dg.AssetCheckResult(
            check_name="no_unapproved_restatement", passed=True, description=text, metadata=metadata
        )
    head = "; ".join(r.describe() for r in pending[:3])
    return dg.AssetCheckResult(
        check_name="no_unapproved_restatement",
        passed=False,
        severity=dg.AssetCheckSeverity.ERROR,
        description=f"{len(pending)} published figure(s) would be restated — {head}"[:2000],
        metadata=metadata,
    )
