"""The incident clock: fix SLAs of the runbooks, open → resolved, partition bookkeeping."""

from __future__ import annotations

import datetime as dt

from pacific_assets.operations.incidents import IncidentStore, fix_due

UTC = dt.UTC


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def _open(store: IncidentStore, pipeline: str, when: str, partitions=("2025-10-01",), **kw):
    return store.open_or_update(
        pipeline=pipeline,
        asset=kw.pop("asset", "engagement_hours"),
        kind=kw.pop("kind", "run_failure"),
        severity="ERROR",
        summary="boom",
        at=at(when),
        partitions=list(partitions) if partitions is not None else None,
        owner="dev1",
        action="page",
        contacts=["swe1"],
        runbook_step="Engagement 5b: fix it",
        run_id=kw.pop("run_id", "run-1"),
    )


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
    incident, new = _open(store, "engagement", "2025-10-01 10:00")
    assert new and incident.fix_due_at == "2025-10-08T10:00:00+00:00"
    assert incident.state(at("2025-10-08 09:59")) == "open"
    assert incident.time_left(at("2025-10-07 10:00")) == dt.timedelta(days=1)
    assert incident.state(at("2025-10-08 10:00")) == "overdue"
    # A repeat failure while open is the same incident.
    again, new = _open(store, "engagement", "2025-10-02 10:00", run_id="run-2")
    assert not new and again.id == incident.id and again.occurrences == 2
    assert again.run_ids == ["run-1", "run-2"]
    # The asset later succeeds for the partition: resolved, late (after the 1-week SLA).
    done = store.record_success(
        asset="engagement_hours",
        kinds={"run_failure"},
        at=at("2025-10-09 12:00"),
        partitions=["2025-10-01"],
        by="run-3",
    )
    assert [d.id for d in done] == [incident.id]
    reloaded = store.all()[0]
    assert reloaded.status == "resolved" and reloaded.resolved_by == "run-3"
    assert reloaded.state(at("2025-12-01 00:00")) == "resolved_late"
    assert reloaded.time_open(at("2030-01-01 00:00")) == dt.timedelta(days=8, hours=2)
    # A new failure after resolution opens a new incident.
    _, new = _open(store, "engagement", "2025-10-10 10:00")
    assert new and len(store.all()) == 2


def test_investor_incident_due_at_month_end_resolved_in_time(tmp_path) -> None:
    store = IncidentStore(tmp_path)
    incident, _ = _open(store, "investor", "2025-11-10 08:00", asset="investor_rollup")
    assert incident.fix_due_at == "2025-12-01T00:00:00+00:00"
    assert incident.state(at("2025-11-30 23:59")) == "open"
    assert incident.state(at("2025-12-01 00:00")) == "overdue"
    store.record_success(
        asset="investor_rollup",
        kinds={"run_failure"},
        at=at("2025-11-20 08:00"),
        partitions=["2025-10-01"],
        by="run-9",
    )
    assert store.all()[0].state(at("2026-01-01 00:00")) == "resolved"


def test_resolution_needs_every_failed_partition(tmp_path) -> None:
    store = IncidentStore(tmp_path)
    days = ["2025-10-01", "2025-10-02", "2025-10-03"]
    _open(store, "engagement", "2025-10-04 10:00", partitions=days)
    # Other assets / other kinds / unrelated partitions change nothing.
    assert not store.record_success(
        asset="unit_profit",
        kinds={"run_failure"},
        at=at("2025-10-04 11:00"),
        partitions=days,
        by="x",
    )
    assert not store.record_success(
        asset="engagement_hours",
        kinds={"check:foo"},
        at=at("2025-10-04 11:00"),
        partitions=days,
        by="x",
    )
    assert not store.record_success(
        asset="engagement_hours",
        kinds={"run_failure"},
        at=at("2025-10-04 11:00"),
        partitions=["2025-09-30"],
        by="x",
    )
    assert not store.record_success(
        asset="engagement_hours",
        kinds={"run_failure"},
        at=at("2025-10-04 12:00"),
        partitions=days[:2],
        by="a",
    )
    assert store.open_incidents()[0].pending_partitions == ["2025-10-03"]
    resolved = store.record_success(
        asset="engagement_hours",
        kinds={"run_failure"},
        at=at("2025-10-04 13:00"),
        partitions=days[2:],
        by="b",
    )
    assert len(resolved) == 1 and not store.open_incidents()


def test_whole_asset_incidents_need_a_whole_asset_success(tmp_path) -> None:
    store = IncidentStore(tmp_path)
    _open(
        store,
        "profit",
        "2025-10-04 10:00",
        partitions=None,
        asset="unit_profit",
        kind="check:registry",
    )
    assert not store.record_success(
        asset="unit_profit",
        kinds={"check:registry"},
        at=at("2025-10-04 11:00"),
        partitions=["2025-09-01"],
        by="x",
    )
    assert store.record_success(
        asset="unit_profit",
        kinds={"check:registry"},
        at=at("2025-10-04 12:00"),
        partitions=None,
        by="y",
    )
    assert store.all()[0].fix_due_at is None  # profit states no fix SLA
