"""Each pipeline with an SLA declares where its completeness verdict lives; operations reads it.

The newest-expected-partition check names no pipeline's table: it reads the declaration each
pipeline stamps on its assets (``pacific_assets/completeness_source.py``, docs/operations.md §2).
"""

import dagster as dg

from pacific_assets.completeness_source import CompletenessSource
from pacific_assets.definitions import defs
from pacific_assets.operations.checks import sla_targets
from pacific_assets.operations.sla import sla_of
from pacific_assets.registry import discover


def test_every_asset_under_an_sla_declares_a_completeness_source_naming_a_real_asset() -> None:
    graph = defs.resolve_asset_graph()
    keys = graph.get_all_asset_keys()
    declared_groups, sla_groups = set(), set()
    for node in graph.asset_nodes:
        name = node.key.to_user_string()
        if not node.is_materializable or sla_of(node) is None:
            continue
        sla_groups.add(node.group_name)
        source = CompletenessSource.declared_in(node.metadata)
        assert source is not None, f"{name} ({node.group_name}) declares no completeness source"
        assert dg.AssetKey.from_user_string(source.table) in keys, (name, source.table)
        declared_groups.add(node.group_name)
    # every pipeline that declares an SLA has assets under it, each with its source
    assert sla_groups == {p.name for p in discover() if p.policy.freshness is not None}
    assert declared_groups == sla_groups


def test_the_check_reads_each_pipelines_declared_record() -> None:
    """What the check requires per pipeline, as docs/operations.md §2 states it."""
    targets = {t.table: t for t in sla_targets(defs.resolve_asset_graph())}

    def record(table: str) -> tuple:
        t = targets[table]
        source = t.completeness
        return (
            t.completeness_table,
            source.flag_col if t.completeness_table else None,
            source.error_when_overdue if t.completeness_table else None,
        )

    # Engagement: the Kafka-outage verdict of engagement_completeness, a WARN when incomplete.
    assert record("engagement_hours") == ("engagement_completeness", "is_complete", False)
    assert record("stg_clicks") == ("engagement_completeness", "is_complete", False)
    # Growth: every day of account_status_daily present; ERROR past the deadline.
    assert record("account_growth") == ("account_status_daily", None, True)
    assert record("account_growth_monthly") == ("account_status_daily", None, True)
    # Profit: the asset's own is_complete rows (where it has the column); ERROR past the deadline.
    assert record("unit_profit") == ("unit_profit", "is_complete", True)
    assert record("recognized_revenue_daily") == ("recognized_revenue_daily", "is_complete", True)
    # Investor: the rollup's own verdict on its inputs.
    assert record("investor_rollup") == ("investor_rollup", "is_complete", False)
    assert targets["investor_rollup"].completeness.reason_col == "incomplete_reason"
    # Experiments: presence is the record.
    assert record("experiment_results") == (None, None, None)
