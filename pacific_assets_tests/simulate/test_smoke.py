"""The shared ``sim_data`` fixture produces a landing zone and the truth tables."""

from __future__ import annotations

import json

from pacific_assets.contracts import TRUTH_TABLES
from pacific_assets.storage.lake import Lake


def test_sim_data_has_landing_truth_and_manifest(sim_data: Lake) -> None:
    assert (sim_data.landing / "experiments" / "registry.csv").exists()
    assert (sim_data.landing / "clickstream" / "_manifest.jsonl").exists()
    for name in TRUTH_TABLES:
        assert (sim_data.truth / f"{name}.parquet").exists(), name
    manifest = json.loads((sim_data.truth / "fault_manifest.json").read_text())
    off = {"schema_drift_files", "late_billing_exports", "corrected_billing_exports"}
    assert all(v >= 1 for k, v in manifest["counts"].items() if k not in off)
