"""End to end through the real Dagster UI: webserver + daemon, GraphQL backfill, lineage, Chromium.

One server for the module (it costs ~30 s to start on 2 cores): ``dagster-webserver`` and
``dagster-daemon`` on a free port of 127.0.0.1, a temporary DAGSTER_HOME (the project's
dagster.yaml) and a temporary data root holding the small simulated company. Both processes are
started with SIGINT reset to its default and in their own process group, and the whole group is
killed in a ``finally`` (docs/operations.md "10. Tests").

Why the daemon starts second: on a fresh instance every sensor is RUNNING (asserted below), and
the pipelines' own sensors would at once start catching up the whole simulated history (the
late-click sensor requests every day that has clicks). That is the product working, but it would
make this test slow and its timing depend on other pipelines. So, with only the webserver up, the
test records the default statuses, stops every sensor and schedule except the on-call routing
and catalog sensors through GraphQL, and only then starts the daemon.
"""

import datetime as dt
import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from pacific_assets.operations.alerts import read_alert_log
from pacific_assets.storage.lake import Lake
from pacific_assets_tests.processes import (
    BIN,
    REPO,
    Server,
    free_port,
    start,
    stop_all,
    stop_instigators,
    wait_for_location,
)

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
METRICS = ["unit_profit", "account_growth", "engagement_hours", "investor_rollup", "ab_unit_daily"]
ENGAGEMENT = [
    "stg_directory_users",  # upstream of every engagement table (licensed users)
    "stg_clicks",
    "user_engagement_daily",
    "engagement_completeness",
    "engagement_hours",
    "engagement_hours_by_team",
]
DAYS = ["2025-09-01", "2025-09-02", "2025-09-03"]
#: Sensors left running while the test works: the on-call routing and the catalog refresh.
KEEP_RUNNING = {"oncall_run_failure", "oncall_check_results", "duckdb_catalog_refresh"}
BACKFILL_TIMEOUT = 420
#: The on-call sensors tick every 30 s: time for two ticks after the last run, and margin.
SENSOR_TIMEOUT = 180


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, sim_data: Lake) -> Iterator[Server]:
    base = tmp_path_factory.mktemp("dagster_e2e")
    home, data_root, logs = base / "dagster_home", base / "data", base / "logs"
    for d in (home, logs):
        d.mkdir()
    shutil.copy(REPO / "dagster.yaml", home / "dagster.yaml")
    shutil.copytree(sim_data.landing, data_root / "landing")  # the fixture is shared: copy
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DAGSTER_", "PACIFIC_"))
    }
    env.update(
        DAGSTER_HOME=str(home),
        PACIFIC_DATA_ROOT=str(data_root),
        # The ops clock: SLA checks judge the simulated days as if it were 4 Sep 2025, 13:00.
        PACIFIC_NOW="2025-09-04T13:00:00+00:00",
        SPARK_LOCAL_IP="127.0.0.1",
        PYTHONUNBUFFERED="1",
    )
    srv = Server(url=f"http://127.0.0.1:{port}", data_root=data_root, home=home, logs=logs)
    procs: list[subprocess.Popen] = []
    try:
        workspace = ["-w", str(REPO / "workspace.yaml")]
        procs.append(
            start(
                [str(BIN / "dagster-webserver"), "-h", "127.0.0.1", "-p", str(port), *workspace],
                env,
                logs / "webserver.log",
            )
        )
        wait_for_location(srv, procs[0])
        srv.default_statuses, _ = stop_instigators(srv, KEEP_RUNNING)
        procs.append(
            start([str(BIN / "dagster-daemon"), "run", *workspace], env, logs / "daemon.log")
        )
        yield srv
    finally:
        stop_all(procs)


def test_a_fresh_instance_starts_every_sensor_and_schedule_running(server: Server) -> None:
    assert server.default_statuses, "no sensors or schedules reported"
    not_running = {k: v for k, v in server.default_statuses.items() if v != "RUNNING"}
    assert not not_running, f"would start stopped in a fresh `dagster dev`: {not_running}"
    for name in ("sensor:oncall_run_failure", "sensor:oncall_check_results"):
        assert name in server.default_statuses


BACKFILL = """
mutation($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message stack }
    ... on InvalidStepError { invalidStepKey }
    ... on InvalidOutputError { stepKey invalidOutputName }
    ... on UnauthorizedError { message }
    ... on PartitionSetNotFoundError { message }
  }
}
"""

BACKFILL_STATUS = """
query($id: String!) {
  partitionBackfillOrError(backfillId: $id) {
    __typename
    ... on PartitionBackfill { id status numCancelable error { message } }
    ... on PythonError { message }
  }
}
"""

BACKFILL_RUNS = """
query($id: String!) {
  runsOrError(filter: { tags: [{ key: "dagster/backfill", value: $id }] }) {
    ... on Runs { results { runId status endTime tags { key value } } }
  }
}
"""


def test_engagement_backfill_through_graphql_lands_in_the_lake(server: Server) -> None:
    started = time.monotonic()
    # Explicit partitions per asset: with plain `partitionNames`, Dagster derives the partitions
    # of downstream assets through their mappings, and the directory's AllPartitionMapping would
    # turn three days into the whole history.
    days = {"range": {"start": DAYS[0], "end": DAYS[-1]}}
    launched = server.gql(
        BACKFILL,
        {
            "params": {
                "partitionsByAssets": [
                    {"assetKey": {"path": [name]}, "partitions": days} for name in ENGAGEMENT
                ],
                "title": "e2e: engagement over three days",
            }
        },
    )["launchPartitionBackfill"]
    assert launched["__typename"] == "LaunchBackfillSuccess", launched
    backfill_id = launched["backfillId"]

    status = None
    while time.monotonic() - started < BACKFILL_TIMEOUT:
        backfill = server.gql(BACKFILL_STATUS, {"id": backfill_id})["partitionBackfillOrError"]
        status = backfill.get("status")
        if status in {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}:
            break
        time.sleep(3)
    runs = server.gql(BACKFILL_RUNS, {"id": backfill_id})["runsOrError"]["results"]
    assert status in {"COMPLETED", "COMPLETED_SUCCESS"}, (
        f"backfill {backfill_id} ended {status} after {time.monotonic() - started:.0f} s; "
        f"runs: {[(r['runId'][:8], r['status']) for r in runs]}\n{server.log_tail()}"
    )
    assert runs and all(r["status"] == "SUCCESS" for r in runs), runs
    # Ranges, not one run per day: the three days go through in range runs.
    assert len(runs) < len(DAYS) * len(ENGAGEMENT)

    # The data is in the lake, one partition per day, with real numbers in it.
    lake = Lake(server.data_root)
    for table in ENGAGEMENT[1:]:
        assert set(DAYS) <= set(lake.partition_keys(table)), table
    hours = lake.read("engagement_hours", DAYS)
    assert sorted(hours["date"].cast(pl.String).unique().to_list()) == DAYS
    assert hours["licensed_users"].sum() > 0
    assert hours["total_hours"].sum() > 0 and hours["events"].sum() > 0

    # And Dagster knows it: three materialized partitions of engagement_hours.
    data = server.gql(
        """query { assetNodes(assetKeys: [{path: ["engagement_hours"]}]) {
             partitionStats { numMaterialized } } }"""
    )
    assert data["assetNodes"][0]["partitionStats"]["numMaterialized"] == len(DAYS)
    # The on-call sensors saw the runs: the check-results sensor's cursor moved past the last
    # run's success, the run-failure sensor evaluated after it, and no alert was a run failure.
    ended = max(r["endTime"] for r in runs)
    _wait_for_oncall_sensors(server, ended)
    alerts = read_alert_log(server.data_root / "ops")
    assert not [a for a in alerts if a["kind"] == "run_failure"], alerts


SENSOR_TICKS = """
{ repositoriesOrError { ... on RepositoryConnection { nodes {
    sensors { name sensorState { status ticks(limit: 30) {
        status timestamp cursor error { message } } } }
} } } }
"""


def _processed_up_to(tick: dict) -> float | None:
    """The timestamp of the last run-status event a run-status sensor's tick processed."""
    try:
        cursor = json.loads(tick.get("cursor") or "")
    except ValueError:
        return None
    stamp = cursor.get("record_timestamp") if isinstance(cursor, dict) else None
    return dt.datetime.fromisoformat(stamp).timestamp() if stamp else None


def _wait_for_oncall_sensors(server: Server, ended: float) -> None:
    """Until both on-call sensors have evaluated the finished runs (fails after SENSOR_TIMEOUT)."""
    deadline = time.monotonic() + SENSOR_TIMEOUT
    ticks: dict[str, list[dict]] = {}
    while time.monotonic() < deadline:
        [repo] = server.gql(SENSOR_TICKS)["repositoriesOrError"]["nodes"]
        ticks = {s["name"]: s["sensorState"]["ticks"] for s in repo["sensors"]}
        failed = [
            (name, t["error"])
            for name in KEEP_RUNNING
            for t in ticks.get(name, [])
            if t["status"] == "FAILURE"
        ]
        assert not failed, failed
        # oncall_check_results handles successful runs: its cursor passed the last one's success
        checks_done = any(
            (_processed_up_to(t) or 0) >= ended - 1 for t in ticks["oncall_check_results"]
        )
        # oncall_run_failure handles failed runs (none here): it evaluated after the last run
        failure_done = any(t["timestamp"] > ended for t in ticks["oncall_run_failure"])
        if checks_done and failure_done:
            return
        time.sleep(3)
    pytest.fail(
        f"the on-call sensors did not evaluate the runs ended at {ended} within "
        f"{SENSOR_TIMEOUT} s: ticks {json.dumps({k: v[:3] for k, v in ticks.items()})[:3000]}"
        f"\n{server.log_tail()}"
    )


def test_investor_rollup_lineage_through_graphql(server: Server) -> None:
    nodes = server.gql(
        """query { assetNodes {
             assetKey { path } groupName description
             dependencyKeys { path }
             owners { ... on TeamAssetOwner { team } ... on UserAssetOwner { email } }
        } }"""
    )["assetNodes"]
    by_key = {"/".join(n["assetKey"]["path"]): n for n in nodes}
    upstream, todo = set(), ["investor_rollup"]
    while todo:
        for dep in by_key[todo.pop()]["dependencyKeys"]:
            key = "/".join(dep["path"])
            if key not in upstream:
                upstream.add(key)
                if key in by_key:
                    todo.append(key)
    # The rollup reads every pipeline: profit, growth and engagement, down to staging and clicks.
    for expected in [
        "unit_profit",
        "engagement_hours",
        "user_engagement_daily",
        "stg_clicks",
        "stg_directory_users",
        "raw_clicks",
    ]:
        assert expected in upstream, f"{expected} is not upstream of investor_rollup"
    assert {"growth", "profit", "engagement", "staging"} <= {
        by_key[k]["groupName"] for k in upstream if k in by_key
    }
    rollup = by_key["investor_rollup"]
    assert "Runbook — Executive/Investor rollup" in rollup["description"]
    assert {"team:business-analytics", "team:data-engineering"} <= {
        f"team:{o['team']}" for o in rollup["owners"] if o.get("team")
    }


def test_asset_graph_in_chromium_shows_the_five_metrics(server: Server, tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        # CI installs Debian's chromium in .ci/run: under CI a missing browser is a failure,
        # unless .ci/run could not install it and said why (a reason CI itself cannot fix).
        unavailable = os.environ.get("PACIFIC_CHROMIUM_UNAVAILABLE")
        if os.environ.get("CI") and not unavailable:
            pytest.fail(f"{CHROMIUM} missing under CI: .ci/run installs it (apt-get)")
        pytest.skip(
            f"{CHROMIUM} not installed ({unavailable or 'locally: apt-get install -y chromium'})"
        )
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    selection = " or ".join(f'key:"{name}"' for name in METRICS)
    url = f"{server.url}/asset-groups~{urllib.request.quote(selection)}/"
    shot = tmp_path / "asset-graph.png"
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        # Tall enough for the five expanded groups: the graph renders only what is in view.
        page = browser.new_page(viewport={"width": 1600, "height": 2800})
        try:
            page.goto(url, wait_until="domcontentloaded", timeout=90_000)
            page.get_by_text("Global asset lineage").wait_for(timeout=90_000)
            page.get_by_text("experiments", exact=True).last.wait_for(timeout=90_000)
            # Groups start collapsed; the canvas menu expands them all. The first visit may
            # also pop a community dialog over the canvas ("Skip").
            expand = page.get_by_role("menuitem", name="Expand all groups")
            for _ in range(3):
                skip = page.get_by_role("button", name="Skip")
                if skip.count() and skip.first.is_visible():
                    skip.first.click()
                page.mouse.click(1300, 160, button="right")
                try:
                    expand.click(timeout=10_000)
                    break
                except PlaywrightTimeout:
                    page.keyboard.press("Escape")
            for name in METRICS:
                # Asset nodes on the canvas (not the selection text in the search box).
                node = page.locator(
                    "xpath=//*[not(ancestor::*[contains(@class,'CodeMirror')])]"
                    f"[normalize-space(text())='{name}']"
                )
                node.first.wait_for(state="visible", timeout=60_000)
        except Exception:
            page.screenshot(path=str(shot), full_page=True)
            keep = Path(os.environ.get("PACIFIC_TEST_ARTIFACTS", tmp_path))
            keep.mkdir(parents=True, exist_ok=True)
            if keep != tmp_path:
                shutil.copy(shot, keep / shot.name)
            print(f"screenshot of the failing page: {keep / shot.name}")
            raise
        finally:
            browser.close()


def test_every_lake_table_has_an_asset_with_owners_and_documented_columns(server: Server) -> None:
    """What the UI shows (issue #15): each declared lake table is an asset with owners and a
    column schema whose every column has a description; the record tables and the catalog sit
    in the lineage graph downstream of their writers."""
    from pacific_assets.columns import declared_tables
    from pacific_assets.operations.catalog import DUCKDB_CATALOG

    nodes = server.gql(
        """query { assetNodes {
             assetKey { path } dependencyKeys { path }
             owners { ... on TeamAssetOwner { team } ... on UserAssetOwner { email } }
             metadataEntries { label ... on TableSchemaMetadataEntry { schema {
               columns { name type description constraints { nullable } } } } }
        } }"""
    )["assetNodes"]
    by_key = {"/".join(n["assetKey"]["path"]): n for n in nodes}
    declared = declared_tables()
    assert len(declared) >= 30
    for table, cols in declared.items():
        node = by_key.get(table)
        assert node is not None, f"lake table {table} has no asset in the UI"
        assert node["owners"], f"{table} has no owner"
        schema = next(
            (e["schema"] for e in node["metadataEntries"] if e["label"] == "dagster/column_schema"),
            None,
        )
        assert schema is not None, f"{table} shows no column schema"
        shown = {c["name"]: c for c in schema["columns"]}
        assert list(shown) == cols.names, table
        for name, col in shown.items():
            assert col["description"].strip(), f"{table}.{name} has no description"
            assert col["constraints"]["nullable"] == cols[name].nullable, f"{table}.{name}"

    def upstream(key: str) -> set[str]:
        return {"/".join(d["path"]) for d in by_key[key]["dependencyKeys"]}

    assert {"investor_rollup", "executive_weekly"} <= upstream("rollup_input_status")
    assert "investor_rollup" in upstream("investor_restatements")
    assert {"stg_invoice_lines", "stg_accounts", "raw_clicks", "stg_clicks"} <= upstream(
        "quarantine"
    )
    assert set(declared) <= upstream(DUCKDB_CATALOG), set(declared) - upstream(DUCKDB_CATALOG)
