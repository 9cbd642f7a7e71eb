"""The UI shows each partition's lineage digest as its data version (issue 29, part 4).

Runs on a real instance (a temporary DAGSTER_HOME with the project's dagster.yaml) over the small
simulated company's landing zone: two range runs (a single-run backfill's shape) and a
single-partition run, executed in process as every run of the code location is (its executor is
``in_process_executor``, so a run launched from the UI or the daemon tears its resources down the
same way). Then ``dagster-webserver`` alone is started on that instance and asked, over GraphQL,
for every partition's ``dataVersionByPartition`` (what the asset's partition view shows); each must
equal the ``content`` of the partition's ``lineage.json`` in the lake, the version the planner
compares.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import dagster as dg
import pytest

from pacific_assets.resources import LakeResource
from pacific_assets.storage.lineage_record import LINEAGE_FILE, Lineage
from pacific_assets_tests.processes import (
    BIN,
    REPO,
    Server,
    free_port,
    start,
    stop,
    wait_for_location,
)
from pacific_assets_tests.runs import range_tags
from pacific_tools.sync import plan_sync

pytestmark = pytest.mark.slow

INVOICES, EVENTS = "stg_invoice_lines", "stg_account_events"
#: invoice files landed on 09-01, 09-03 and 09-04 (none on 09-02): the days' contents differ
INVOICE_RANGE, INVOICE_SINGLE = ("2025-09-01", "2025-09-03"), "2025-09-04"
#: account events landed on 09-01 only: 09-02 is an empty, different, partition
EVENTS_RANGE = ("2025-09-01", "2025-09-02")

DATA_VERSIONS = """
query($keys: [AssetKeyInput!], $partitions: [String!]) {
  assetNodes(assetKeys: $keys) { assetKey { path } dataVersionByPartition(partitions: $partitions) }
}
"""


def lineage_contents(data_root: Path, table: str) -> dict[str, str]:
    """Partition key -> the ``content`` of its live version's lineage.json."""
    out = {}
    for link in sorted((data_root / "lake" / table).glob("*=*")):
        record = Lineage.from_json((link.resolve() / LINEAGE_FILE).read_text())
        out[link.name.split("=", 1)[1]] = record.content
    return out


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, sim_data) -> tuple[Path, Path, dict[str, str]]:
    """(DAGSTER_HOME, data root, process environment) after the three runs."""
    base = tmp_path_factory.mktemp("data_versions")
    home, data_root = base / "dagster_home", base / "data"
    home.mkdir()
    shutil.copy(REPO / "dagster.yaml", home / "dagster.yaml")
    shutil.copytree(sim_data.landing, data_root / "landing")  # the fixture is shared: copy
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DAGSTER_", "PACIFIC_"))}
    env.update(DAGSTER_HOME=str(home), PACIFIC_DATA_ROOT=str(data_root), PYTHONUNBUFFERED="1")
    from pacific_assets.definitions import defs

    resources = {**defs.resources, "lake": LakeResource(data_root=str(data_root))}
    with dg.DagsterInstance.from_config(str(home)) as instance:
        for selection, kwargs in (
            ([INVOICES], {"tags": range_tags(*INVOICE_RANGE)}),
            ([INVOICES], {"partition_key": INVOICE_SINGLE}),
            ([EVENTS], {"tags": range_tags(*EVENTS_RANGE)}),
        ):
            assert dg.materialize(
                list(defs.assets),
                selection=selection,
                resources=resources,
                instance=instance,
                **kwargs,
            ).success
        # every version the lake holds is the one the instance knows: `make sync` adds nothing
        assert plan_sync(instance, defs.resolve_asset_graph(), resources["lake"].lake) == []
    return home, data_root, env


def test_every_partition_shows_its_lineage_digest_as_data_version(built) -> None:
    home, data_root, env = built
    expected = {table: lineage_contents(data_root, table) for table in (INVOICES, EVENTS)}
    assert sorted(expected[INVOICES]) == ["2025-09-01", "2025-09-02", "2025-09-03", "2025-09-04"]
    assert sorted(expected[EVENTS]) == ["2025-09-01", "2025-09-02"]
    # the days differ, so one version stamped on a whole range cannot pass
    assert len(set(expected[INVOICES].values())) >= 3
    assert len(set(expected[EVENTS].values())) == 2

    port = free_port()
    logs = home.parent / "logs"
    logs.mkdir()
    server = Server(url=f"http://127.0.0.1:{port}", data_root=data_root, home=home, logs=logs)
    webserver: subprocess.Popen | None = None
    try:
        webserver = start(
            [
                str(BIN / "dagster-webserver"),
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-w",
                str(REPO / "workspace.yaml"),
            ],
            env,
            logs / "webserver.log",
        )
        wait_for_location(server, webserver)
        shown = {}
        for table, versions in expected.items():
            data = server.gql(
                DATA_VERSIONS, {"keys": [{"path": [table]}], "partitions": sorted(versions)}
            )
            [node] = data["assetNodes"]
            shown[table] = dict(zip(sorted(versions), node["dataVersionByPartition"], strict=True))
    finally:
        if webserver is not None:
            stop(webserver)
            assert webserver.poll() is not None, "dagster-webserver still running"
    assert shown == expected
