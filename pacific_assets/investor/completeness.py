"""The completeness record: may this period's rollup be called complete, and if not, why?

Blocking asset checks only stop later steps inside the same run, and the daily, weekly and
monthly assets run separately (docs/ARCHITECTURE.md "Gates and SLAs": gates read facts). So the
rollup assesses its inputs itself, for every period it computes, and writes the verdict to the lake
table ``rollup_input_status`` (one row per rollup × period × input). An input of a period is OK
when:

- **present**: every partition the period needs is live in the lake (daily inputs up to
  yesterday, plus the day before the period for the opening MRR; weekly/monthly inputs once the
  period has ended — before that they are ``not_due``);
- **fresh**: what each partition reads has not changed since it was built (its lineage record,
  ``pacific_assets.orchestration.lineage``: the same facts the sensors use, so "stale" here and a rebuild
  request there always agree);
- **complete**: no day is flagged incomplete by ``engagement_completeness`` (Kafka outage), and the
  month reconciles with the accountant's filings (``profit_reconciliation``);
- **checked**: the latest evaluation of every ERROR-severity check on the input, for the run that
  wrote each partition, passed (WARN failures are listed but do not block).

A period is complete when all its gated inputs are OK. Dimensions (``stg_accounts``) never block.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import dagster as dg
import polars as pl

from pacific_assets.investor.columns import ROLLUP_INPUT_STATUS
from pacific_assets.investor.inputs import (
    ENGAGEMENT_COMPLETENESS,
    PROFIT_RECONCILIATION,
    Grain,
    InputTable,
    required_keys,
)
from pacific_assets.orchestration import AssetCheckExecutionRecordStatus as CheckStatus
from pacific_assets.orchestration import (
    LakeState,
    asset_check_history,
    asset_lineage_from_graph,
    run_partition_keys,
)
from pacific_assets.storage.lake import Lake

STATUS_TABLE = "rollup_input_status"
STATUS_PARTITION_COL = "rollup_key"

STATUS_SCHEMA = ROLLUP_INPUT_STATUS.polars()

#: Most serious first: the status column shows the first that applies, the reason lists all.
_SEVERITY = ("missing", "incomplete", "mismatch", "stale", "check_failed")


def rollup_key(rollup: str, period_start: dt.date) -> str:
    return f"{rollup}__{period_start.isoformat()}"


def format_keys(keys: Iterable[str], limit: int = 8) -> str:
    """'2025-10-01..2025-10-03, 2025-10-07' — consecutive days collapsed, long lists cut."""
    ordered = sorted(set(keys))
    runs: list[list[str]] = []
    for k in ordered:
        try:
            day = dt.date.fromisoformat(k)
            prev = dt.date.fromisoformat(runs[-1][-1]) if runs else None
        except ValueError:
            day = prev = None
        if runs and day is not None and prev is not None and day - prev == dt.timedelta(days=1):
            runs[-1].append(k)
        else:
            runs.append([k])
    parts = [r[0] if len(r) == 1 else f"{r[0]}..{r[-1]}" for r in runs]
    text = ", ".join(parts[:limit])
    return text + (f" and {len(parts) - limit} more" if len(parts) > limit else "")


class DagsterFacts(Protocol):
    """What the Dagster instance knows about an input's partitions (see InstanceFacts)."""

    def stale(self, table: str, keys: Sequence[str]) -> tuple[dict[str, str], bool]:
        """Stale keys with their cause, and whether freshness could be assessed at all."""
        ...

    def failed_checks(self, table: str, keys: Sequence[str]) -> tuple[list[str], list[str]]:
        """Descriptions of failed ERROR checks and of failed WARN checks covering ``keys``."""
        ...


@dataclass
class InputVerdict:
    """One input of one period: what was required, what was found, and the resulting status."""

    rollup: str
    period_start: dt.date
    table: InputTable
    required: list[str]
    due: bool
    present: list[str] = field(default_factory=list)
    stale: dict[str, str] = field(default_factory=dict)
    incomplete: dict[str, str] = field(default_factory=dict)
    mismatch: str | None = None
    failed_checks: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    freshness_assessed: bool = False

    @property
    def missing(self) -> list[str]:
        return sorted(set(self.required) - set(self.present))

    @property
    def problems(self) -> list[tuple[str, str]]:
        """(status, reason) pairs, most serious first."""
        out = []
        if self.missing:
            out.append(
                (
                    "missing",
                    f"missing {len(self.missing)} of {len(self.required)} partitions: "
                    f"{format_keys(self.missing)}",
                )
            )
        if self.incomplete:
            by_reason: dict[str, list[str]] = defaultdict(list)
            for k, why in self.incomplete.items():
                by_reason[why].append(k)
            detail = "; ".join(
                f"{format_keys(ks)} ({why})" for why, ks in sorted(by_reason.items())
            )
            out.append(("incomplete", f"flagged incomplete: {detail}"))
        if self.mismatch:
            out.append(("mismatch", self.mismatch))
        if self.stale:
            first = sorted(self.stale)[0]
            out.append(
                (
                    "stale",
                    f"stale {len(self.stale)} partitions: {format_keys(self.stale)} "
                    f"(e.g. {first}: {self.stale[first]})",
                )
            )
        if self.failed_checks:
            out.append(("check_failed", "failed checks: " + "; ".join(self.failed_checks)))
        out.sort(key=lambda p: _SEVERITY.index(p[0]))
        return out

    @property
    def status(self) -> str:
        if not self.table.gated:
            return "ok"
        problems = self.problems
        if problems:
            return problems[0][0]
        return "ok" if self.due else "not_due"

    @property
    def is_ok(self) -> bool:
        return self.status in ("ok", "not_due")

    @property
    def reason(self) -> str | None:
        parts = [r for _, r in self.problems] if self.table.gated else []
        if self.table.gated and not self.due:
            parts.append("the period has not ended yet")
        if self.warnings:
            parts.append("warnings: " + "; ".join(self.warnings))
        return "; ".join(parts) or None

    def as_row(self, assessed_at: dt.datetime) -> dict:
        return {
            "rollup_key": rollup_key(self.rollup, self.period_start),
            "rollup": self.rollup,
            "period_start": self.period_start,
            "input": self.table.table,
            "input_grain": self.table.grain,
            "required_partitions": len(self.required),
            "present_partitions": len(set(self.present) & set(self.required)),
            "missing_partitions": format_keys(self.missing) or None,
            "stale_partitions": format_keys(self.stale) or None,
            "incomplete_partitions": format_keys(self.incomplete) or None,
            "failed_checks": "; ".join(self.failed_checks) or None,
            "warnings": "; ".join(self.warnings) or None,
            "freshness_assessed": self.freshness_assessed,
            "status": self.status,
            "is_ok": self.is_ok,
            "reason": self.reason,
            "assessed_at": assessed_at,
        }


def _engagement_flags(lake: Lake, keys: Sequence[str]) -> dict[str, str]:
    """Days of ``keys`` that engagement_completeness flags incomplete, or has no verdict for."""
    if not keys:
        return {}
    df = lake.read(ENGAGEMENT_COMPLETENESS.table, keys)
    seen: dict[str, tuple[bool | None, str | None]] = {}
    if df.height:
        reason = df["reason"] if "reason" in df.columns else pl.Series([None] * df.height)
        for day, ok, why in zip(df["date"], df["is_complete"], reason, strict=True):
            seen[day.isoformat()] = (ok, why)
    flags = {}
    for k in keys:
        ok, why = seen.get(k, (None, None))
        if ok is None:
            flags[k] = "no completeness verdict for the day"
        elif not ok:
            flags[k] = why or "flagged incomplete"
    return flags


def _reconciliation_problem(lake: Lake, month_key: str) -> str | None:
    """None when the month reconciles with the filings, else what the reconciliation says."""
    df = lake.read(PROFIT_RECONCILIATION.table, [month_key])
    if df.height == 0:
        return "no reconciliation row for the month"
    row = df.row(0, named=True)
    status = row.get("status")
    if status == "reconciled":
        return None
    label = {"mismatch": "filings mismatch", "no_filing": "no accountant filing yet"}.get(
        str(status), f"reconciliation status {status}"
    )
    if row.get("status_reason"):
        return f"{label} (accountant review needed): {row['status_reason']}"
    details = []
    for name, value in row.items():
        if name in ("month_start", "status") or value is None:
            continue
        details.append(f"{name}={value:,.2f}" if isinstance(value, float) else f"{name}={value}")
    return f"{label} (accountant review needed)" + (f": {', '.join(details)}" if details else "")


def _imputed_accounts(lake: Lake, table: InputTable, keys: Sequence[str]) -> list[str]:
    """A warning when the growth pipeline imputed missing CRM steps in the period (not blocking:
    the figures follow the stated imputation rule, but the Accounts team should confirm)."""
    df = lake.read(table.table, keys)
    if "imputed_accounts" not in df.columns or df.height == 0:
        return []
    n = int(df["imputed_accounts"].fill_null(0).sum())
    if n == 0:
        return []
    return [
        f"{n} account(s) with an imputed CRM step (growth's imputation rule; Accounts team to confirm)"
    ]


def assess(
    lake: Lake,
    grain: Grain,
    period_starts: Sequence[dt.date],
    as_of: dt.datetime,
    facts: DagsterFacts | None = None,
) -> list[InputVerdict]:
    """One verdict per (period, input) for the given rollup grain."""
    verdicts = []
    today = as_of.date()
    for period_start in period_starts:
        for table in grain.inputs:
            keys, due = required_keys(table, grain, period_start, today)
            v = InputVerdict(grain.asset, period_start, table, keys if due else [], due)
            if table.gated and due and keys:
                live = set(lake.partition_keys(table.table))
                v.present = [k for k in keys if k in live]
                if table is ENGAGEMENT_COMPLETENESS:
                    v.incomplete = _engagement_flags(lake, v.present)
                if table is PROFIT_RECONCILIATION and v.present:
                    v.mismatch = _reconciliation_problem(lake, v.present[0])
                if table is grain.growth and v.present:
                    v.warnings.extend(_imputed_accounts(lake, table, v.present))
                if facts is not None and v.present:
                    v.stale, v.freshness_assessed = facts.stale(table.table, v.present)
                    errors, warnings = facts.failed_checks(table.table, v.present)
                    v.failed_checks.extend(errors)
                    v.warnings.extend(warnings)
            verdicts.append(v)
    return verdicts


def status_frame(verdicts: Sequence[InputVerdict], assessed_at: dt.datetime) -> pl.DataFrame:
    rows = [v.as_row(assessed_at) for v in verdicts]
    return (
        pl.DataFrame(rows, schema=STATUS_SCHEMA, orient="row") if rows else STATUS_SCHEMA.to_frame()
    )


@dataclass(frozen=True)
class PeriodVerdict:
    period_start: dt.date
    is_complete: bool
    incomplete_inputs: str | None
    incomplete_reason: str | None
    #: Inputs with no partition at all for the period (their KPIs are null, reason input_missing).
    absent_inputs: frozenset[str]


def period_verdicts(verdicts: Sequence[InputVerdict]) -> dict[dt.date, PeriodVerdict]:
    by_period: dict[dt.date, list[InputVerdict]] = defaultdict(list)
    for v in verdicts:
        by_period[v.period_start].append(v)
    out = {}
    for period, vs in by_period.items():
        bad = [v for v in vs if not v.is_ok]
        absent = frozenset(
            v.table.table for v in vs if v.table.gated and v.required and not v.present
        )
        out[period] = PeriodVerdict(
            period_start=period,
            is_complete=not bad,
            incomplete_inputs=", ".join(v.table.table for v in bad) or None,
            incomplete_reason=" | ".join(f"{v.table.table}: {v.reason}" for v in bad) or None,
            absent_inputs=absent,
        )
    return out


class InstanceFacts:
    """DagsterFacts: freshness from the lake's lineage, check verdicts from the Dagster instance."""

    def __init__(self, instance: dg.DagsterInstance, asset_graph, lake: Lake) -> None:
        self.instance = instance
        self.graph = asset_graph
        self.state = LakeState(lake)
        self._run_keys: dict[str, set[str] | None] = {}

    def stale(self, table: str, keys: Sequence[str]) -> tuple[dict[str, str], bool]:
        key = dg.AssetKey(table)
        if not self.graph.has(key) or not self.graph.get(key).is_partitioned:
            return {}, False
        spec = asset_lineage_from_graph(self.graph, key)
        stale = {}
        for k in keys:
            record = self.state.lineage(table, k)
            if record is None:  # written before lineage was recorded: nothing to compare
                continue
            inputs, _, versions = spec.inputs_detail(self.state, k)
            if inputs != record.inputs:
                changed = sorted(
                    n for n, v in versions.items() if record.input_versions.get(n) != v
                )
                stale[k] = "its inputs changed since it was built" + (
                    f" ({', '.join(changed)})" if changed else ""
                )
        return stale, True

    def _covered(self, record, partitions_def, keys: set[str]) -> set[str]:
        """Which of ``keys`` a check execution speaks for (its partition, or its run's range)."""
        if record.partition:
            return {record.partition} & keys
        if record.run_id not in self._run_keys:
            run = self.instance.get_run_by_id(record.run_id) if record.run_id else None
            ran = run_partition_keys(run.tags if run else {}, partitions_def)
            self._run_keys[record.run_id] = None if ran is None else set(ran)
        covered = self._run_keys[record.run_id]
        return set(keys) if covered is None else covered & keys

    def failed_checks(self, table: str, keys: Sequence[str]) -> tuple[list[str], list[str]]:
        key = dg.AssetKey(table)
        if not self.graph.has(key):
            return [], []
        partitions_def = self.graph.get(key).partitions_def
        wanted = set(keys)
        errors, warnings = [], []
        for check_key in sorted(self.graph.get_check_keys_for_assets({key}), key=str):
            decided: set[str] = set()
            for record in asset_check_history(self.instance, check_key, limit=200):
                if (
                    record.status not in (CheckStatus.SUCCEEDED, CheckStatus.FAILED)
                    or record.event is None
                ):
                    continue
                covered = self._covered(record, partitions_def, wanted) - decided
                decided |= covered
                if record.status == CheckStatus.FAILED and covered:
                    evaluation = record.event.dagster_event.event_specific_data
                    text = f"{table}.{check_key.name} on {format_keys(covered)}"
                    if evaluation.description:
                        text += f" ({evaluation.description})"
                    if evaluation.severity == dg.AssetCheckSeverity.ERROR:
                        errors.append(text)
                    else:
                        warnings.append(text)
                if decided >= wanted:
                    break
        return errors, warnings
