"""What a pipeline's policy is made of: SLA, on-call, runbook, cadences (the types, no values).

Each pipeline states its values in its own ``pipeline.py`` (``registry.Pipeline``), the prose in
``docs/runbooks/<pipeline>.md``. The declaration stamps the policy on every asset of the pipeline
(owners, kinds, freshness, runbook in the description, and the two metadata entries below), and
operations reads it back from the asset graph only: ``AssetSla.on_asset`` (the SLA the
newest-expected-partition check holds the asset to) and ``OnCall.on_asset`` (how a failure is
routed). So operations names no pipeline and imports none.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import dagster as dg

from pacific_assets.orchestration.dagster_compat import (
    CronFreshnessPolicy,
    TimeWindowFreshnessPolicy,
)
from pacific_assets.orchestration.partitions import daily, monthly, weekly
from pacific_assets.runbooks import Runbook, RunbookError

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

#: Name of the generated newest-expected-partition check on every partitioned SLA asset.
SLA_CHECK_NAME = "newest_expected_partition"
#: Asset metadata: the SLA's reporting period and warning lead (present iff the asset has an SLA).
SLA_KEY = "pacific/sla"
#: Asset metadata: the pipeline's on-call rules, as routing reads them.
ONCALL_KEY = "pacific/oncall"


def _json_of(metadata: Mapping[str, object], key: str) -> dict | None:
    raw = metadata.get(key)
    if raw is None:
        return None
    value = raw.value if isinstance(raw, dg.MetadataValue) else raw
    return json.loads(value) if isinstance(value, str) else dict(value)  # type: ignore[arg-type]


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


def describe_freshness(policy: dg.FreshnessPolicy | None) -> str:
    """A freshness policy in words, for the runbook, check descriptions and alerts."""
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

    def metadata(self) -> dict[str, dg.MetadataValue]:
        """The parts the freshness policy does not carry, as asset metadata (``SLA_KEY``)."""
        warn = self.warn_after_period_end
        value = {
            "period": grain_of(self.period),
            "warn_after_period_end_s": warn.total_seconds() if warn is not None else None,
        }
        return {SLA_KEY: dg.MetadataValue.json(value)}

    @classmethod
    def on_asset(
        cls, freshness: dg.FreshnessPolicy | None, metadata: Mapping[str, object]
    ) -> AssetSla | None:
        """The SLA an asset's declaration carries (None: the asset has none)."""
        value = _json_of(metadata, SLA_KEY)
        if value is None or freshness is None:
            return None
        warn = value.get("warn_after_period_end_s")
        return cls(
            freshness,
            _GRIDS[value["period"]] if value.get("period") else None,
            dt.timedelta(seconds=warn) if warn is not None else None,
        )


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


_FIX_SLA_TEXT: dict[FixSla | None, str] = {
    None: "no fix SLA in the runbook",
    "within_1_week": "fixed within 1 week of opening",
    "by_end_of_month": "fixed by the end of the month it opened in",
}


@dataclass(frozen=True)
class OnCall:
    """How a failure in one pipeline reaches a person: what routing and incidents read, carried
    on every asset of the pipeline (``ONCALL_KEY``)."""

    pipeline: str
    title: str
    mode: OnCallMode
    #: Rotation roles (oncall_rotation.yaml): the first is paged, the others are named as contacts.
    roles: tuple[str, ...]
    #: Where queued failures wait for working hours.
    queue: str
    steps: tuple[RunbookStep, ...]
    fix_sla: FixSla | None = None

    def step_for(self, kind: str) -> RunbookStep:
        """The runbook step for a failure kind (the last step is the catch-all)."""
        for step in self.steps:
            if step.matches(kind):
                return step
        return self.steps[-1]

    def metadata(self) -> dict[str, dg.MetadataValue]:
        value = {
            "pipeline": self.pipeline,
            "title": self.title,
            "mode": self.mode,
            "roles": list(self.roles),
            "queue": self.queue,
            "fix_sla": self.fix_sla,
            "steps": [[s.ref, s.when, s.action] for s in self.steps],
        }
        return {ONCALL_KEY: dg.MetadataValue.json(value)}

    @classmethod
    def on_asset(cls, metadata: Mapping[str, object]) -> OnCall | None:
        """The on-call rules an asset's declaration carries (None: none declared)."""
        value = _json_of(metadata, ONCALL_KEY)
        if value is None:
            return None
        return cls(
            pipeline=value["pipeline"],
            title=value["title"],
            mode=value["mode"],
            roles=tuple(value["roles"]),
            queue=value["queue"],
            steps=tuple(RunbookStep(*step) for step in value["steps"]),
            fix_sla=value.get("fix_sla"),
        )


Period = Literal["hourly", "daily", "weekly", "monthly"]


@dataclass(frozen=True)
class Cadence:
    """A business cadence of the runbook (daily engagement, monthly profit close...), which
    exactly one of the pipeline's schedules must cover (``operations.cadences``)."""

    label: str
    period: Period
    #: The asset the cadence is about (its pipeline's published table).
    key_asset: str
    #: Other assets whose schedule also covers the cadence (the first step of its chain).
    also_covered_by: tuple[str, ...] = ()

    @property
    def covering_assets(self) -> set[str]:
        return {self.key_asset, *self.also_covered_by}


@dataclass(frozen=True)
class PipelinePolicy:
    """One pipeline's owners, SLA and on-call rules (data), with its runbook's prose."""

    #: The prose, from ``docs/runbooks/<pipeline>.md``.
    runbook: Runbook
    owners: tuple[str, ...]
    #: Kinds shown in the UI when the asset declares none itself (a domain's own kinds win).
    kinds: frozenset[str]
    #: The SLA of the runbook as Dagster evaluates it; also the due date of the partition check.
    freshness: dg.FreshnessPolicy | None
    oncall_mode: OnCallMode
    #: Rotation roles (oncall_rotation.yaml): the first is paged, the others are named as contacts.
    oncall_roles: tuple[str, ...]
    #: Where queued failures wait for working hours.
    queue: str
    #: Runbook step ref -> the failure kinds it answers (a glob, see ``RunbookStep``), in the
    #: runbook's order; the last is the catch-all.
    step_kinds: Mapping[str, str]
    fix_sla: FixSla | None = None
    #: For a cron SLA, the reporting period it closes (a month for Profit): a partition is due
    #: at the first deadline after the end of its period, so a daily asset of a monthly pipeline
    #: is due with its month, not at the next tick after its day.
    sla_period: dg.TimeWindowPartitionsDefinition | None = None
    #: For a cron SLA: see ``AssetSla.warn_after_period_end``.
    warn_after_period_end: dt.timedelta | None = None
    #: SLA per partition grain where it differs from the pipeline's: a monthly table of a weekly
    #: pipeline closes with its month, not every Monday.
    grain_slas: Mapping[Grain, AssetSla] = field(default_factory=dict)

    def __post_init__(self) -> None:
        written = [ref for ref, _ in self.runbook.steps]
        if written != list(self.step_kinds):
            raise RunbookError(
                f"docs/runbooks/{self.runbook.pipeline}.md lists the first steps {written}, but "
                f"its pipeline.py routes failures to {list(self.step_kinds)}: keep both "
                "in the same order"
            )

    @property
    def title(self) -> str:
        return self.runbook.title

    @property
    def steps(self) -> tuple[RunbookStep, ...]:
        return tuple(
            RunbookStep(ref, self.step_kinds[ref], action) for ref, action in self.runbook.steps
        )

    @property
    def default_sla(self) -> AssetSla | None:
        """The pipeline's SLA for assets of any grain without a rule of their own."""
        if self.freshness is None:
            return None
        return AssetSla(self.freshness, self.sla_period, self.warn_after_period_end)

    def step_for(self, kind: str) -> RunbookStep:
        """The runbook step for a failure kind (the last step is the catch-all)."""
        return self.oncall.step_for(kind)

    @property
    def oncall(self) -> OnCall:
        """The on-call part, as the graph carries it to operations."""
        return OnCall(
            pipeline=self.runbook.pipeline,
            title=self.title,
            mode=self.oncall_mode,
            roles=self.oncall_roles,
            queue=self.queue,
            steps=self.steps,
            fix_sla=self.fix_sla,
        )

    @property
    def runbook_markdown(self) -> str:
        """Markdown shown in the Dagster UI under every asset of the pipeline: the runbook's
        prose with the policy's data (owners, freshness policy, check, fix SLA, step kinds)."""
        issues = "\n".join(f"- {issue}" for issue in self.runbook.common_issues)
        steps = "\n".join(f"- **{s.ref}** ({s.when}): {s.action}" for s in self.steps)
        return (
            f"**Runbook — {self.title}.** Owners: {', '.join(self.owners)}.\n\n"
            f"**SLA:** {self.runbook.sla} Freshness policy: {describe_freshness(self.freshness)}"
            + "".join(
                f"; {grain} tables: {describe_freshness(rule.freshness)}"
                for grain, rule in self.grain_slas.items()
            )
            + f"; paired with the check `{SLA_CHECK_NAME}` (the newest due partition exists and is "
            f"complete). Incidents: {_FIX_SLA_TEXT[self.fix_sla]}.\n\n"
            f"**Common issues:**\n{issues}\n\n"
            f"**On-call:** {self.runbook.oncall}\n\n"
            f"**First steps:**\n{steps}"
        )
