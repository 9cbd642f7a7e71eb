"""The DuckDB catalog is an asset: the sensor only asks for it, the run writes it.

Real lake, real DuckDB file, a real (ephemeral) Dagster instance; the sensor is evaluated the way
the daemon evaluates it, with the code location's own definitions.
"""

import dagster as dg
import duckdb
import polars as pl

from pacific_assets.definitions import defs
from pacific_assets.operations.catalog import (
    CATALOG_SENSOR,
    DUCKDB_CATALOG,
    build_catalog_asset,
    lake_table_keys,
)
from pacific_assets.resources import LakeResource
from pacific_assets.storage.catalog import catalog_tables
from pacific_assets.storage.lake import Lake


def _tick(lake_resource: LakeResource, instance: dg.DagsterInstance):
    """One tick of the sensor through Dagster's public ``evaluate_tick`` (what the daemon runs):
    its single run request, or its skip message."""
    sensor = defs.get_repository_def().get_sensor_def(CATALOG_SENSOR)
    with dg.build_sensor_context(
        instance=instance,
        repository_def=defs.get_repository_def(),
        resources={"lake": lake_resource},
    ) as context:
        data = sensor.evaluate_tick(context)
    if data.run_requests:
        (request,) = data.run_requests
        return request
    return data.skip_message


def _materialize(
    lake_resource: LakeResource, instance: dg.DagsterInstance
) -> dg.ExecuteInProcessResult:
    catalog = build_catalog_asset(lake_table_keys(defs.resolve_asset_graph()))
    return dg.materialize([catalog], instance=instance, resources={"lake": lake_resource})


def test_a_new_table_is_requested_then_built_by_the_run_and_then_left_alone(
    lake: Lake, lake_resource: LakeResource
) -> None:
    instance = dg.DagsterInstance.ephemeral()
    lake.write_table("unit_profit", pl.DataFrame({"month": ["2025-09"], "profit": [1.5]}))

    request = _tick(lake_resource, instance)
    assert isinstance(request, dg.RunRequest)
    assert request.asset_selection == [dg.AssetKey(DUCKDB_CATALOG)]
    assert not lake.catalog_path.exists()  # the sensor writes nothing
    assert _tick(lake_resource, instance).run_key == request.run_key  # same state, same request

    result = _materialize(lake_resource, instance)
    assert result.success
    assert catalog_tables(lake) == ["unit_profit"]
    with duckdb.connect(str(lake.catalog_path), read_only=True) as con:
        assert con.execute("select profit from unit_profit").fetchall() == [(1.5,)]
    (mat,) = result.asset_materializations_for_node(DUCKDB_CATALOG)
    assert mat.metadata["views"].value == 1

    skip = _tick(lake_resource, instance)
    assert skip == "catalog up to date (1 views)"

    # a new partition of a known table needs no rebuild (views glob the live partitions)...
    lake.write_partition("t", "day", "2025-09-01", pl.DataFrame({"day": ["2025-09-01"]}))
    second = _tick(lake_resource, instance)
    # ...but a new table does, and it is another request than the first
    assert isinstance(second, dg.RunRequest) and second.run_key != request.run_key


def test_the_catalog_depends_on_every_lake_table_and_runs_one_at_a_time() -> None:
    graph = defs.resolve_asset_graph()
    node = graph.get(dg.AssetKey(DUCKDB_CATALOG))
    tables = {n.key for n in graph.asset_nodes if "parquet" in n.kinds}
    assert {"quarantine", "rollup_input_status", "investor_restatements", "unit_profit"} <= {
        k.to_user_string() for k in tables
    }
    assert set(node.parent_keys) == tables
    assert node.group_name == "operations" and node.owners
    # a pool of its own: dagster.yaml's default pool limit of one keeps two rebuilds apart
    assert node.assets_def.op.pool == DUCKDB_CATALOG
