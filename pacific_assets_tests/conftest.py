"""Shared fixtures. Domain fixtures live in each test folder's own conftest.py."""

from __future__ import annotations

import atexit
import datetime as dt
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from pacific_assets.orchestration.data_root import DATA_ROOT_ENV, OVERRIDE_ENV, record_first_day

# The suite's grids come from a data root, as every entry point's do (pacific_assets.orchestration.data_root):
# one of the suite's own, recording the fixed-date test company's first day (or the day a test
# that runs the suite again in a subprocess asks for), never the developer's ./data or shell.
TEST_FIRST_DAY = dt.date.fromisoformat(os.environ.get("PACIFIC_TEST_FIRST_DAY", "2025-09-01"))
_SUITE_ROOT = Path(tempfile.mkdtemp(prefix="pacific-suite-")) / "data"
record_first_day(_SUITE_ROOT, TEST_FIRST_DAY, by="pacific_assets_tests/conftest.py")
atexit.register(shutil.rmtree, _SUITE_ROOT.parent, True)
os.environ[DATA_ROOT_ENV] = str(_SUITE_ROOT)
os.environ.pop(OVERRIDE_ENV, None)

from pacific_assets.orchestration import lineage  # noqa: E402  (imports the grids: after the data root is set)
from pacific_assets.resources import LakeResource  # noqa: E402
from pacific_assets.storage.lake import Lake  # noqa: E402

os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")


def _project_graph():
    from pacific_assets.definitions import defs

    return defs.resolve_asset_graph()


# Tests run subsets of assets (``dg.materialize``): lineage reads the rules of the assets they
# know only as stubs from the code location's graph, which the code location hands in when it
# is imported; here it is handed in on first use, so tests that need none do not load it.
lineage.use_project_graph(_project_graph)

# Property tests are deterministic: the same examples on every run and machine, and no replay of
# examples an earlier local run saved (a CI clone has none, so a local replay is a false alarm).
settings.register_profile("pacific", derandomize=True, database=None, deadline=None)
settings.load_profile("pacific")


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    """An empty data root of its own for one test."""
    return Lake(tmp_path / "data")


@pytest.fixture
def lake_resource(lake: Lake) -> LakeResource:
    return LakeResource(data_root=str(lake.root), duckdb_memory_limit="1GB", duckdb_threads=2)


@pytest.fixture(scope="session")
def spark() -> Iterator[object]:
    """One local Spark session for every test that needs it (a JVM start costs seconds)."""
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("pacific-assets-tests")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.driver.memory", "1g")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.adaptive.enabled", "true")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def sim_data(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    """The small fixed-date "test" company simulated once (~2 s): landing/ + truth/.

    Shared by every test session-wide: treat it as read-only (write lake tables to your own
    ``lake`` fixture, or copy). Truth: ``sim_data.truth / "<table>.parquet"`` and
    ``fault_manifest.json``; see docs/simulator.md.
    """
    from pacific_tools.simulate import simulate

    root = tmp_path_factory.mktemp("sim_data") / "data"
    simulate(root, profile="test", seed=7)
    return Lake(root)
