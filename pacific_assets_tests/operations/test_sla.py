"""Each SLA maps to the intended freshness policy and to a newest-expected-partition check."""

import datetime as dt

import dagster as dg
import pytest

from pacific_assets.operations.checks import expected_partition, sla_targets
from pacific_assets.orchestration.dagster_compat import (
    CronFreshnessPolicy,
    TimeWindowFreshnessPolicy,
)
from pacific_assets.orchestration.partitions import daily, monthly, weekly
from pacific_assets.pipeline_policy import SLA_CHECK_NAME, AssetSla
from pacific_assets.registry import discover
from pacific_assets_tests.operations.builders import at
from pacific_assets_tests.operations.conftest import build_toy_defs
from pacific_assets_tests.runs import range_tags

UTC = dt.UTC
#: Each pipeline as its folder declares it.
PIPELINES = {p.name: p for p in discover()}
POLICIES = {name: p.policy for name, p in PIPELINES.items()}


def sla_for(asset: str, group: str, pdef: dg.PartitionsDefinition | None = None) -> AssetSla | None:
    return PIPELINES[group].sla_for(asset, pdef)


def freshness_for(asset: str, group: str, pdef: dg.PartitionsDefinition | None = None):
    sla = sla_for(asset, group, pdef)
    return sla.freshness if sla else None


def _cron(group_or_asset: str, group: str | None = None):
    policy = freshness_for(group_or_asset, group or group_or_asset)
    assert isinstance(policy, CronFreshnessPolicy)
    return policy.deadline_cron, policy.lower_bound_delta, policy.timezone


def _window(group: str):
    policy = freshness_for(group, group)
    assert isinstance(policy, TimeWindowFreshnessPolicy)
    return policy.fail_window.to_timedelta(), policy.warn_window.to_timedelta()


def test_each_runbook_sla_is_the_intended_freshness_policy() -> None:
    days = dt.timedelta
    # Profit: reviewed once a month -> closed month by the 3rd 09:00 (monthly lower bound is
    # capped at 28 days by Dagster).
    assert _cron("profit") == ("0 9 3 * *", days(days=28), "UTC")
    # Growth: latest statuses by end of week -> closed Monday week by Monday 09:00.
    assert _cron("growth") == ("0 9 * * 1", days(days=7), "UTC")
    # Engagement: data within 48 h (warn at 36 h).
    assert _window("engagement") == (days(hours=48), days(hours=36))
    # Investor: month pack by the 5th, before the month-end report; weekly pack on Mondays.
    assert _cron("investor") == ("0 9 5 * *", days(days=28), "UTC")
    assert _cron("executive_weekly", "investor") == ("0 12 * * 1", days(days=7), "UTC")
    # A/B: weekly preferred (warn 7 d), monthly acceptable (fail 31 d).
    assert _window("experiments") == (days(days=31), days(days=7))
    # No SLA of their own.
    assert POLICIES["staging"].freshness is None and POLICIES["operations"].freshness is None


@pytest.mark.parametrize(
    ("group", "pdef", "now", "due", "overdue"),
    [
        # cron: a partition is due at the first deadline tick after its window closes
        ("profit", monthly, "2025-10-02 12:00", None, None),
        ("profit", monthly, "2025-11-03 08:59", "2025-09-01", "2025-09-01"),
        ("profit", monthly, "2025-11-03 09:00", "2025-10-01", "2025-10-01"),
        # a daily table of Profit is due with its month, not at the next tick after its day
        ("profit", daily, "2025-11-03 08:59", "2025-09-30", "2025-09-30"),
        ("profit", daily, "2025-11-03 09:00", "2025-10-31", "2025-10-31"),
        ("growth", weekly, "2025-11-10 08:59", "2025-10-27", "2025-10-27"),
        ("growth", weekly, "2025-11-10 09:00", "2025-11-03", "2025-11-03"),
        # 1 Nov is a Saturday: October closes with the week ending Monday 3 Nov
        ("growth", monthly, "2025-11-03 08:59", "2025-09-01", "2025-09-01"),
        ("growth", monthly, "2025-11-03 09:00", "2025-10-01", "2025-10-01"),
        ("growth", daily, "2025-11-10 09:00", "2025-11-09", "2025-11-09"),
        ("investor", monthly, "2025-11-05 08:59", "2025-09-01", "2025-09-01"),
        ("investor", monthly, "2025-11-05 09:00", "2025-10-01", "2025-10-01"),
        # time window: due after warn_window (WARN), overdue after fail_window (ERROR)
        ("engagement", daily, "2025-10-04 11:59", "2025-10-01", "2025-10-01"),
        ("engagement", daily, "2025-10-04 12:00", "2025-10-02", "2025-10-01"),
        ("engagement", daily, "2025-10-05 00:00", "2025-10-02", "2025-10-02"),
        ("experiments", daily, "2025-10-10 00:00", "2025-10-02", "2025-09-08"),
        ("experiments", weekly, "2025-10-14 00:00", "2025-09-29", "2025-09-01"),
    ],
)
def test_newest_expected_partition_follows_the_policy(group, pdef, now, due, overdue) -> None:
    sla = sla_for("x", group)
    expected = expected_partition(pdef, sla.freshness, at(now), sla.period)
    if due is None:
        assert expected is None
    else:
        assert (expected.key, expected.overdue_key) == (due, overdue)
        assert expected.due_at <= at(now)


# The SLA each asset of the code location is held to, written down from the runbooks
# (docs/runbooks/, docs/operations.md "group" table), not from the pipelines' pipeline.py:
_H, _D = dt.timedelta(hours=1), dt.timedelta(days=1)
#: Profit: "numbers will be reviewed once a month" -> the closed month by the 3rd, 09:00 UTC.
PROFIT_MONTHLY = ("cron", "0 9 3 * *", 28 * _D)
#: Growth: "latest account statuses by end of week" -> the Monday week by Monday 09:00 UTC ...
GROWTH_WEEKLY = ("cron", "0 9 * * 1", 7 * _D)
#: ... and its monthly tables with their month, by the 2nd, 09:00 UTC.
GROWTH_MONTHLY = ("cron", "0 9 2 * *", 28 * _D)
#: Engagement: "data will arrive within 48 hrs" (warn at 36 h).
ENGAGEMENT_48H = ("window", 48 * _H, 36 * _H)
#: Investor: the month pack by the 5th, 09:00 UTC (before the month-end report) ...
INVESTOR_MONTHLY = ("cron", "0 9 5 * *", 28 * _D)
#: ... and the executive pack "weekly": by Monday 12:00 UTC.
EXECUTIVE_WEEKLY = ("cron", "0 12 * * 1", 7 * _D)
#: A/B: "weekly preferred, monthly" -> warn after 7 days, fail after 31.
AB_WEEKLY_OR_MONTHLY = ("window", 31 * _D, 7 * _D)
#: Every materializable asset: its intended SLA, None where the runbooks give it none (staging
#: feeds the pipelines and has no SLA of its own; the on-call hand-off and the catalog are
#: operations' own).
INTENDED_SLA: dict[str, tuple | None] = {
    "invoice_lines_current": PROFIT_MONTHLY,
    "recognized_revenue_daily": PROFIT_MONTHLY,
    "cash_collected_daily": PROFIT_MONTHLY,
    "profit_expenses": PROFIT_MONTHLY,
    "unit_profit": PROFIT_MONTHLY,
    "account_unit_economics": PROFIT_MONTHLY,
    "profit_reconciliation": PROFIT_MONTHLY,
    "account_status_history": GROWTH_WEEKLY,
    "account_status_daily": GROWTH_WEEKLY,
    "account_growth": GROWTH_WEEKLY,
    "account_growth_monthly": GROWTH_MONTHLY,
    "raw_clicks": ENGAGEMENT_48H,
    "stg_clicks": ENGAGEMENT_48H,
    "user_engagement_daily": ENGAGEMENT_48H,
    "engagement_completeness": ENGAGEMENT_48H,
    "engagement_hours": ENGAGEMENT_48H,
    "engagement_hours_by_team": ENGAGEMENT_48H,
    "investor_rollup": INVESTOR_MONTHLY,
    "executive_weekly": EXECUTIVE_WEEKLY,
    "ab_unit_daily": AB_WEEKLY_OR_MONTHLY,
    "ab_unit_covariates": AB_WEEKLY_OR_MONTHLY,
    "experiment_results": AB_WEEKLY_OR_MONTHLY,
    "stg_accounts": None,
    "stg_account_events": None,
    "stg_invoice_lines": None,
    "stg_ops_expenses": None,
    "stg_salaries": None,
    "stg_filings": None,
    "stg_directory_users": None,
    "stg_experiment_registry": None,
    "stg_experiment_assignments": None,
    "engagement_oncall_handoff": None,
    # the analysts' catalog of views: rebuilt when a table appears, no business deadline
    "duckdb_catalog": None,
}


def _as_row(policy) -> tuple | None:
    """A freshness policy as Dagster holds it, in the shape of the table above."""
    if policy is None:
        return None
    if isinstance(policy, CronFreshnessPolicy):
        assert policy.timezone == "UTC", policy
        return ("cron", policy.deadline_cron, policy.lower_bound_delta)
    assert isinstance(policy, TimeWindowFreshnessPolicy), policy
    warn = policy.warn_window.to_timedelta() if policy.warn_window else None
    return ("window", policy.fail_window.to_timedelta(), warn)


def test_every_asset_holds_the_sla_of_its_runbook() -> None:
    """What Dagster holds on each asset (freshness policy, the partition check) against the
    runbooks' SLA table above: no expected value comes from the code under test."""
    from pacific_assets.definitions import defs

    graph = defs.resolve_asset_graph()
    targets = {t.key for t in sla_targets(graph)}
    nodes = {n.key.to_user_string(): n for n in graph.asset_nodes if n.is_materializable}
    assert set(nodes) == set(INTENDED_SLA), (
        f"assets without an intended SLA in this table: {sorted(set(nodes) - set(INTENDED_SLA))}; "
        f"in the table but not in the code location: {sorted(set(INTENDED_SLA) - set(nodes))}"
    )
    wrong = {
        name: (_as_row(node.freshness_policy), INTENDED_SLA[name])
        for name, node in nodes.items()
        if _as_row(node.freshness_policy) != INTENDED_SLA[name]
    }
    assert not wrong, f"(held, intended) freshness per asset: {wrong}"
    for name, node in nodes.items():
        # A time-partitioned asset with an SLA gets the newest-expected-partition check.
        has_check = any(k.name == SLA_CHECK_NAME for k in node.check_keys)
        timed = isinstance(node.partitions_def, dg.TimeWindowPartitionsDefinition)
        assert has_check == (INTENDED_SLA[name] is not None and timed), name
        assert (node.key in targets) == has_check, name
        if node.group_name in POLICIES:
            assert POLICIES[node.group_name].runbook_markdown in (node.description or ""), name
            assert node.kinds, f"{name} has no kinds"


def _evaluations(result) -> dict[str, dg.AssetCheckEvaluation]:
    return {
        e.asset_check_evaluation_data.asset_key.to_user_string(): e.asset_check_evaluation_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    }


def test_partition_check_reads_the_lake_and_the_completeness_flag(data_root, instance) -> None:
    """Freshness would be green here (September was just materialized); the check is not."""
    (data_root / "outage_days").write_text("2025-10-02\n")
    defs = build_toy_defs(data_root, now="2025-10-04T12:30:00")
    job = defs.resolve_implicit_global_asset_job_def()
    for keys, first, last in [
        (["engagement_completeness", "engagement_hours"], "2025-09-20", "2025-10-02"),
        (["unit_profit"], "2025-09-01", "2025-09-01"),
    ]:
        result = job.execute_in_process(
            instance=instance,
            asset_selection=[dg.AssetKey(k) for k in keys],
            tags=range_tags(first, last),
        )
        assert result.success
    checks = defs.resolve_job_def("sla_partition_checks").execute_in_process(instance=instance)
    got = _evaluations(checks)
    # 2 Oct is due (36 h warn window) and present, but flagged incomplete -> WARN.
    eng = got["engagement_hours"]
    assert not eng.passed and eng.severity == dg.AssetCheckSeverity.WARN
    assert "clicks far below baseline" in eng.description
    assert eng.metadata["expected_partition"].value == "2025-10-02"
    # Profit: September was due on 3 Oct 09:00 and is present -> passes.
    assert got["unit_profit"].passed
    # Growth: the week of 22 Sep was due Monday 29 Sep 09:00 and was never built -> ERROR.
    growth = got["account_growth"]
    assert not growth.passed and growth.severity == dg.AssetCheckSeverity.ERROR
    assert "2025-09-22" in growth.description and "missing" in growth.description
    # Investor: nothing due before 5 Oct 09:00.
    assert got["investor_rollup"].passed


def test_missing_engagement_day_warns_then_errors_past_48_hours(data_root, instance) -> None:
    job_result = build_toy_defs(data_root, "2025-10-04T12:30:00")
    job = job_result.resolve_implicit_global_asset_job_def()
    job.execute_in_process(
        instance=instance,
        asset_selection=[dg.AssetKey("engagement_completeness"), dg.AssetKey("engagement_hours")],
        tags=range_tags("2025-09-25", "2025-10-01"),
    )
    warn = _evaluations(
        job_result.resolve_job_def("sla_partition_checks").execute_in_process(instance=instance)
    )["engagement_hours"]
    assert (warn.passed, warn.severity) == (False, dg.AssetCheckSeverity.WARN)
    later = build_toy_defs(data_root, "2025-10-05T00:00:00")
    error = _evaluations(
        later.resolve_job_def("sla_partition_checks").execute_in_process(instance=instance)
    )["engagement_hours"]
    assert (error.passed, error.severity) == (False, dg.AssetCheckSeverity.ERROR)


def test_investor_partition_check_reads_the_rollups_own_completeness_verdict(
    data_root, instance
) -> None:
    (data_root / "incomplete_months").write_text("2025-10-01\n")
    defs = build_toy_defs(data_root, now="2025-11-05T10:00:00")
    defs.resolve_implicit_global_asset_job_def().execute_in_process(
        instance=instance,
        asset_selection=[dg.AssetKey("investor_rollup")],
        tags=range_tags("2025-09-01", "2025-10-01"),
    )
    checks = defs.resolve_job_def("sla_partition_checks").execute_in_process(instance=instance)
    rollup = _evaluations(checks)["investor_rollup"]
    assert (rollup.passed, rollup.severity) == (False, dg.AssetCheckSeverity.WARN)
    assert "unit_profit: stale" in rollup.description
    assert rollup.metadata["expected_partition"].value == "2025-10-01"


def test_growth_monthly_table_is_held_to_a_monthly_deadline_not_the_weekly_one() -> None:
    """account_growth_monthly closes with its month: under Growth's Monday cron it would look
    stale three weeks of every month. The rule is per grain (growth's monthly tables), and the
    freshness policy, the check's period and the check agree."""
    from pacific_assets.definitions import defs

    graph = defs.resolve_asset_graph()
    nodes = {n.key.to_user_string(): n for n in graph.asset_nodes}
    targets = {t.table: t for t in sla_targets(graph)}
    monthly_cron = ("0 9 2 * *", dt.timedelta(days=28), "UTC")
    weekly_cron = ("0 9 * * 1", dt.timedelta(days=7), "UTC")

    def cron(policy) -> tuple:
        assert isinstance(policy, CronFreshnessPolicy)
        return policy.deadline_cron, policy.lower_bound_delta, policy.timezone

    # Each growth SLA maps to the intended policy and period, by grain.
    for name, policy, period in [
        ("account_growth_monthly", monthly_cron, monthly),
        ("account_growth", weekly_cron, weekly),
        ("account_status_daily", weekly_cron, weekly),
    ]:
        assert nodes[name].group_name == "growth"
        assert cron(nodes[name].freshness_policy) == policy, name
        assert cron(targets[name].freshness) == policy, name
        assert targets[name].period == period, name
        assert sla_for(name, "growth", nodes[name].partitions_def).period == period, name
    # A rule by grain, not by name: any monthly growth table gets it.
    assert cron(freshness_for("some_new_monthly_table", "growth", monthly)) == monthly_cron
    assert cron(freshness_for("some_new_weekly_table", "growth", weekly)) == weekly_cron
    # Other pipelines' monthly tables keep their own SLA.
    assert cron(freshness_for("unit_profit", "profit", monthly))[0] == "0 9 3 * *"

    # The generated check uses the matching period: October is due 2 Nov 09:00 and stays the
    # newest expected month through November (no Monday turns it stale).
    target = targets["account_growth_monthly"]
    for now, key in [
        ("2025-11-02 08:59", "2025-09-01"),
        ("2025-11-02 09:00", "2025-10-01"),
        ("2025-11-10 09:00", "2025-10-01"),
        ("2025-12-01 23:00", "2025-10-01"),
        ("2025-12-02 09:00", "2025-11-01"),
    ]:
        expected = expected_partition(
            target.partitions_def, target.freshness, at(now), target.period
        )
        assert (expected.key, expected.overdue_key) == (key, key), now
    check = nodes["account_growth_monthly"].check_keys
    assert dg.AssetCheckKey(dg.AssetKey("account_growth_monthly"), SLA_CHECK_NAME) in check
    assert "monthly tables: cron deadline `0 9 2 * *`" in POLICIES["growth"].runbook_markdown
