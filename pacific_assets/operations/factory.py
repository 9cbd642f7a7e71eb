"""Operations built from the merged definitions of every pipeline (called in definitions.py).

Some operations need the whole graph: the newest-expected-partition check goes on every
partitioned asset with an SLA (reading the completeness source each pipeline declares on its
assets), and the routing sensors need each asset's pipeline and op. So instead of each package
copying them, ``build_operations_defs`` looks at the merged definitions once and returns:

- ``sla_newest_partition_checks``: the partition checks (``operations.checks``),
- ``sla_partition_checks`` job + ``sla_checks_sensor``: runs a check whenever its verdict would
  change (a deadline passed, a partition appeared), so an SLA miss alerts within a minute,
- ``oncall_run_failure`` and ``oncall_check_results`` sensors (``operations.sensors``),
- a RUNNING automation-condition sensor if assets use automation conditions and no pipeline
  defined one (Dagster's implicit one starts STOPPED),
- ``duckdb_catalog``, downstream of every lake table, and the sensor that requests it when a
  table appears (``operations.catalog``).

Schedules are the pipelines' own (each declares its cadences); ``operations.cadences`` only
checks that every business cadence has exactly one.
"""

from __future__ import annotations

import dagster as dg

from pacific_assets.operations.catalog import (
    build_catalog_asset,
    duckdb_catalog_refresh,
    lake_table_keys,
)
from pacific_assets.operations.checks import build_sla_partition_checks, sla_targets
from pacific_assets.operations.pipeline import PIPELINE as OPERATIONS
from pacific_assets.operations.sensors import asset_directory, build_oncall_sensors
from pacific_assets.operations.sla_sensor import Judges, build_sla_checks_sensor

SLA_CHECKS_JOB = "sla_partition_checks"


def with_operations(
    pipelines: dg.Definitions, sla_verdicts: Judges | None = None
) -> dg.Definitions:
    """``pipelines`` plus the operations built from them (the code location's final defs).
    ``sla_verdicts``: the pipelines' own SLA checks with their judges
    (``registry.own_sla_verdicts``), run by the SLA sensor with the generated ones."""
    return dg.Definitions.merge(pipelines, build_operations_defs(pipelines, sla_verdicts))


def build_operations_defs(
    merged: dg.Definitions, sla_verdicts: Judges | None = None
) -> dg.Definitions:
    graph = merged.resolve_asset_graph()
    checks = build_sla_partition_checks(graph)
    jobs: list = []
    sensors: list = []
    if checks is not None:
        # the pipelines' own SLA checks, where the pipeline is in this code location
        own = {k: judge for k, judge in (sla_verdicts or {}).items() if graph.has(k)}
        job = dg.define_asset_job(
            SLA_CHECKS_JOB,
            selection=dg.AssetSelection.checks(checks) | dg.AssetSelection.checks(*own),
            description="The SLA checks: every newest-expected-partition check and the newest "
            "click's 48 h check.",
        )
        jobs.append(job)
        sensors.append(build_sla_checks_sensor(job, sla_targets(graph), own))
    # the catalog needs every lake table as a dependency, so it is built here, after every
    # pipeline (and the assets they build from the graph), and declared as operations' own
    catalog = dg.Definitions(assets=[build_catalog_asset(lake_table_keys(graph))]).map_asset_specs(
        func=OPERATIONS.declare_policy
    )
    policies = {n.key: n.freshness_policy for n in graph.asset_nodes if n.freshness_policy}
    directory = asset_directory(dg.Definitions.merge(merged, catalog).resolve_asset_graph())
    sensors.extend(build_oncall_sensors(directory, policies))
    sensors.extend(_automation_sensor(merged, graph))
    sensors.append(duckdb_catalog_refresh)
    return dg.Definitions.merge(
        catalog,
        dg.Definitions(
            asset_checks=[checks] if checks is not None else [],
            jobs=jobs,
            sensors=sensors,
        ),
    )


def _automation_sensor(merged: dg.Definitions, graph) -> list[dg.SensorDefinition]:
    uses_conditions = any(n.automation_condition is not None for n in graph.asset_nodes)
    has_sensor = any(
        isinstance(s, dg.AutomationConditionSensorDefinition) for s in merged.sensors or []
    )
    if not uses_conditions or has_sensor:
        return []
    return [
        dg.AutomationConditionSensorDefinition(
            "automation_condition_sensor",
            target=dg.AssetSelection.all(),
            default_status=dg.DefaultSensorStatus.RUNNING,
            description="Evaluates the assets' automation conditions (RUNNING by default; "
            "Dagster's implicit sensor would start STOPPED).",
        )
    ]
