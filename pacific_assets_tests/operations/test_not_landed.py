"""The keepers request what is missing and can be built: never a period no source delivered data
for, and a request whose run failed again after a backoff.

Each keeper sensor is evaluated through Dagster's public ``evaluate_tick`` on a real (temporary)
instance with Dagster's clock moved, over a landing zone as the sources left it
(``lakes.land_as_of``) and a lake holding every partition that has data (docs/operations.md §3).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg

from pacific_assets.definitions import defs
from pacific_assets.orchestration import partitions
from pacific_assets.orchestration.automation import REQUEST_TAG
from pacific_assets.orchestration.dagster_compat import ASSET_PARTITION_RANGE_START_TAG, moved_clock
from pacific_assets.resources import LakeResource
from pacific_assets_tests.lakes import land_as_of, mark_built

REPO = defs.get_repository_def()
GRAPH = REPO.asset_graph
FIRST = dt.date.fromisoformat(partitions.START_DATE)
KEEPERS = [
    "landing_sensor",
    "clicks_late_data_sensor",
    "growth_late_crm_events",
    "profit_late_billing",
    "experiments_follow_facts",
    "investor_catchup",
]


def _tick(name: str, now: dt.datetime, data_root: Path, instance) -> dg.SensorResult:
    sensor = REPO.get_sensor_def(name)
    with (
        moved_clock(lambda: now),
        dg.build_sensor_context(
            instance=instance,
            resources={"lake": LakeResource(data_root=str(data_root))},
            repository_def=REPO,
        ) as context,
    ):
        return sensor.evaluate_tick(context)


def _built_until(data_root: Path, at: dt.datetime, skip: dict[str, str] | None = None) -> None:
    """Every partition of every lake asset that exists on its grid at ``at`` (keys before
    ``skip[table]`` left out: never built)."""
    for key in GRAPH.materializable_asset_keys:
        table = key.to_user_string()
        pdef = GRAPH.get(key).partitions_def
        keys = pdef.get_partition_keys(current_time=at) if pdef else ["current"]
        mark_built(data_root, table, [k for k in keys if k >= (skip or {}).get(table, "")])


def test_days_before_the_click_stream_started_are_not_missing(tmp_path: Path) -> None:
    """The company's other sources start on the grid's first day, the click stream two weeks
    later: the engagement days before it are never requested (they would be zero engagement),
    and the keeper says why. (Fails if ``Planner.asset`` counts an unbuildable partition as
    missing.)"""
    clicks_from = FIRST + dt.timedelta(days=14)
    now = dt.datetime.combine(FIRST + dt.timedelta(days=30), dt.time(3), dt.UTC)
    land_as_of(tmp_path, FIRST, now, clicks_from=clicks_from)
    engagement = {
        t: clicks_from.isoformat()
        for t in (
            "stg_clicks",
            "user_engagement_daily",
            "engagement_completeness",
            "engagement_hours",
            "engagement_hours_by_team",
        )
    }
    _built_until(tmp_path, now, skip=engagement)
    with dg.instance_for_test() as instance:
        result = _tick("clicks_late_data_sensor", now, tmp_path, instance)
    assert not result.run_requests, [r.tags for r in result.run_requests]
    reason = result.skip_message or ""
    assert "everything is up to date; no source data yet for" in reason, reason
    assert (
        f"stg_clicks {FIRST}..{clicks_from - dt.timedelta(days=1)} (14: clicks first landed for {clicks_from})"
        in reason
    ), reason


def test_after_the_newest_landed_day_every_keeper_waits_for_data(tmp_path: Path) -> None:
    """Six weeks after the sources last delivered (the wall clock of a data root nobody feeds):
    no keeper requests anything, though every day since has "ended". (Fails without the horizon
    clause in ``SourceData._why_not`` or ``SourceData._landed``.)"""
    delivered = dt.datetime.combine(FIRST + dt.timedelta(days=20), dt.time(), dt.UTC)
    land_as_of(tmp_path, FIRST, delivered)
    _built_until(tmp_path, delivered)
    now = delivered + dt.timedelta(weeks=6)
    with dg.instance_for_test() as instance:
        results = {name: _tick(name, now, tmp_path, instance) for name in KEEPERS}
    requested = {
        n: [r.tags for r in r_.run_requests] for n, r_ in results.items() if r_.run_requests
    }
    assert requested == {}
    newest = (delivered - dt.timedelta(days=1)).date()
    reason = results["growth_late_crm_events"].skip_message or ""
    assert (
        f"no source has delivered data for {newest + dt.timedelta(days=1)} yet (newest landed day: {newest})"
        in reason
    ), reason


@dg.asset
def _crashes() -> None:
    raise RuntimeError("the host went away")


def test_a_failed_keeper_run_is_requested_again_after_a_backoff(tmp_path: Path) -> None:
    """A keeper's run that failed (a killed host, a crash) is requested again under a new run
    key — Dagster never launches a run key twice — after 15 minutes, then 30 and 60; after
    three retries it waits for a person. (Fails if ``Planner._attempt`` returns the request
    unchanged: the same run key is skipped forever.)"""
    delivered = dt.datetime.combine(FIRST + dt.timedelta(days=20), dt.time(), dt.UTC)
    land_as_of(tmp_path, FIRST, delivered)
    _built_until(tmp_path, delivered)
    missing = (FIRST + dt.timedelta(days=17)).isoformat()
    link = tmp_path / "lake" / "stg_accounts" / f"k={missing}"
    link.unlink()
    with dg.instance_for_test() as instance:
        first = _tick("landing_sensor", delivered, tmp_path, instance).run_requests
        assert len(first) == 1 and first[0].tags[ASSET_PARTITION_RANGE_START_TAG] == missing
        request = first[0].tags[REQUEST_TAG]
        assert first[0].run_key == request

        def fail_once() -> dt.datetime:
            failed = dg.materialize([_crashes], instance=instance, tags={REQUEST_TAG: request},
                                    raise_on_error=False)  # fmt: skip
            assert not failed.success
            end = instance.get_run_record_by_id(failed.run_id).end_time
            return dt.datetime.fromtimestamp(end, dt.UTC)

        ended = fail_once()
        waiting = _tick("landing_sensor", ended + dt.timedelta(minutes=14), tmp_path, instance)
        assert not waiting.run_requests
        assert "waiting after failed runs: stg_accounts" in waiting.skip_message
        assert "failed 1 time(s)" in waiting.skip_message
        again = _tick("landing_sensor", ended + dt.timedelta(minutes=16), tmp_path, instance)
        assert [r.run_key for r in again.run_requests] == [f"{request}:attempt2"]

        for attempt, backoff in ((3, 30), (4, 60)):
            ended = fail_once()
            early = ended + dt.timedelta(minutes=backoff - 1)
            assert not _tick("landing_sensor", early, tmp_path, instance).run_requests
            late = ended + dt.timedelta(minutes=backoff + 1)
            result = _tick("landing_sensor", late, tmp_path, instance)
            assert [r.run_key for r in result.run_requests] == [f"{request}:attempt{attempt}"]
        ended = fail_once()  # the fourth failure: no more retries
        gave_up = _tick("landing_sensor", ended + dt.timedelta(days=1), tmp_path, instance)
        assert not gave_up.run_requests
        assert "failed 4 time(s), retried no more" in gave_up.skip_message
