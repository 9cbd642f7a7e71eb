"""Each pipeline's policy as data: owners, kinds, SLA, on-call, fix SLA (docs/operations.md §1).

Assets declare only what they compute and their group (one group per pipeline); everything here
is attached by group in one place (``policies.apply_policies``), so an SLA change is one edit and
no asset copies it. The same ``PipelinePolicy`` feeds four consumers, which is why it is data:
the UI (owners, kinds, freshness, runbook in the description), the newest-expected-partition
checks (``operations.checks``: due dates derive from the freshness policy), on-call routing
(``operations.routing``) and the incident clock (``operations.incidents``). The runbooks' prose
is in ``docs/runbooks/<pipeline>.md``.
"""

from __future__ import annotations

import datetime as dt

import dagster as dg

from pacific_assets.investor.completeness import STATUS_TABLE
from pacific_assets.investor.publish import RESTATEMENTS_TABLE
from pacific_assets.operations.policy_types import AssetSla, PipelinePolicy
from pacific_assets.operations.runbooks import load_runbook
from pacific_assets.partitions import monthly, weekly

_DE = "team:data-engineering"

POLICIES: dict[str, PipelinePolicy] = {
    "staging": PipelinePolicy(
        runbook=load_runbook("staging"),
        owners=(_DE,),
        kinds=frozenset({"duckdb", "parquet"}),
        freshness=None,
        oncall_mode="queue",
        oncall_roles=(),
        queue=_DE,
        step_kinds={"Staging 1": "check:*quarantin*", "Staging 2": "*"},
    ),
    "profit": PipelinePolicy(
        runbook=load_runbook("profit"),
        owners=("team:finance", "team:risk", _DE),
        kinds=frozenset({"duckdb", "parquet"}),
        # Reviewed once a month: the closed month must be in by the 3rd, 09:00 UTC. A monthly
        # cron policy's lower bound is capped at 28 days (docs/operations.md §1).
        freshness=dg.FreshnessPolicy.cron(
            deadline_cron="0 9 3 * *", lower_bound_delta=dt.timedelta(days=28)
        ),
        sla_period=monthly,
        # The month close runs on the 2nd at 04:00 UTC: from 06:00 a closed month that is still
        # missing is a WARN (time to re-run before the review), from the deadline an ERROR.
        warn_after_period_end=dt.timedelta(days=1, hours=6),
        oncall_mode="page",
        oncall_roles=("profit_bi",),
        queue="team:finance",
        step_kinds={"Profit 4a": "check:*reconcil*", "Profit 5a": "sla:*", "Profit 6a": "*"},
    ),
    "growth": PipelinePolicy(
        runbook=load_runbook("growth"),
        owners=("team:accounts", _DE),
        kinds=frozenset({"duckdb", "parquet"}),
        # Latest statuses by end of week: the closed Monday week is in by Monday 09:00 UTC.
        freshness=dg.FreshnessPolicy.cron(
            deadline_cron="0 9 * * 1", lower_bound_delta=dt.timedelta(days=7)
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
        step_kinds={"Growth 4a": "check:*imput*", "Growth 5a": "sla:*", "Growth 6a": "*"},
    ),
    "engagement": PipelinePolicy(
        runbook=load_runbook("engagement"),
        owners=("team:frontend", _DE),
        kinds=frozenset({"duckdb", "parquet"}),
        freshness=dg.FreshnessPolicy.time_window(
            fail_window=dt.timedelta(hours=48), warn_window=dt.timedelta(hours=36)
        ),
        oncall_mode="page",
        oncall_roles=("engagement_de", "engagement_swe_contact"),
        queue=_DE,
        fix_sla="within_1_week",
        step_kinds={
            "Engagement 3b": "check:*complete*",
            "Engagement 3a": "check:*late*",
            "Engagement 4a": "sla:*",
            "Engagement 5b": "*",
        },
    ),
    "investor": PipelinePolicy(
        runbook=load_runbook("investor"),
        owners=("team:business-analytics", _DE),
        kinds=frozenset({"spark", "parquet"}),
        # Reports go out at month end: the previous month's pack must be in by the 5th.
        freshness=dg.FreshnessPolicy.cron(
            deadline_cron="0 9 5 * *", lower_bound_delta=dt.timedelta(days=28)
        ),
        sla_period=monthly,
        oncall_mode="page_last_week_of_month",
        oncall_roles=("investor_de",),
        queue="team:business-analytics",
        fix_sla="by_end_of_month",
        step_kinds={
            "Investor 3b": "check:*stale*",
            "Investor 3c": "check:*null*",
            "Investor 4a": "sla:*",
            "Investor 3a": "*",
        },
    ),
    "experiments": PipelinePolicy(
        runbook=load_runbook("experiments"),
        owners=("team:data-science", _DE),
        kinds=frozenset({"duckdb", "parquet"}),
        freshness=dg.FreshnessPolicy.time_window(
            fail_window=dt.timedelta(days=31), warn_window=dt.timedelta(days=7)
        ),
        oncall_mode="queue",
        oncall_roles=(),
        queue="team:data-science",
        step_kinds={"A/B 1": "check:*srm*", "A/B 2": "*"},
    ),
    "operations": PipelinePolicy(
        runbook=load_runbook("operations"),
        owners=(_DE,),
        kinds=frozenset({"python"}),
        freshness=None,
        oncall_mode="queue",
        oncall_roles=(),
        queue=_DE,
        step_kinds={"Ops 1": "*"},
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
