"""The incident clock: fix SLAs of the runbooks, open → resolved, partition bookkeeping."""

from __future__ import annotations

import datetime as dt

from pacific_assets.operations.incidents import IncidentStore, fix_due
from pacific_assets_tests.operations.builders import at, open_incident, record_success

OCT_1 = ["2025-10-01"]


def test_fix_slas_follow_the_runbooks() -> None:
    # Engagement: within 1 week of opening.
    assert fix_due("within_1_week", at("2025-10-30 15:00")) == at("2025-11-06 15:00")
    # Investor: by the end of the month it opened in (first instant of the next month).
    assert fix_due("by_end_of_month", at("2025-10-30 15:00")) == at("2025-11-01 00:00")
    assert fix_due("by_end_of_month", at("2025-12-31 23:00")) == at("2026-01-01 00:00")
    # Profit, growth, experiments: the runbooks state none.
    assert fix_due(None, at("2025-10-30 15:00")) is None


def test_engagement_incident_clock_open_overdue_resolved(tmp_path) -> None:
    store = IncidentStore(tmp_path)
    hours = "engagement_hours"
    incident, new = open_incident(
        store, "engagement", hours, "2025-10-01 10:00", OCT_1, run_id="run-1"
    )
    assert new and incident.fix_due_at == "2025-10-08T10:00:00+00:00"
    assert incident.state(at("2025-10-08 09:59")) == "open"
    assert incident.time_left(at("2025-10-07 10:00")) == dt.timedelta(days=1)
    assert incident.state(at("2025-10-08 10:00")) == "overdue"
    # A repeat failure while open is the same incident.
    again, new = open_incident(
        store, "engagement", hours, "2025-10-02 10:00", OCT_1, run_id="run-2"
    )
    assert not new and again.id == incident.id and again.occurrences == 2
    assert again.run_ids == ["run-1", "run-2"]
    # The asset later succeeds for the partition: resolved, late (after the 1-week SLA).
    done = record_success(store, hours, "2025-10-09 12:00", OCT_1, by="run-3")
    assert [d.id for d in done] == [incident.id]
    reloaded = store.all()[0]
    assert reloaded.status == "resolved" and reloaded.resolved_by == "run-3"
    assert reloaded.state(at("2025-12-01 00:00")) == "resolved_late"
    assert reloaded.time_open(at("2030-01-01 00:00")) == dt.timedelta(days=8, hours=2)
    # A new failure after resolution opens a new incident.
    _, new = open_incident(store, "engagement", hours, "2025-10-10 10:00", OCT_1)
    assert new and len(store.all()) == 2


def test_investor_incident_due_at_month_end_resolved_in_time(tmp_path) -> None:
    store = IncidentStore(tmp_path)
    incident, _ = open_incident(store, "investor", "investor_rollup", "2025-11-10 08:00", OCT_1)
    assert incident.fix_due_at == "2025-12-01T00:00:00+00:00"
    assert incident.state(at("2025-11-30 23:59")) == "open"
    assert incident.state(at("2025-12-01 00:00")) == "overdue"
    record_success(store, "investor_rollup", "2025-11-20 08:00", OCT_1, by="run-9")
    assert store.all()[0].state(at("2026-01-01 00:00")) == "resolved"


def test_resolution_needs_every_failed_partition(tmp_path) -> None:
    store = IncidentStore(tmp_path)
    days = ["2025-10-01", "2025-10-02", "2025-10-03"]
    hours = "engagement_hours"
    open_incident(store, "engagement", hours, "2025-10-04 10:00", days)
    # Other assets / other kinds / unrelated partitions change nothing.
    assert not record_success(store, "unit_profit", "2025-10-04 11:00", days, by="x")
    assert not record_success(store, hours, "2025-10-04 11:00", days, by="x", kinds={"check:foo"})
    assert not record_success(store, hours, "2025-10-04 11:00", ["2025-09-30"], by="x")
    assert not record_success(store, hours, "2025-10-04 12:00", days[:2], by="a")
    assert store.open_incidents()[0].pending_partitions == ["2025-10-03"]
    resolved = record_success(store, hours, "2025-10-04 13:00", days[2:], by="b")
    assert len(resolved) == 1 and not store.open_incidents()


def test_whole_asset_incidents_need_a_whole_asset_success(tmp_path) -> None:
    store = IncidentStore(tmp_path)
    registry = {"check:registry"}
    open_incident(store, "profit", "unit_profit", "2025-10-04 10:00", None, kind="check:registry")
    assert not record_success(
        store, "unit_profit", "2025-10-04 11:00", ["2025-09-01"], by="x", kinds=registry
    )
    assert record_success(store, "unit_profit", "2025-10-04 12:00", None, by="y", kinds=registry)
    assert store.all()[0].fix_due_at is None  # profit states no fix SLA
