"""The one place where cross-cutting policy is applied to every asset (DESIGN §5).

Assets declare only what they compute and their group (one group per pipeline). Owners, kinds,
freshness policies, on-call routing, fix SLAs and the runbook text shown in the Dagster UI are
attached here, by group, so an SLA change is one edit and no asset copies it.

The same ``PipelinePolicy`` feeds four consumers, which is why it is data and not prose:
``apply_policies`` (UI: owners, kinds, freshness, runbook in the description), the
newest-expected-partition checks (``operations.checks``: due dates derive from the freshness
policy), on-call routing (``operations.routing``) and the incident clock (``operations.incidents``).
"""

from __future__ import annotations

import datetime as dt
import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import dagster as dg

# The two concrete policy types (dagster exports only the FreshnessPolicy factory); the SLA
# tests import them from here.
from pacific_assets.dagster_compat import CronFreshnessPolicy, TimeWindowFreshnessPolicy
from pacific_assets.investor.completeness import STATUS_TABLE
from pacific_assets.investor.publish import RESTATEMENTS_TABLE
from pacific_assets.partitions import daily, monthly, weekly

#: How a failure reaches a person. "page": the rotation's person of the week is paged now.
#: "queue": it waits for working hours with the owning team. "page_last_week_of_month": page in
#: the last 7 days of the month (month-end reporting), queue otherwise.
OnCallMode = Literal["page", "queue", "page_last_week_of_month"]
#: When an open incident must be fixed (runbook "Issues will be fixed within ...").
FixSla = Literal["within_1_week", "by_end_of_month"]
#: The shared partition grids (partitions.py) a per-grain SLA rule can name.
Grain = Literal["daily", "weekly", "monthly"]
_GRIDS: dict[Grain, dg.TimeWindowPartitionsDefinition] = {
    "daily": daily,
    "weekly": weekly,
    "monthly": monthly,
}


def grain_of(partitions_def: dg.PartitionsDefinition | None) -> Grain | None:
    """Which shared grid a partitions definition is (same cron and timezone), else None."""
    if not isinstance(partitions_def, dg.TimeWindowPartitionsDefinition):
        return None
    for name, grid in _GRIDS.items():
        if (partitions_def.cron_schedule, partitions_def.timezone) == (
            grid.cron_schedule,
            grid.timezone,
        ):
            return name
    return None


@dataclass(frozen=True)
class AssetSla:
    """The SLA one asset is held to, as the partition check and the freshness policy read it.

    ``period``: for a cron SLA, the reporting period a partition closes (a daily table of a
    monthly pipeline is due with its month). ``warn_after_period_end``: for a cron SLA, how long
    after its period ends a closed period is already expected — missing from then until the
    deadline is a WARN (a heads-up while there is still time), an ERROR after. None: only the
    deadline counts.
    """

    freshness: dg.FreshnessPolicy
    period: dg.TimeWindowPartitionsDefinition | None = None
    warn_after_period_end: dt.timedelta | None = None


@dataclass(frozen=True)
class RunbookStep:
    """What the person alerted does first, quoted in every alert and in the UI description.

    ``when`` is a glob over failure kinds: ``run_failure``, ``sla:newest_expected_partition``,
    ``check:<check name>``; the first step of a pipeline whose glob matches is used.
    """

    ref: str
    when: str
    action: str

    def matches(self, kind: str) -> bool:
        return fnmatch.fnmatchcase(kind, self.when)


@dataclass(frozen=True)
class PipelinePolicy:
    title: str
    owners: tuple[str, ...]
    #: Kinds shown in the UI when the asset declares none itself (a domain's own kinds win).
    kinds: frozenset[str]
    #: The SLA of the runbook as Dagster evaluates it; also the due date of the partition check.
    freshness: dg.FreshnessPolicy | None
    sla: str
    common_issues: tuple[str, ...]
    oncall_mode: OnCallMode
    #: Rotation roles (oncall_rotation.yaml): the first is paged, the others are named as contacts.
    oncall_roles: tuple[str, ...]
    #: Where queued failures wait for working hours.
    queue: str
    oncall_text: str
    fix_sla: FixSla | None = None
    steps: tuple[RunbookStep, ...] = field(default_factory=tuple)
    #: For a cron SLA, the reporting period it closes (a month for Profit): a partition is due
    #: at the first deadline after the end of its period, so a daily asset of a monthly pipeline
    #: is due with its month, not at the next tick after its day.
    sla_period: dg.TimeWindowPartitionsDefinition | None = None
    #: For a cron SLA: see ``AssetSla.warn_after_period_end``.
    warn_after_period_end: dt.timedelta | None = None
    #: SLA per partition grain where it differs from the pipeline's: a monthly table of a weekly
    #: pipeline closes with its month, not every Monday.
    grain_slas: Mapping[Grain, AssetSla] = field(default_factory=dict)

    @property
    def default_sla(self) -> AssetSla | None:
        """The pipeline's SLA for assets of any grain without a rule of their own."""
        if self.freshness is None:
            return None
        return AssetSla(self.freshness, self.sla_period, self.warn_after_period_end)

    def step_for(self, kind: str) -> RunbookStep:
        """The runbook step for a failure kind (the last step is the catch-all)."""
        for step in self.steps:
            if step.matches(kind):
                return step
        return self.steps[-1]

    @property
    def runbook(self) -> str:
        """Markdown shown in the Dagster UI under every asset of the pipeline."""
        issues = "\n".join(f"- {issue}" for issue in self.common_issues)
        steps = "\n".join(f"- **{s.ref}** ({s.when}): {s.action}" for s in self.steps)
        fix = {
            None: "no fix SLA in the runbook",
            "within_1_week": "fixed within 1 week of opening",
            "by_end_of_month": "fixed by the end of the month it opened in",
        }[self.fix_sla]
        return (
            f"**Runbook — {self.title}.** Owners: {', '.join(self.owners)}.\n\n"
            f"**SLA:** {self.sla} Freshness policy: {describe_freshness(self.freshness)}"
            + "".join(
                f"; {grain} tables: {describe_freshness(rule.freshness)}"
                for grain, rule in self.grain_slas.items()
            )
            + f"; paired with the check `{SLA_CHECK_NAME}` (the newest due partition exists and is "
            f"complete). Incidents: {fix}.\n\n"
            f"**Common issues:**\n{issues}\n\n"
            f"**On-call:** {self.oncall_text}\n\n"
            f"**First steps:**\n{steps}"
        )


#: Name of the generated newest-expected-partition check on every partitioned SLA asset.
SLA_CHECK_NAME = "newest_expected_partition"

_DE = "team:data-engineering"
_WORKING_HOURS = "working hours (Mon–Fri 09:00–17:00 UTC)"


def describe_freshness(policy: dg.FreshnessPolicy | None) -> str:
    if policy is None:
        return "none"
    if isinstance(policy, TimeWindowFreshnessPolicy):
        warn = policy.warn_window.to_timedelta() if policy.warn_window else None
        return f"time window, fail after {policy.fail_window.to_timedelta()}" + (
            f", warn after {warn}" if warn else ""
        )
    if isinstance(policy, CronFreshnessPolicy):
        return (
            f"cron deadline `{policy.deadline_cron}` ({policy.timezone}), "
            f"lower bound {policy.lower_bound_delta}"
        )
    return type(policy).__name__


POLICIES: dict[str, PipelinePolicy] = {
    "staging": PipelinePolicy(
        title="staging",
        owners=(_DE,),
        kinds=frozenset({"duckdb", "parquet"}),
        freshness=None,
        sla="Staging has no SLA of its own; the pipelines that read it do.",
        common_issues=(
            "Malformed rows: quarantined (table `quarantine`) with file, row and reason.",
            "Schema drift: the run fails naming the file and the column; nothing landed is "
            "modified.",
        ),
        oncall_mode="queue",
        oncall_roles=(),
        queue=_DE,
        oncall_text=f"none; data engineering picks failures up in {_WORKING_HOURS}.",
        steps=(
            RunbookStep(
                "Staging 1",
                "check:*quarantin*",
                "Open the `quarantine` table for the partition, fix the source export or accept "
                "the loss; re-run the partition once the source re-lands.",
            ),
            RunbookStep(
                "Staging 2",
                "*",
                "Read the failure (it names file and column), fix the contract or the export, "
                "re-materialize the partition.",
            ),
        ),
    ),
    "profit": PipelinePolicy(
        title="Profit",
        owners=("team:finance", "team:risk", _DE),
        kinds=frozenset({"duckdb", "parquet"}),
        # Reviewed once a month: the closed month must be in by the 3rd, 09:00 UTC. A monthly
        # cron policy's lower bound is capped at 28 days (DESIGN §6).
        freshness=dg.FreshnessPolicy.cron(
            deadline_cron="0 9 3 * *", lower_bound_delta=dt.timedelta(days=28)
        ),
        sla="Numbers are reviewed once a month by the account team (closed month ready by the "
        "3rd, 09:00 UTC).",
        common_issues=(
            "Numbers do not align with the accounts/filings: the reconciliation check names the "
            "month, both figures and the variance; an accountant verifies, nobody 'fixes' the "
            "numbers silently.",
        ),
        sla_period=monthly,
        # The month close runs on the 2nd at 04:00 UTC: from 06:00 a closed month that is still
        # missing is a WARN (time to re-run before the review), from the deadline an ERROR.
        warn_after_period_end=dt.timedelta(days=1, hours=6),
        oncall_mode="page",
        oncall_roles=("profit_bi",),
        queue="team:finance",
        oncall_text="the BI person of the profit team, rotating weekly (oncall_rotation.yaml, "
        "role `profit_bi`) is paged; if something breaks, it needs to be fixed.",
        steps=(
            RunbookStep(
                "Profit 4a",
                "check:*reconcil*",
                "Numbers do not align with the filings: send the month, both figures and the "
                "variance to an accountant for verification; do not change the numbers.",
            ),
            RunbookStep(
                "Profit 5a",
                "sla:*",
                "The closed month is missing or incomplete before the monthly review: backfill "
                "the month (asset page → Materialize → partition) and tell the account team.",
            ),
            RunbookStep(
                "Profit 6a",
                "*",
                "The BI person of the week fixes the failed run (read the step error, re-run the "
                "month); it must be fixed before the monthly review.",
            ),
        ),
    ),
    "growth": PipelinePolicy(
        title="Growth",
        owners=("team:accounts", _DE),
        kinds=frozenset({"duckdb", "parquet"}),
        # Latest statuses by end of week: the closed Monday week is in by Monday 09:00 UTC.
        freshness=dg.FreshnessPolicy.cron(
            deadline_cron="0 9 * * 1", lower_bound_delta=dt.timedelta(days=7)
        ),
        sla="Data contains the latest account statuses by the end of the week (closed Monday "
        "week ready by Monday 09:00 UTC; the monthly table's closed month by the 2nd, 09:00 UTC).",
        common_issues=(
            "An AE forgot a CRM step (e.g. `renewed` without `renewal_opened`): the missing step "
            "is imputed with `imputed=true` and the accounts are listed in a WARN check for the "
            "Accounts team to fix in the CRM.",
        ),
        sla_period=weekly,
        # Monthly tables close with their month (by the 2nd, 09:00 UTC), not every Monday: under
        # the weekly cron they would look stale three weeks of every month.
        grain_slas={
            "monthly": AssetSla(
                dg.FreshnessPolicy.cron(
                    deadline_cron="0 9 2 * *", lower_bound_delta=dt.timedelta(days=28)
                ),
                monthly,
            )
        },
        oncall_mode="queue",
        oncall_roles=(),
        queue="team:accounts",
        oncall_text=f"no on-call: failures are queued and debugged by the team in "
        f"{_WORKING_HOURS}.",
        steps=(
            RunbookStep(
                "Growth 4a",
                "check:*imput*",
                "Accounts with an imputed (missing) status step: send the list to the Accounts "
                "team to record the step in the CRM; the next run picks it up.",
            ),
            RunbookStep(
                "Growth 5a",
                "sla:*",
                "Last week's statuses are missing: run the week's partition (and its daily "
                "status days) in working hours.",
            ),
            RunbookStep(
                "Growth 6a",
                "*",
                "No on-call: the team debugs the failed run in working hours and re-runs the week.",
            ),
        ),
    ),
    "engagement": PipelinePolicy(
        title="Engagement",
        owners=("team:frontend", _DE),
        kinds=frozenset({"duckdb", "parquet"}),
        freshness=dg.FreshnessPolicy.time_window(
            fail_window=dt.timedelta(hours=48), warn_window=dt.timedelta(hours=36)
        ),
        sla="Data arrives within 48 h of event time; issues are fixed within 1 week.",
        common_issues=(
            "Very late clicks: re-materialized by the late-data sensor, counted as late events.",
            "Kafka down: hour volume far below the baseline, the day is flagged incomplete in "
            "`engagement_completeness`, never reported as real disengagement.",
            "Duplicate events: exact de-duplication by event_id.",
        ),
        oncall_mode="page",
        oncall_roles=("engagement_de", "engagement_swe_contact"),
        queue=_DE,
        oncall_text="one DE owns the pipeline each week (role `engagement_de`) and is paged, with "
        "a SWE-team contact for questions (role `engagement_swe_contact`); 30-minute hand-off "
        "to the next owner (weekly summary `engagement_oncall_handoff`).",
        fix_sla="within_1_week",
        steps=(
            RunbookStep(
                "Engagement 3b",
                "check:*complete*",
                "A day is incomplete (Kafka outage suspected): confirm with the SWE contact, "
                "keep the day flagged; re-run the day when the missing batches land.",
            ),
            RunbookStep(
                "Engagement 3a",
                "check:*late*",
                "Late clicks: check the late-data sensor requested the touched days; re-run "
                "them if not.",
            ),
            RunbookStep(
                "Engagement 4a",
                "sla:*",
                "The newest day is missing or incomplete past 48 h: check ingestion (Kafka, "
                "landing), then materialize the day.",
            ),
            RunbookStep(
                "Engagement 5b",
                "*",
                "The DE owner of the week fixes the failed run within 1 week; ask the SWE "
                "contact about changes on the click producer side.",
            ),
        ),
    ),
    "investor": PipelinePolicy(
        title="Executive/Investor rollup",
        owners=("team:business-analytics", _DE),
        kinds=frozenset({"spark", "parquet"}),
        # Reports go out at month end: the previous month's pack must be in by the 5th.
        freshness=dg.FreshnessPolicy.cron(
            deadline_cron="0 9 5 * *", lower_bound_delta=dt.timedelta(days=28)
        ),
        sla="Issues are fixed by the end of the month, when reports go to executives and "
        "investors (closed month's pack by the 5th, 09:00 UTC; weekly pack on Mondays).",
        common_issues=(
            "Spark join OOM: inputs are pre-aggregated, dimensions broadcast, driver memory fixed.",
            "Stale upstream data: the completeness record says which input; catch-up backfills "
            "are queued.",
            "NA / divide by zero: explicit null with a reason column.",
        ),
        sla_period=monthly,
        oncall_mode="page_last_week_of_month",
        oncall_roles=("investor_de",),
        queue="team:business-analytics",
        oncall_text="DEs monitor the month's pipelines in the last week of the month (role "
        "`investor_de` is paged in the last 7 days of a month); otherwise failures are queued "
        f"for {_WORKING_HOURS}.",
        fix_sla="by_end_of_month",
        steps=(
            RunbookStep(
                "Investor 3b",
                "check:*stale*",
                "An upstream input is stale or incomplete: backfill the named input partitions, "
                "then re-run the month.",
            ),
            RunbookStep(
                "Investor 3c",
                "check:*null*",
                "Unexpected nulls: read the `<metric>_null_reason` columns; fix the upstream "
                "gap, never fill in numbers.",
            ),
            RunbookStep(
                "Investor 4a",
                "sla:*",
                "The month's pack is missing or built on incomplete inputs: backfill upstream, "
                "then re-run the rollup before the month-end report.",
            ),
            RunbookStep(
                "Investor 3a",
                "*",
                "Failed Spark run (OOM first): check driver memory and that inputs are "
                "pre-aggregated; fix by the end of the month.",
            ),
        ),
    ),
    "experiments": PipelinePolicy(
        title="A/B experiments",
        owners=("team:data-science", _DE),
        kinds=frozenset({"duckdb", "parquet"}),
        freshness=dg.FreshnessPolicy.time_window(
            fail_window=dt.timedelta(days=31), warn_window=dt.timedelta(days=7)
        ),
        sla="Weekly preferred, monthly acceptable (warn after 7 days, fail after 31).",
        common_issues=(
            "Sample-ratio mismatch: the SRM check fails at p < 0.001.",
            "Units assigned twice: the first exposure wins, duplicates are counted.",
        ),
        oncall_mode="queue",
        oncall_roles=(),
        queue="team:data-science",
        oncall_text=f"no on-call: data science picks failures up in {_WORKING_HOURS}.",
        steps=(
            RunbookStep(
                "A/B 1",
                "check:*srm*",
                "Sample-ratio mismatch: stop reading the experiment's results; check the "
                "assignment logging with the product team.",
            ),
            RunbookStep(
                "A/B 2",
                "*",
                "Re-run the week in working hours; results may be a week late (monthly is "
                "acceptable).",
            ),
        ),
    ),
    "operations": PipelinePolicy(
        title="Operations",
        owners=(_DE,),
        kinds=frozenset({"python"}),
        freshness=None,
        sla="Hand-off summary every Monday for the engagement rotation.",
        common_issues=(
            "The rotation file has no one for a role: add the week to oncall_rotation.yaml.",
        ),
        oncall_mode="queue",
        oncall_roles=(),
        queue=_DE,
        oncall_text=f"none; data engineering in {_WORKING_HOURS}.",
        steps=(RunbookStep("Ops 1", "*", "Re-run the hand-off; check the incident store."),),
    ),
}


#: Assets whose SLA is not their pipeline's (None: no SLA of their own).
ASSET_SLAS: dict[str, AssetSla | None] = {
    # Records written by the rollups' own steps: as fresh as the rollups, whose SLA covers them
    # (one late run pages once, not once per table it writes).
    STATUS_TABLE: None,
    RESTATEMENTS_TABLE: None,
    # The Monday executive pack: last week's pack by Monday 12:00 UTC.
    "executive_weekly": AssetSla(
        dg.FreshnessPolicy.cron(deadline_cron="0 12 * * 1", lower_bound_delta=dt.timedelta(days=7)),
        weekly,
    ),
}


@dataclass(frozen=True)
class CompletenessSource:
    """Where a pipeline records, per partition, whether its inputs were complete.

    ``table`` None means the asset's own partition (rows carrying the flag column); an asset
    whose table has no such column is judged on presence alone. ``flag_col`` None: the record
    is the table having a partition for every day (or week...) of the expected window.
    ``error_when_overdue``: incomplete past the deadline is an ERROR (the output cannot be used
    as it is), not the default WARN (the data is honest about a gap nobody can fill).
    """

    table: str | None
    flag_col: str | None = "is_complete"
    reason_col: str | None = "reason"
    error_when_overdue: bool = False


#: The partition check of a group also requires these flags to be true for the expected window.
COMPLETENESS: dict[str, CompletenessSource] = {
    # Kafka outages: the day is flagged incomplete (engagement runbook 3b).
    "engagement": CompletenessSource("engagement_completeness", "is_complete", "reason"),
    # unit_profit's own verdict (ops/HR exports, account statuses of the month); it must be
    # complete for the monthly review, so incomplete past the deadline is an ERROR.
    "profit": CompletenessSource(None, "is_complete", "incomplete_reason", error_when_overdue=True),
    # A week (month) of growth is only as good as its days of account facts: all of them in.
    "growth": CompletenessSource(
        "account_status_daily", flag_col=None, reason_col=None, error_when_overdue=True
    ),
    # The rollup's own verdict on its inputs (present, fresh, complete, checked) per period.
    "investor": CompletenessSource(None, "is_complete", "incomplete_reason"),
}


def policy_for_group(group: str | None) -> PipelinePolicy | None:
    return POLICIES.get(group or "")


def sla_for(
    asset_name: str,
    group: str | None,
    partitions_def: dg.PartitionsDefinition | None = None,
) -> AssetSla | None:
    """The SLA of one asset: its own override, else its pipeline's rule for its partition grain,
    else its pipeline's (None: no SLA)."""
    if asset_name in ASSET_SLAS:
        return ASSET_SLAS[asset_name]
    policy = policy_for_group(group)
    if policy is None or policy.freshness is None:
        return None
    grain = grain_of(partitions_def)
    if grain is not None and grain in policy.grain_slas:
        return policy.grain_slas[grain]
    return policy.default_sla


def freshness_for(
    asset_name: str,
    group: str | None,
    partitions_def: dg.PartitionsDefinition | None = None,
) -> dg.FreshnessPolicy | None:
    """The SLA freshness policy for one asset (see ``sla_for``)."""
    sla = sla_for(asset_name, group, partitions_def)
    return sla.freshness if sla else None


def apply_policies(spec: dg.AssetSpec) -> dg.AssetSpec:
    """Attach owners, kinds, freshness and runbook to an asset by its group (its pipeline)."""
    policy = policy_for_group(spec.group_name)
    if policy is None:
        return spec
    description = spec.description or ""
    if policy.runbook not in description:
        description = f"{description.strip()}\n\n{policy.runbook}".strip()
    freshness = freshness_for(spec.key.to_user_string(), spec.group_name, spec.partitions_def)
    return spec.replace_attributes(
        owners=list(policy.owners),
        kinds=set(spec.kinds) if spec.kinds else set(policy.kinds),
        freshness_policy=freshness if freshness is not None else spec.freshness_policy,
        description=description,
    )
