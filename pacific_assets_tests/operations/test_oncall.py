"""Run failures and failed checks become routed alerts and incidents, resolved on success.

Real runs on a real (temporary) Dagster instance; the run status sensors are ticked through
Dagster's public ``evaluate_tick`` with the cursor their last tick left, as the daemon does, and
write the real alert log, incident store and — when configured — POST to a real local HTTP
endpoint standing in for Slack.
"""

import http.server
import json
import threading
import weakref
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from pacific_assets.operations.alerts import read_alert_log
from pacific_assets.operations.incidents import IncidentStore
from pacific_assets_tests.operations.conftest import build_toy_defs
from pacific_assets_tests.runs import range_tags


def run(defs: dg.Definitions, instance, assets: list[str], first: str, last: str | None = None):
    tags = {"dagster/partition": first} if last is None else range_tags(first, last)
    job = defs.resolve_implicit_global_asset_job_def()
    return job.execute_in_process(
        instance=instance,
        asset_selection=[dg.AssetKey(a) for a in assets],
        tags=tags,
        raise_on_error=False,
    )


#: Per instance and sensor: the cursors its ticks left, oldest first (what the daemon stores).
_CURSORS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _tick(defs: dg.Definitions, instance, name: str, cursor: str | None):
    sensor = defs.get_repository_def().get_sensor_def(name)
    with dg.build_sensor_context(
        instance=instance,
        cursor=cursor,
        resources={"lake": defs.resources["lake"], "ops": defs.resources["ops"]},
    ) as context:
        return sensor.evaluate_tick(context)


def sense(defs: dg.Definitions, instance, result, again: bool = False) -> None:
    """Tick the sensor that watches the finished run's status through Dagster's public
    ``evaluate_tick``, from the cursor its last tick on this instance left, as the daemon does;
    the tick must react to that run. ``again``: from the cursor before that tick (the daemon
    re-delivering the same run, e.g. after a crash before it stored the cursor)."""
    name = "oncall_check_results" if result.success else "oncall_run_failure"
    cursors = _CURSORS.setdefault(instance, {})
    if name not in cursors:
        # the sensor's first tick, as on an instance with no run yet: it starts from the beginning
        with dg.instance_for_test() as empty:
            cursors[name] = [_tick(defs, empty, name, None).cursor]
    history = cursors[name]
    data = _tick(defs, instance, name, history[-2] if again else history[-1])
    reacted = [r.dagster_run.run_id for r in data.dagster_run_reactions]
    assert result.dagster_run.run_id in reacted, (name, data.skip_message, reacted)
    if not again:
        history.append(data.cursor)


def ops_dir(data_root: Path) -> Path:
    return data_root / "ops"


def test_profit_failure_pages_bi_of_the_week_and_resolves_on_success(data_root, instance) -> None:
    # Wednesday 5 Nov 2025, 03:00: week 9 of the rotation -> profit_bi 'ana'.
    defs = build_toy_defs(data_root, now="2025-11-05T03:00:00")
    (data_root / "fail_unit_profit").write_text("salaries export missing for 2025-10")
    failed = run(defs, instance, ["unit_profit"], "2025-10-01")
    assert not failed.success
    sense(defs, instance, failed)
    sense(defs, instance, failed, again=True)  # a second delivery is a repeat, not a second page

    [alert] = read_alert_log(ops_dir(data_root))
    assert alert["action"] == "page" and alert["owner"] == "ana"
    assert (alert["asset"], alert["partition"], alert["kind"]) == (
        "unit_profit",
        "2025-10-01",
        "run_failure",
    )
    assert alert["runbook_step"].startswith("Profit 6a: ")
    assert "salaries export missing" in alert["summary"]
    assert alert["channel"] == "log"
    store = IncidentStore(ops_dir(data_root))
    [incident] = store.open_incidents()
    assert incident.occurrences == 2 and incident.fix_due_at is None  # profit: no fix SLA

    (data_root / "fail_unit_profit").unlink()
    fixed = run(defs, instance, ["unit_profit"], "2025-10-01")
    assert fixed.success
    sense(defs, instance, fixed)
    [resolved] = store.all()
    assert resolved.status == "resolved" and fixed.run_id in resolved.resolved_by


@pytest.fixture
def slack() -> Iterator[tuple[str, list[dict]]]:
    """A local HTTP endpoint that records what a Slack incoming webhook would receive."""
    received: list[dict] = []

    class Hook(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append({"path": self.path, **json.loads(body)})
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/services/T000/B000/XXX", received
    finally:
        server.shutdown()
        server.server_close()


def test_engagement_failure_pages_de_owner_with_swe_contact_on_slack(
    data_root, instance, slack
) -> None:
    url, received = slack
    # Wednesday 8 Oct 2025: week 5 -> engagement_de dev2, SWE contact swe3.
    defs = build_toy_defs(data_root, now="2025-10-08T02:00:00", slack_webhook_url=url)
    (data_root / "fail_engagement_completeness").write_text("Kafka topic clicks unreachable")
    failed = run(
        defs, instance, ["engagement_completeness", "engagement_hours"], "2025-10-01", "2025-10-03"
    )
    sense(defs, instance, failed)

    [alert] = read_alert_log(ops_dir(data_root))
    assert alert["channel"] == "slack"
    assert (alert["action"], alert["owner"], alert["contacts"]) == ("page", "dev2", ["swe3"])
    assert alert["asset"] == "engagement_completeness"  # the root cause, not the blocked asset
    assert alert["partition"] == "2025-10-01...2025-10-03 (3)"
    assert "Blocked downstream: engagement_hours" in alert["summary"]
    [message] = received
    assert message["path"] == "/services/T000/B000/XXX"
    text = message["text"]
    for expected in [
        "PAGE @dev2",
        "`engagement_completeness`",
        "2025-10-01...2025-10-03",
        "Engagement 5b:",
        "Contacts: swe3",
        "Kafka topic clicks unreachable",
    ]:
        assert expected in text, f"{expected!r} not in Slack message:\n{text}"
    store = IncidentStore(ops_dir(data_root))
    [incident] = store.open_incidents()
    assert incident.fix_due_at == "2025-10-15T02:00:00+00:00"  # within 1 week

    def run_failures():
        return [i for i in store.open_incidents() if i.kind == "run_failure"]

    # Partial re-run: two of three days succeed -> still open; the third resolves it.
    (data_root / "fail_engagement_completeness").unlink()
    sense(
        defs, instance, run(defs, instance, ["engagement_completeness"], "2025-10-01", "2025-10-02")
    )
    assert run_failures()[0].pending_partitions == ["2025-10-03"]
    sense(defs, instance, run(defs, instance, ["engagement_completeness"], "2025-10-03"))
    assert not run_failures()
    # The re-runs also evaluated the SLA check: 5 Oct is past 48 h and missing -> ERROR, page.
    [sla] = store.open_incidents()
    assert (sla.kind, sla.partitions, sla.action) == (
        "sla:newest_expected_partition",
        ["2025-10-05"],
        "page",
    )


def test_unreachable_slack_falls_back_to_the_log(data_root, instance) -> None:
    defs = build_toy_defs(
        data_root, now="2025-10-08T02:00:00", slack_webhook_url="http://127.0.0.1:9/hook"
    )
    (data_root / "fail_engagement_hours").write_text("boom")
    sense(defs, instance, run(defs, instance, ["engagement_hours"], "2025-10-01"))
    [alert] = read_alert_log(ops_dir(data_root))
    assert alert["channel"] == "log" and "slack_error" in alert


def test_failed_reconciliation_check_routes_to_accountant_step(data_root, instance) -> None:
    defs = build_toy_defs(data_root, now="2025-11-05T10:00:00")
    (data_root / "mismatch").write_text("")
    result = run(defs, instance, ["unit_profit"], "2025-10-01")
    assert result.success  # checks never fail the run: the success sensor must route them
    sense(defs, instance, result)
    alerts = read_alert_log(ops_dir(data_root))
    by_kind = {a["kind"]: a for a in alerts}
    recon = by_kind["check:profit_reconciliation_matches_filings"]
    assert recon["runbook_step"].startswith("Profit 4a: ")
    assert "variance -2 000" in recon["summary"]
    assert (recon["partition"], recon["owner"]) == ("2025-10-01", "ana")
    # The SLA check ran in the same run and passed: October was due on 3 Nov and is there.
    assert set(by_kind) == {"check:profit_reconciliation_matches_filings"}

    (data_root / "mismatch").unlink()
    sense(defs, instance, run(defs, instance, ["unit_profit"], "2025-10-01"))
    store = IncidentStore(ops_dir(data_root))
    [resolved] = store.all()
    assert resolved.status == "resolved" and resolved.pending_partitions == []


@pytest.mark.parametrize(
    ("now", "action", "owner", "due"),
    [
        ("2025-11-26T22:00:00", "page", "inv1", "2025-12-01T00:00:00+00:00"),  # last week
        ("2025-11-10T22:00:00", "queue", "team:business-analytics", "2025-12-01T00:00:00+00:00"),
    ],
)
def test_investor_pages_only_in_the_last_week(data_root, instance, now, action, owner, due) -> None:
    defs = build_toy_defs(data_root, now=now)
    (data_root / "fail_investor_rollup").write_text("java.lang.OutOfMemoryError: Java heap space")
    sense(defs, instance, run(defs, instance, ["investor_rollup"], "2025-10-01"))
    [alert] = read_alert_log(ops_dir(data_root))
    assert (alert["action"], alert["owner"]) == (action, owner)
    assert alert["runbook_step"].startswith("Investor 3a: ")
    if action == "queue":
        assert alert["queued_until"] == "2025-11-11T09:00:00+00:00"
    assert IncidentStore(ops_dir(data_root)).open_incidents()[0].fix_due_at == due


def test_growth_failure_is_queued_not_paged(data_root, instance) -> None:
    defs = build_toy_defs(data_root, now="2025-11-08T03:00:00")  # a Saturday
    (data_root / "fail_account_growth").write_text("boom")
    sense(defs, instance, run(defs, instance, ["account_growth"], "2025-10-27"))
    [alert] = read_alert_log(ops_dir(data_root))
    assert (alert["action"], alert["owner"]) == ("queue", "team:accounts")
    assert alert["queued_until"] == "2025-11-10T09:00:00+00:00"
    assert alert["runbook_step"].startswith("Growth 6a: ")


def test_a_failed_check_job_routes_to_de_and_resolves_when_the_job_succeeds(
    data_root, instance
) -> None:
    """A run that targets no asset (here: the SLA checks job) is still routed and tracked."""
    defs = build_toy_defs(data_root, now="2025-10-08T10:00:00")
    assert run(
        defs, instance, ["engagement_completeness", "engagement_hours"], "2025-10-05"
    ).success
    # A corrupt completeness file (disk trouble) makes the check op itself fail.
    lake = defs.resources["lake"].lake
    [live] = lake.partition_files("engagement_completeness", ["2025-10-05"])
    good = Path(live).read_bytes()
    Path(live).write_bytes(b"not parquet")
    job = defs.resolve_job_def("sla_partition_checks")
    failed = job.execute_in_process(instance=instance, raise_on_error=False)
    assert not failed.success
    sense(defs, instance, failed)
    # (Checks evaluated before the failure are routed too: growth's week is missing.)
    [alert] = [a for a in read_alert_log(ops_dir(data_root)) if a["kind"] == "run_failure"]
    assert (alert["asset"], alert["action"], alert["owner"]) == (
        "job:sla_partition_checks",
        "queue",
        "team:data-engineering",
    )
    Path(live).write_bytes(good)  # the disk is repaired
    fixed = job.execute_in_process(instance=instance, raise_on_error=False)
    assert fixed.success
    sense(defs, instance, fixed)
    store = IncidentStore(ops_dir(data_root))
    assert [i.status for i in store.all() if i.asset.startswith("job:")] == ["resolved"]
