"""The rollup assets through Dagster: draft while open, published at close, restatements caught."""

from __future__ import annotations

import json
import re
import stat

import dagster as dg
import polars as pl
import pytest
from dagster_pyspark import LazyPySparkResource

from pacific_assets.investor import publish
from pacific_assets.investor.assets import executive_weekly, investor_rollup
from pacific_assets.investor.completeness import STATUS_TABLE
from pacific_assets.investor.spark import spark_config_from_env
from pacific_assets_tests.investor.fixture import OCT, WEEK, write_fixture
from pacific_assets_tests.runs import checks_by_name

pytestmark = pytest.mark.spark


def _materialize(asset, key, lake_resource, instance, **config) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [asset],
        partition_key=key,
        resources={
            "lake": lake_resource,
            # getOrCreate: the session-wide test session is reused, as in a step process
            "pyspark": LazyPySparkResource(spark_config=spark_config_from_env()),
        },
        instance=instance,
        run_config={"ops": {asset.key.to_user_string(): {"config": config}}},
    )


def _assert_self_contained(html: str) -> None:
    assert "<svg" in html
    assert "<script" not in html and "<link" not in html and "<img" not in html
    assert not re.search(r"""(src|href)\s*=\s*["']?https?:""", html), "nothing from the network"
    assert "url(" not in html


def test_monthly_rollup_lifecycle(spark, lake, lake_resource) -> None:
    write_fixture(lake)
    instance = dg.DagsterInstance.ephemeral()
    month_dir = publish.month_dir(lake, OCT)

    # 1. Mid-October: a draft of the open month; nothing is published.
    draft = _materialize(
        investor_rollup, OCT.isoformat(), lake_resource, instance, as_of="2025-10-16T08:00:00Z"
    )
    assert draft.success
    assert not month_dir.exists()
    stored = lake.read("investor_rollup").filter(pl.col("segment") == "all").row(0, named=True)
    assert stored["publication_status"] == "open_period"
    html = (lake.reports / "investor" / "investor_rollup_2025-10.html").read_text()
    assert "DRAFT" in html

    # 2. After month end with complete inputs: published as v=1, read-only.
    close = _materialize(
        investor_rollup, OCT.isoformat(), lake_resource, instance, as_of="2025-12-01T06:00:00Z"
    )
    assert close.success
    checks = checks_by_name(close)
    assert all(c.passed for c in checks.values()), {n: c.description for n, c in checks.items()}
    assert publish.versions(lake, OCT) == [1]
    v1 = month_dir / "v=1"
    assert {p.name for p in v1.iterdir()} == {
        "kpis.parquet",
        "input_status.parquet",
        "report.html",
        "manifest.json",
    }
    assert all(not (p.stat().st_mode & stat.S_IWUSR) for p in v1.iterdir())
    v1_bytes = (v1 / "kpis.parquet").read_bytes()
    manifest = json.loads((v1 / "manifest.json").read_text())
    assert manifest["version"] == 1 and "engagement_hours" in manifest["inputs"]
    published = pl.read_parquet(v1 / "kpis.parquet")
    assert published.filter(pl.col("segment") == "all")["mrr_usd"][0] == 1750.0
    assert set(published["publication_status"]) == {"published"}
    html = (lake.reports / "investor" / "investor_rollup_2025-10.html").read_text()
    _assert_self_contained(html)
    assert "Published (v1)" in html and "MRR movements" in html and "NRR / GRR trend" in html
    assert (v1 / "report.html").read_text() == html
    # the step also reports the record tables it wrote (rollup_input_status): pick the rollup's
    (mat,) = [
        m
        for m in close.asset_materializations_for_node("investor_rollup")
        if m.asset_key == investor_rollup.key
    ]
    meta = mat.metadata
    assert "| NRR |" in meta["preview"].value and meta["published"].value == ["2025-10 v1"]
    status = lake.read(STATUS_TABLE)
    assert status.height == 9 and status["is_ok"].all()

    # 3. Late data re-writes Oct 5 (two more hours on A1): the published month is not changed,
    #    the restatement check fails naming KPI, old and new value, and cause.
    day = lake.read("engagement_hours", ["2025-10-05"])
    day = day.with_columns(
        pl.when(pl.col("account_id") == "A1")
        .then(pl.col("total_hours") + 2.0)
        .otherwise(pl.col("total_hours"))
        .alias("total_hours")
    )
    lake.write_partitions("engagement_hours", "date", ["2025-10-05"], day)
    rerun = _materialize(
        investor_rollup, OCT.isoformat(), lake_resource, instance, as_of="2025-12-02T06:00:00Z"
    )
    assert rerun.success  # a failed check, not a failed run
    check = checks_by_name(rerun)["no_unapproved_restatement"]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.ERROR
    assert "2025-10 total_hours (all): published v1 39 -> now 41" in check.description
    assert "engagement_hours re-written 2025-10-05" in check.description
    assert publish.versions(lake, OCT) == [1]
    assert (v1 / "kpis.parquet").read_bytes() == v1_bytes
    restated = lake.read(publish.RESTATEMENTS_TABLE)
    assert set(restated["kpi"]) >= {"total_hours", "hours_per_active_user_per_day"}
    assert set(restated["status"]) == {"pending"}
    # both record tables are assets: the rollup's step reported what it wrote to the instance
    reported = {
        m.asset_key.to_user_string(): m
        for m in rerun.get_asset_materialization_events()
        for m in [m.materialization]
    }
    assert reported[publish.RESTATEMENTS_TABLE].partition == OCT.isoformat()
    assert reported[publish.RESTATEMENTS_TABLE].metadata["dagster/row_count"].value == len(restated)
    assert reported[STATUS_TABLE].metadata["lake_partitions"].value == [
        "investor_rollup__2025-10-01"
    ]
    stored = lake.read("investor_rollup").filter(pl.col("segment") == "all").row(0, named=True)
    assert stored["publication_status"] == "restatement_pending"
    assert stored["total_hours"] == 41.0

    # 4. Approved: published as v=2 with the note; v=1 stays as it was.
    approved = _materialize(
        investor_rollup,
        OCT.isoformat(),
        lake_resource,
        instance,
        as_of="2025-12-02T07:00:00Z",
        approve_restatement=True,
        restatement_note="late clicks for Oct 5 landed after close",
    )
    assert checks_by_name(approved)["no_unapproved_restatement"].passed
    assert publish.versions(lake, OCT) == [1, 2]
    manifest2 = json.loads((month_dir / "v=2" / "manifest.json").read_text())
    assert manifest2["restatement_note"] == "late clicks for Oct 5 landed after close"
    assert any("total_hours" in r for r in manifest2["restated"])
    assert (v1 / "kpis.parquet").read_bytes() == v1_bytes


def test_weekly_pack(spark, lake, lake_resource) -> None:
    write_fixture(lake)
    result = _materialize(
        executive_weekly,
        WEEK.isoformat(),
        lake_resource,
        dg.DagsterInstance.ephemeral(),
        as_of="2025-10-20T07:00:00Z",
    )
    assert result.success
    checks = checks_by_name(result)
    assert set(checks) == {
        "inputs_not_stale_or_incomplete",
        "no_nan_or_unexplained_null",
        "mrr_bridge_balances",
        "movements_match_growth",
    }
    assert all(c.passed for c in checks.values()), {n: c.description for n, c in checks.items()}
    row = lake.read("executive_weekly").filter(pl.col("segment") == "all").row(0, named=True)
    assert row["week_start"] == WEEK and row["dau_wau"] == pytest.approx(12 / 14)
    html = (lake.reports / "executive" / "executive_weekly_2025-10-06.html").read_text()
    _assert_self_contained(html)
    assert "DAU/WAU" in html and "MRR trend" in html
