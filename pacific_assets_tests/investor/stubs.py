"""Stand-ins for the upstream assets, so Dagster's own records (materializations, check results)
can be produced in tests without running the upstream pipelines.

Each stub materializes nothing in the lake (the fixture writes the data); it only leaves the
events the completeness record reads: a materialization per partition and, for
``engagement_hours``, the result of an ERROR or WARN check chosen through run config.
"""

import dagster as dg

from pacific_assets.investor.inputs import MONTHLY, WEEKLY
from pacific_assets.orchestration import partitions
from pacific_assets_tests.runs import range_tags

GRIDS = {
    "daily": partitions.daily,
    "weekly": partitions.weekly,
    "monthly": partitions.monthly,
    "dimension": partitions.daily,
}


class StubCheckConfig(dg.Config):
    passed: bool = True
    severity: str = "ERROR"
    description: str = "volume within the weekday/hour baseline"


def _stub(table: str, grid: dg.PartitionsDefinition, deps: list[str]) -> dg.AssetsDefinition:
    checks = (
        [dg.AssetCheckSpec("volume_ok", asset=table, description="stub check")]
        if table == "engagement_hours"
        else []
    )

    @dg.asset(name=table, partitions_def=grid, deps=deps, check_specs=checks, group_name="stubs")
    def _asset(config: StubCheckConfig) -> dg.MaterializeResult:
        results = (
            [
                dg.AssetCheckResult(
                    check_name="volume_ok",
                    passed=config.passed,
                    severity=dg.AssetCheckSeverity[config.severity],
                    description=config.description,
                )
            ]
            if checks
            else []
        )
        return dg.MaterializeResult(check_results=results)

    return _asset


def upstream_stubs() -> list[dg.AssetsDefinition]:
    """One stub per rollup input, plus stg_clicks upstream of the engagement tables."""
    tables = {t.table: t for g in (MONTHLY, WEEKLY) for t in g.inputs}
    stubs = [_stub("stg_clicks", partitions.daily, [])]
    for name, table in sorted(tables.items()):
        deps = ["stg_clicks"] if name in ("engagement_hours", "user_engagement_daily") else []
        stubs.append(_stub(name, GRIDS[table.grain], deps))
    return stubs


def run_stub(
    stubs: list[dg.AssetsDefinition],
    instance: dg.DagsterInstance,
    asset: str,
    first: str,
    last: str | None = None,
    **check: object,
) -> None:
    """Materialize one stub over [first, last] in one range run (check outcome from ``check``)."""
    result = dg.materialize(
        stubs,
        selection=[asset],
        instance=instance,
        tags=range_tags(first, last or first),
        run_config={"ops": {asset: {"config": dict(check)}}},
    )
    assert result.success
