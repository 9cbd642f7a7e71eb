"""Dagster resources: where the data lives and how engines are configured.

Everything comes from configuration with embedded defaults (docs/ARCHITECTURE.md "Execution"): the
data root from ``PACIFIC_DATA_ROOT`` (default ``./data``), DuckDB's memory limit, Spark's master and
memory, the Kafka connection, all read by ``pacific_assets.settings``. Secrets (Kafka credentials,
Slack tokens) only ever come from environment variables through ``dg.EnvVar``.
"""

from __future__ import annotations

from pacific_assets import settings
from pacific_assets.orchestration.lake_resource import LakeResource

__all__ = ["LakeResource", "lake_resource_from_env"]


def lake_resource_from_env() -> LakeResource:
    """The ``lake`` resource of the code location, from ``pacific_assets.settings``."""
    configured = settings.load()
    return LakeResource(
        data_root=str(configured.data_root),
        duckdb_memory_limit=configured.duckdb.memory_limit,
        duckdb_threads=configured.duckdb.threads,
    )
