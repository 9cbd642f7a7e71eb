"""The experiment registry, parsed: variants and weights as lists, the control variant named.

Registry rows that cannot be used (weights that are not positive numbers, a different number of
weights and variants, a duplicated experiment id, an end before the start) are left out and
reported — by the ``registry_valid`` check on ``ab_unit_daily`` — instead of failing every other
experiment's table.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from pacific_assets.experiments.inputs import REGISTRY_COLUMNS
from pacific_assets.storage.lake import Lake

REGISTRY_TABLE = "stg_experiment_registry"

REGISTRY_SCHEMA = {
    "experiment_id": pl.String,
    "unit_type": pl.String,
    "variants": pl.List(pl.String),
    "weights": pl.List(pl.Float64),
    "control_variant": pl.String,
    "start_date": pl.Date,
    "end_date": pl.Date,
    "primary_metric": pl.String,
}


@dataclass(frozen=True)
class Registry:
    experiments: pl.DataFrame  # REGISTRY_SCHEMA, one row per usable experiment
    problems: list[dict[str, str]]  # experiment_id, reason

    def get(self, experiment_id: str) -> dict | None:
        rows = self.experiments.filter(pl.col("experiment_id") == experiment_id).to_dicts()
        return rows[0] if rows else None


def control_of(variants: list[str]) -> str:
    """The variant named ``control`` if there is one, else the first listed."""
    return "control" if "control" in variants else variants[0]


def _problem(row: dict, duplicate: bool, variants: list[str], weights: list[float]) -> str | None:
    """Why a registry row cannot be used (None when it can)."""
    if duplicate:
        return "experiment_id listed twice in the registry (first row kept)"
    if row["unit_type"] not in ("account", "user"):
        return f"unit_type {row['unit_type']!r} is not account or user"
    if len(variants) < 2 or any(not v for v in variants) or len(set(variants)) != len(variants):
        return f"variants {row['variants']!r} must be at least two distinct names"
    if len(weights) != len(variants) or any(not 0 < w < float("inf") for w in weights):
        return f"weights {row['weights']!r} must be one positive number per variant"
    if row["start_date"] is None:
        return "start_date is empty"
    if row["end_date"] is not None and row["end_date"] <= row["start_date"]:
        return "end_date is not after start_date"
    return None


def parse_registry(raw: pl.DataFrame) -> Registry:
    """Validate and parse registry rows (the staging table's columns)."""
    out: list[dict] = []
    problems: list[dict[str, str]] = []
    seen: set[str] = set()
    order = [c for c in ("_row_number",) if c in raw.columns]
    for row in (raw.sort(order) if order else raw).iter_rows(named=True):
        exp = row["experiment_id"]
        variants = [v.strip() for v in (row["variants"] or "").split("|")]
        try:
            weights = [float(w) for w in (row["weights"] or "").split("|")]
        except ValueError:
            weights = []
        reason = _problem(row, exp in seen, variants, weights)
        if reason:
            where = (
                f" ({row['_source_file']} row {row['_row_number']})"
                if "_source_file" in row
                else ""
            )
            problems.append({"experiment_id": str(exp), "reason": reason + where})
            continue
        seen.add(exp)
        out.append(
            {
                "experiment_id": exp,
                "unit_type": row["unit_type"],
                "variants": variants,
                "weights": weights,
                "control_variant": control_of(variants),
                "start_date": row["start_date"],
                "end_date": row["end_date"],
                "primary_metric": row["primary_metric"],
            }
        )
    return Registry(pl.DataFrame(out, schema=REGISTRY_SCHEMA), problems)


def load_registry(lake: Lake) -> Registry:
    raw = lake.read(REGISTRY_TABLE)
    if raw.is_empty():
        return Registry(pl.DataFrame(schema=REGISTRY_SCHEMA), [])
    missing = [c for c in REGISTRY_COLUMNS if c not in raw.columns]
    if missing:
        raise ValueError(f"lake table {REGISTRY_TABLE!r} has no column(s) {missing}")
    return parse_registry(raw)
