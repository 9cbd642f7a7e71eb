"""The one place where cross-cutting policy is applied to every asset (DESIGN §5).

Assets declare only what they compute and their group (one group per pipeline). Owners, kinds,
freshness policies and the runbook text shown in the Dagster UI are attached here, by group, so
an SLA change is one edit and no asset copies it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import dagster as dg


@dataclass(frozen=True)
class PipelinePolicy:
    owners: tuple[str, ...]
    freshness: dg.FreshnessPolicy | None
    runbook: str


_DE = "team:data-engineering"

POLICIES: dict[str, PipelinePolicy] = {
    "staging": PipelinePolicy(
        owners=(_DE,),
        freshness=None,
        runbook=(
            "**Runbook — staging.** Typed, validated copies of the landing zone. Malformed rows are "
            "quarantined (table `quarantine`) with file, row and reason; a schema change fails "
            "naming the file and column. Owner: data engineering, working hours."
        ),
    ),
    "profit": PipelinePolicy(
        owners=("team:finance", "team:risk", _DE),
        # Reviewed once a month: the closed month must be in by the 3rd, 09:00 UTC.
        freshness=dg.FreshnessPolicy.cron(
            deadline_cron="0 9 3 * *", lower_bound_delta=dt.timedelta(days=28)
        ),
        runbook=(
            "**Runbook — Profit.** Owners: Finance and Risk; secondary: Data Engineering. "
            "SLA: numbers reviewed once a month by the account team (closed month ready by the "
            "3rd). Common issue: numbers do not align with the filings — the reconciliation check "
            "names the month, both figures and the variance; route to an accountant, never "
            "'fix' silently. On-call: BI person of the profit team, weekly rotation; if it breaks, "
            "it is fixed."
        ),
    ),
    "growth": PipelinePolicy(
        owners=("team:accounts", _DE),
        # Latest statuses by end of week: the closed Monday week is in by Monday 09:00 UTC.
        freshness=dg.FreshnessPolicy.cron(
            deadline_cron="0 9 * * 1", lower_bound_delta=dt.timedelta(days=7)
        ),
        runbook=(
            "**Runbook — Growth.** Owners: Accounts; secondary: Data Engineering. SLA: latest "
            "account statuses by end of week. Common issue: an AE forgot a CRM step (e.g. "
            "renewed without renewal_opened) — the step is imputed with a flag and the accounts "
            "are listed in a WARN check for the Accounts team to fix in the CRM. On-call: none; "
            "failures wait for working hours."
        ),
    ),
    "engagement": PipelinePolicy(
        owners=("team:frontend", _DE),
        freshness=dg.FreshnessPolicy.time_window(
            fail_window=dt.timedelta(hours=48), warn_window=dt.timedelta(hours=36)
        ),
        runbook=(
            "**Runbook — Engagement.** Owners: Software Frontend; secondary: Data Engineering. "
            "SLA: data within 48 h of event time; issues fixed within 1 week. Common issues: very "
            "late clicks (re-materialized by the late-data sensor), duplicates (exact de-dup by "
            "event_id), Kafka outages (hour volume far below baseline → day flagged incomplete). "
            "On-call: one DE owns the pipeline each week, with a SWE-team contact for questions; "
            "30-minute hand-off to the next owner."
        ),
    ),
    "investor": PipelinePolicy(
        owners=("team:business-analytics", _DE),
        # Reports go out at month end: the previous month's pack must be in by the 5th.
        freshness=dg.FreshnessPolicy.cron(
            deadline_cron="0 9 5 * *", lower_bound_delta=dt.timedelta(days=28)
        ),
        runbook=(
            "**Runbook — Executive/Investor rollup.** Owners: Business Analytics; secondary: Data "
            "Engineering. SLA: issues fixed by end of month, when reports go to executives and "
            "investors. Common issues: Spark join OOM (inputs are pre-aggregated, dimensions "
            "broadcast, driver memory fixed), stale upstream data (the completeness record says "
            "which input; catch-up backfills are queued), NA / divide by zero (null + reason). "
            "On-call: DEs watch the month's pipelines in the last week of the month."
        ),
    ),
    "experiments": PipelinePolicy(
        owners=("team:data-science", _DE),
        freshness=dg.FreshnessPolicy.time_window(
            fail_window=dt.timedelta(days=31), warn_window=dt.timedelta(days=7)
        ),
        runbook=(
            "**Runbook — A/B experiments.** Owners: Data Science; secondary: Data Engineering. "
            "SLA: weekly preferred, monthly acceptable. Common issues: sample-ratio mismatch "
            "(check fails at p < 0.001), units assigned twice (first exposure wins, counted)."
        ),
    ),
}


def apply_policies(spec: dg.AssetSpec) -> dg.AssetSpec:
    """Attach owners, freshness and runbook to an asset by its group (its pipeline)."""
    policy = POLICIES.get(spec.group_name or "")
    if policy is None:
        return spec
    description = spec.description or ""
    if policy.runbook not in description:
        description = f"{description.strip()}\n\n{policy.runbook}".strip()
    return spec.replace_attributes(
        owners=list(policy.owners),
        freshness_policy=policy.freshness if policy.freshness is not None else spec.freshness_policy,
        description=description,
    )
