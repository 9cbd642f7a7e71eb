"""The weekly hand-off page of the engagement rotation, from the real incident store."""

import dagster as dg

from pacific_assets.operations.handoff import engagement_oncall_handoff
from pacific_assets.operations.incidents import IncidentStore
from pacific_assets.operations.resources import OpsResource
from pacific_assets.resources import LakeResource
from pacific_assets_tests.operations.builders import open_incident, record_success
from pacific_assets_tests.operations.conftest import toy_pipelines


def _incident(store: IncidentStore, asset: str, when: str, pipeline: str = "engagement"):
    """A failure of one day's partition, paged to that week's owner (dev2, SWE contact swe3)."""
    incident, _ = open_incident(
        store,
        pipeline,
        asset,
        when,
        [when[:10]],
        owner="dev2",
        contacts=["swe3"],
        runbook_step="Engagement 5b: fix",
    )
    return incident


def test_handoff_lists_the_weeks_incidents_and_what_is_carried_over(data_root) -> None:
    toy_pipelines(data_root, "2025-10-13T08:00:00")  # writes the test rotation file
    store = IncidentStore(data_root / "ops")
    carried = _incident(store, "stg_clicks", "2025-09-30 10:00")  # opened last week, still open
    fixed = _incident(store, "engagement_hours", "2025-10-07 03:00")  # opened and fixed this week
    record_success(store, "engagement_hours", "2025-10-08 12:00", ["2025-10-07"], by="run abc")
    new_open = _incident(store, "user_engagement_daily", "2025-10-10 22:00")
    _incident(store, "unit_profit", "2025-10-08 10:00", pipeline="profit")  # not engagement
    _incident(store, "engagement_hours", "2025-10-14 01:00")  # next week: not listed

    result = dg.materialize(
        [engagement_oncall_handoff],
        partition_key="2025-10-06",
        resources={
            "lake": LakeResource(data_root=str(data_root)),
            "ops": OpsResource(
                frozen_now="2025-10-13T08:00:00",
                rotation_file=str(data_root.parent / "rotation.yaml"),
            ),
        },
        instance=dg.DagsterInstance.ephemeral(),
    )
    assert result.success
    meta = result.asset_materializations_for_node("engagement_oncall_handoff")[0].metadata
    assert (meta["opened"].value, meta["resolved"].value, meta["still_open"].value) == (2, 1, 2)
    # The incident opened 30 Sep is past its 1-week fix SLA (7 Oct) at the end of the week.
    assert meta["overdue"].value == 1

    page = (data_root / "ops" / "handoff" / "engagement_2025-10-06.md").read_text()
    # Week 5 of the test rotation hands over to week 6.
    assert "Outgoing DE owner: **dev2** (SWE contact swe3)" in page
    assert "Incoming DE owner (week of 2025-10-13): **dev1** (SWE contact swe1)" in page
    carried_section = page.split("## Opened this week")[0]
    assert carried.id in carried_section and new_open.id in carried_section
    assert fixed.id not in carried_section
    resolved_section = page.split("## Resolved this week")[1]
    assert fixed.id in resolved_section and "run abc" in resolved_section
    assert "`unit_profit`" not in page and "20251014T" not in page
    assert "| overdue |" in carried_section
