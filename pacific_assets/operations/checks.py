"""The newest-expected-partition check, generated for every partitioned asset with an SLA.

Why: Dagster's freshness policy looks at the latest materialization of *any* partition —
backfilling an old month turns it green while the month that is due is still missing. This check
asks the question the SLA means: is the newest partition that is due by now present in the lake,
and (where the pipeline records completeness, e.g. ``engagement_completeness``) complete?

"Due" derives from the same freshness policy the asset carries, so the two never disagree:

- cron policy (Profit, Growth, Investor): a partition is due at the first deadline tick at or
  after the end of its reporting period (October, ending 1 Nov, with ``0 9 3 * *`` → due 3 Nov
  09:00 UTC); a finer asset of the pipeline (a daily table of Profit) is due with its month, not
  at the next tick after its own day. Missing after that is an ERROR. Where the SLA has a
  ``warn_after_period_end`` (Profit: 1 d 6 h, after the month close on the 2nd), the closed
  period is already expected from then: missing before the deadline is a WARN.
- time-window policy (Engagement 48 h / warn 36 h, A/B 31 d / warn 7 d): a partition is due
  ``warn_window`` after its window ends (WARN when missing) and overdue ``fail_window`` after
  (ERROR when missing).
- present but incomplete (a completeness flag is false, or the completeness table lacks some of
  the window's days — Growth's ``account_status_daily``): WARN — the data is honest about the
  gap; a person should look. Where the source says ``error_when_overdue`` (Profit, Growth) it is
  an ERROR once the partition is past its deadline. Each pipeline declares its completeness
  source on its assets (``pacific_assets/completeness_source.py``); this module reads it from the
  asset graph and names no pipeline's table.

One ``multi_asset_check`` holds every check (one step, not one process per asset); it can be
subset, so a run materializing one asset evaluates only that asset's check. A schedule runs all
of them hourly (``operations.factory``), because the failure this catches is a run that never
happened.
"""

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import dagster as dg
import polars as pl

from pacific_assets.completeness_source import CompletenessSource
from pacific_assets.operations.resources import OpsResource
from pacific_assets.operations.sla import sla_of
from pacific_assets.orchestration import (
    CronFreshnessPolicy,
    TimeWindowFreshnessPolicy,
    keys_at,
    next_cron_tick,  # Dagster's own cron arithmetic
)
from pacific_assets.pipeline_policy import SLA_CHECK_NAME, describe_freshness
from pacific_assets.resources import LakeResource
from pacific_assets.storage.lake import Lake, LakeError, check_table_name
from pacific_assets.storage.unchanged import FileMemo

SLA_CHECKS_OP = "sla_newest_partition_checks"


@dataclass(frozen=True)
class Expected:
    """The newest partition due at ``now`` (WARN while missing) and the newest overdue (ERROR)."""

    key: str
    due_at: dt.datetime
    #: Newest partition past its deadline / fail window; None when none is yet.
    overdue_key: str | None
    overdue_at: dt.datetime | None
    #: When ``key`` itself is overdue (equal to ``due_at`` when the SLA has no WARN phase).
    fail_at: dt.datetime

    @property
    def key_overdue(self) -> bool:
        return self.overdue_key == self.key


def due_times(
    policy: dg.FreshnessPolicy,
    window_end: dt.datetime,
    period: dg.TimeWindowPartitionsDefinition | None = None,
    warn_after_period_end: dt.timedelta | None = None,
) -> tuple[dt.datetime, dt.datetime]:
    """(due, overdue) for a partition whose window ends at ``window_end``."""
    if isinstance(policy, CronFreshnessPolicy):
        if period is not None:  # the end of the reporting period the partition belongs to
            key = period.get_partition_key_for_timestamp(window_end.timestamp(), end_closed=True)
            window_end = period.time_window_for_partition_key(key).end
        deadline = next_cron_tick(policy.deadline_cron, window_end, policy.timezone)
        if warn_after_period_end is None:
            return deadline, deadline
        return min(window_end + warn_after_period_end, deadline), deadline
    if isinstance(policy, TimeWindowFreshnessPolicy):
        fail = policy.fail_window.to_timedelta()
        warn = policy.warn_window.to_timedelta() if policy.warn_window else fail
        return window_end + warn, window_end + fail
    raise TypeError(f"unsupported freshness policy {type(policy).__name__}")


def expected_partition(
    partitions_def: dg.TimeWindowPartitionsDefinition,
    policy: dg.FreshnessPolicy,
    now: dt.datetime,
    period: dg.TimeWindowPartitionsDefinition | None = None,
    warn_after_period_end: dt.timedelta | None = None,
) -> Expected | None:
    """The newest partition of ``partitions_def`` that ``policy`` says must exist at ``now``."""
    keys = keys_at(partitions_def, now)
    due_key = due_at = fail_at = overdue_key = overdue_at = None
    for key in reversed(keys):
        end = partitions_def.time_window_for_partition_key(key).end
        due, overdue = due_times(policy, end, period, warn_after_period_end)
        if due_key is None and due <= now:
            due_key, due_at, fail_at = key, due, overdue
        if overdue <= now:
            overdue_key, overdue_at = key, overdue
            break
    if due_key is None:
        return None
    return Expected(due_key, due_at, overdue_key, overdue_at, fail_at)


@dataclass(frozen=True)
class SlaTarget:
    """One asset under an SLA: what the check needs to know about it."""

    key: dg.AssetKey
    group: str
    partitions_def: dg.TimeWindowPartitionsDefinition
    freshness: dg.FreshnessPolicy
    period: dg.TimeWindowPartitionsDefinition | None = None
    warn_after_period_end: dt.timedelta | None = None
    #: The completeness record that must be true for the window, with its partitions (None:
    #: presence of the partition is the whole record).
    completeness_table: str | None = None
    completeness_partitions: dg.TimeWindowPartitionsDefinition | None = None
    #: The source the asset's pipeline declared (flag, reason, severity past the deadline).
    completeness: CompletenessSource | None = None

    @property
    def table(self) -> str:
        return self.key.path[-1]


def sla_targets(asset_graph) -> list[SlaTarget]:
    """Every materializable, time-partitioned asset whose pipeline (or itself) has an SLA."""
    nodes = {node.key: node for node in asset_graph.asset_nodes}
    targets = []
    for key in sorted(asset_graph.materializable_asset_keys, key=lambda k: k.to_user_string()):
        node = nodes[key]
        sla = sla_of(node)
        if sla is None or not isinstance(node.partitions_def, dg.TimeWindowPartitionsDefinition):
            continue
        source = CompletenessSource.declared_in(node.metadata)
        comp_key = dg.AssetKey.from_user_string(source.table) if source else None
        if comp_key == key and source.flag_col is None:
            comp_key = None  # its own partition, no flag: presence is the whole record
        comp_node = nodes.get(comp_key) if comp_key else None
        comp_pdef = comp_node.partitions_def if comp_node else None
        targets.append(
            SlaTarget(
                key=key,
                group=node.group_name or "",
                partitions_def=node.partitions_def,
                freshness=sla.freshness,
                period=sla.period,
                warn_after_period_end=sla.warn_after_period_end,
                completeness_table=comp_key.path[-1] if comp_node is not None else None,
                completeness_partitions=comp_pdef
                if isinstance(comp_pdef, dg.TimeWindowPartitionsDefinition)
                else None,
                completeness=source,
            )
        )
    return targets


def evaluate(
    target: SlaTarget,
    lake: Lake,
    now: dt.datetime,
    materialized_partitions: set[str] | None = None,
) -> dg.AssetCheckResult:
    """Evaluate one target at ``now`` (pure: reads the lake, plus Dagster's record as fallback)."""
    meta: dict[str, object] = {
        "now": now.isoformat(timespec="seconds"),
        "sla": describe_freshness(target.freshness),
    }
    expected = expected_partition(
        target.partitions_def,
        target.freshness,
        now,
        target.period,
        target.warn_after_period_end,
    )
    if expected is None:
        return _result(target, True, None, "no partition is due yet", meta)
    meta.update(
        expected_partition=expected.key,
        due_at=expected.due_at.isoformat(),
        error_from=expected.fail_at.isoformat(),
    )
    present, source = _present_partitions(target, lake, materialized_partitions)
    meta["presence_source"] = source
    newest = max(present) if present else None
    meta["newest_present_partition"] = newest or "none"

    if expected.key not in present:
        return _missing(target, lake, expected, present, newest, meta)
    complete, reason = _completeness(target, lake, expected.key)
    meta["complete"] = complete
    if not complete:
        meta["incomplete_reason"] = reason
        source_says_error = target.completeness is not None and (
            target.completeness.error_when_overdue
        )
        overdue = source_says_error and expected.key_overdue
        severity = dg.AssetCheckSeverity.ERROR if overdue else dg.AssetCheckSeverity.WARN
        return _result(
            target,
            False,
            severity,
            f"partition {expected.key} is present but incomplete"
            + (" past its deadline" if overdue else "")
            + f": {reason}",
            meta,
        )
    return _result(target, True, None, f"partition {expected.key} is present and complete", meta)


def _missing(target, lake, expected: Expected, present, newest, meta) -> dg.AssetCheckResult:
    """The expected partition is missing: ERROR once overdue, a WARN before."""
    overdue_missing = expected.overdue_key is not None and expected.overdue_key not in present
    severity = dg.AssetCheckSeverity.ERROR if overdue_missing else dg.AssetCheckSeverity.WARN
    if expected.key_overdue:
        message = f"partition {expected.key} was due at {expected.fail_at:%Y-%m-%d %H:%M} UTC"
    else:
        message = (
            f"partition {expected.key} is expected since {expected.due_at:%Y-%m-%d %H:%M} UTC "
            f"(ERROR from {expected.fail_at:%Y-%m-%d %H:%M} UTC)"
        )
    message += f" and is missing (newest present: {newest or 'none'})"
    if overdue_missing and not expected.key_overdue:
        message += (
            f"; {expected.overdue_key}, due at {expected.overdue_at:%Y-%m-%d %H:%M} UTC, "
            "is missing too"
        )
    if target.completeness_table not in (None, target.table):
        # Name the upstream gap too (Growth: which days of account facts to build first).
        complete, reason = _completeness(target, lake, expected.key)
        if not complete:
            meta["incomplete_reason"] = reason
            message += f"; {reason}"
    return _result(target, False, severity, message, meta)


def _result(target, passed, severity, message, meta) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        asset_key=target.key,
        check_name=SLA_CHECK_NAME,
        passed=passed,
        severity=severity or dg.AssetCheckSeverity.ERROR,
        description=message,
        metadata={"summary": message, **meta},
    )


def _present_partitions(
    target: SlaTarget, lake: Lake, materialized: set[str] | None
) -> tuple[set[str], str]:
    """Partitions present in the lake table of the same name, else Dagster's materializations."""
    try:
        table = check_table_name(target.table)
    except LakeError:
        table = None
    if table and lake.table_dir(table).exists():
        return set(lake.partition_keys(table)), f"lake table {table}"
    return set(materialized or ()), "dagster materializations (no lake table of that name)"


#: How many missing partitions a message names before "and N more".
_NAMED = 7


#: Completeness flags per set of partition files, reused while the files are unchanged: the SLA
#: sensor judges every target each minute (storage/unchanged.py).
_FLAGS = FileMemo(size=512)


def _completeness(target: SlaTarget, lake: Lake, key: str) -> tuple[bool, str]:
    """Whether the completeness record covers every partition of ``key``'s window and says so."""
    if target.completeness_table is None or target.completeness_partitions is None:
        return True, ""
    window = target.partitions_def.time_window_for_partition_key(key)
    days = target.completeness_partitions.get_partition_keys_in_time_window(window)
    table = target.completeness_table
    present = set(lake.partition_keys(table)) if lake.table_dir(table).exists() else set()
    missing = [d for d in days if d not in present]
    if missing:
        more = f" and {len(missing) - _NAMED} more" if len(missing) > _NAMED else ""
        return False, f"{table} has no partition for {', '.join(missing[:_NAMED])}{more}"
    source = target.completeness
    assert source is not None  # a completeness table comes from a declared source
    schema = lake.schema(table)
    if source.flag_col is None or schema is None or source.flag_col not in schema:
        return True, ""  # presence is the record (or this table carries no flag)
    columns = [source.flag_col]
    if source.reason_col and source.reason_col in schema:
        columns.append(source.reason_col)
    files = lake.partition_files(table, days)
    if not files:
        return True, ""
    rows = _FLAGS.get(
        files,
        lambda: pl.read_parquet(files, columns=columns, hive_partitioning=False),
        tuple(columns),
    )
    bad = rows.filter(~rows[source.flag_col].fill_null(False))
    if bad.is_empty():
        return True, ""
    reasons = (
        sorted({str(r) for r in bad[source.reason_col].to_list() if r})
        if source.reason_col and source.reason_col in bad.columns
        else []
    )
    return False, f"{table} flags {bad.height} row(s) incomplete" + (
        f": {'; '.join(reasons[:3])}" if reasons else ""
    )


def _completeness_clause(target: SlaTarget) -> str:
    if target.completeness_table is None or target.completeness is None:
        return ""
    flag = target.completeness.flag_col
    if flag is None:
        return f" and `{target.completeness_table}` has a partition for each of its days"
    if target.completeness_table == target.table:
        return f" and its rows' `{flag}` flag (where present) says complete"
    return f" and `{target.completeness_table}.{flag}` says complete for its days"


def _warn_clause(target: SlaTarget) -> str:
    if target.warn_after_period_end is None:
        return ""
    return (
        f" (a WARN from {target.warn_after_period_end} after its period ends, an ERROR from "
        "the deadline)"
    )


def build_sla_partition_checks(asset_graph) -> dg.AssetChecksDefinition | None:
    """The one check op over every SLA target of the merged definitions (None if there is none)."""
    targets = {t.key: t for t in sla_targets(asset_graph)}
    if not targets:
        return None
    specs = [
        dg.AssetCheckSpec(
            name=SLA_CHECK_NAME,
            asset=t.key,
            blocking=False,
            description=(
                f"The newest partition due under the SLA ({describe_freshness(t.freshness)}) "
                "is present in the lake"
                + _warn_clause(t)
                + _completeness_clause(t)
                + ". Freshness alone looks only at the latest materialization of any partition."
            ),
        )
        for t in targets.values()
    ]

    @dg.multi_asset_check(specs=specs, name=SLA_CHECKS_OP, can_subset=True)
    def sla_newest_partition_checks(
        context: dg.AssetCheckExecutionContext, lake: LakeResource, ops: OpsResource
    ) -> Iterator[dg.AssetCheckResult]:
        now = ops.now()
        for check_key in sorted(
            context.selected_asset_check_keys, key=lambda k: k.asset_key.to_user_string()
        ):
            target = targets[check_key.asset_key]
            table_known = lake.lake.table_dir(target.table).exists()
            materialized = (
                None if table_known else context.instance.get_materialized_partitions(target.key)
            )
            yield evaluate(target, lake.lake, now, materialized)

    return sla_newest_partition_checks
