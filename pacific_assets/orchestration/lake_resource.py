"""The ``lake`` resource: the data root and DuckDB limits every asset step and planner tick uses.

In the library because the planner's schedules and sensors take it by type (``automation``), and
because ``for_asset`` is where a step's lineage recorder is attached (``lineage``). The code
location builds it from the settings (``pacific_assets.resources.lake_resource_from_env``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
import duckdb
from pydantic import PrivateAttr

from pacific_assets import settings
from pacific_assets.orchestration.data_root import DEFAULT_DATA_ROOT
from pacific_assets.settings import DuckDBLimits
from pacific_assets.storage.duck import connect
from pacific_assets.storage.lake import Lake


class LakeResource(dg.ConfigurableResource):
    """The data root (landing zone, Parquet lake, truth, catalog) and the DuckDB settings."""

    data_root: str = DEFAULT_DATA_ROOT
    duckdb_memory_limit: str = settings.DEFAULT_DUCKDB.memory_limit
    duckdb_threads: int = settings.DEFAULT_DUCKDB.threads
    #: The recorders of the asset steps this resource served (``for_asset``), whose partitions'
    #: Dagster data versions are settled once the step's own events are stored (teardown).
    _recorders: list = PrivateAttr(default_factory=list)

    @property
    def lake(self) -> Lake:
        """The lake, carrying this resource's DuckDB limits to every compute connection over it."""
        return Lake(
            self.data_root, duckdb=DuckDBLimits(self.duckdb_memory_limit, self.duckdb_threads)
        )

    def for_asset(self, context: dg.AssetExecutionContext) -> Lake:
        """The lake for a running asset step: every partition the step writes of its own
        tables records what it was built from (captured now, before the step reads anything),
        so sensors can tell stale partitions from fresh ones (``pacific_assets.orchestration.lineage``)."""
        from pacific_assets.orchestration.lineage import recorder_for

        lake = self.lake
        recorder = recorder_for(context, lake)
        self._recorders.append(recorder)
        return lake.recording(recorder)

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        """After the run (the code location executes in process; a step process tears down its
        own): each partition a range step wrote gets its content digest as its Dagster data
        version (``Recorder.report_data_versions``). Here because it must follow the step's own
        materializations, and resources are torn down after their steps' events are stored."""
        recorders, self._recorders[:] = list(self._recorders), []
        for recorder in recorders:
            try:
                recorder.report_data_versions()
            except Exception as exc:  # the lake is written and live: `make sync` can redo this
                if context.log is not None:
                    context.log.warning(
                        f"could not report the data versions of run {recorder.run_id} "
                        f"({type(exc).__name__}: {exc}); `make sync` reports them"
                    )

    @contextmanager
    def duckdb(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A fresh in-memory DuckDB (UTC, bounded memory) that reads the lake's Parquet."""
        with connect(lake=self.lake) as con:
            yield con
