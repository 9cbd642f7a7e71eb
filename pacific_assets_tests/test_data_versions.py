"""Each partition's content digest is its Dagster data version, with as few events as Dagster allows.

A step that writes one partition hands the digest to Dagster (one materialization, the run's);
a range step's partitions get one reported materialization each after the run, because Dagster
gives every partition of one step output the same version (dagster-io/dagster#34013). The UI's
view of the same facts is ``operations/test_data_versions_ui.py``.
"""

from __future__ import annotations

import shutil

import dagster as dg

from pacific_assets.orchestration.dagster_compat import event_data_version
from pacific_assets.orchestration.lineage import REPORTED_BY_KEY, LakeState
from pacific_assets.resources import LakeResource
from pacific_assets_tests.runs import range_tags

INVOICES = "stg_invoice_lines"


def _materializations(instance: dg.DagsterInstance, key: str) -> list[dg.EventLogRecord]:
    return list(
        instance.fetch_materializations(dg.AssetKey(key), limit=100, ascending=True).records
    )


def test_range_and_single_partition_runs_record_the_lineage_digest(sim_data, tmp_path) -> None:
    from pacific_assets.definitions import defs

    root = tmp_path / "data"
    shutil.copytree(sim_data.landing, root / "landing")
    lake = LakeResource(data_root=str(root))
    resources = {**defs.resources, "lake": lake}
    with dg.instance_for_test() as instance:
        for kwargs in (
            {"tags": range_tags("2025-09-01", "2025-09-03")},
            {"partition_key": "2025-09-04"},
        ):
            run = dg.materialize(
                list(defs.assets),
                selection=[INVOICES],
                resources=resources,
                instance=instance,
                **kwargs,
            )
            assert run.success
        state = LakeState(lake.lake)
        keys = ["2025-09-01", "2025-09-02", "2025-09-03", "2025-09-04"]
        assert state.keys(INVOICES) == keys
        records = _materializations(instance, INVOICES)
        by_key: dict[str, list[dg.EventLogRecord]] = {}
        for record in records:
            by_key.setdefault(record.partition_key, []).append(record)
        for key in keys:
            latest = by_key[key][-1].asset_materialization
            assert event_data_version(latest) == state.content(INVOICES, key), key
            assert latest.tags["dagster/data_version_is_user_provided"] == "true"
        # the range step's own events give its three partitions one version; each then has its
        # own reported (runless) one, which keeps the run's provenance (code version)
        for key in keys[:3]:
            run_event, reported = by_key[key]
            assert run_event.run_id and not reported.run_id
            assert REPORTED_BY_KEY in reported.asset_materialization.metadata
            code_version = "dagster/code_version"
            assert (
                reported.asset_materialization.tags[code_version]
                == (run_event.asset_materialization.tags[code_version])
            )
        # a one-partition step needs no second event: its own carries the digest
        [single] = by_key["2025-09-04"]
        assert single.run_id and REPORTED_BY_KEY not in single.asset_materialization.metadata
