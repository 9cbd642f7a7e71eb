"""Quarantine: malformed rows are kept, with where they came from and why, never dropped.

One lake table, ``quarantine``, partitioned by ``<source>__<partition key>`` so that re-running a
staging partition replaces exactly its own quarantined rows (idempotent) and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import dagster as dg
import polars as pl

from pacific_assets.storage.columns import QUARANTINE
from pacific_assets.storage.lake import Lake, PartitionWrite

QUARANTINE_TABLE = "quarantine"
QUARANTINE_SCHEMA = QUARANTINE.polars()
#: Asset metadata of a step that writes the quarantine table: the quarantine asset is downstream
#: of every asset marked so, whichever pipeline declares it (``staging.assets.quarantine_spec``).
WRITES_QUARANTINE = "pacific/writes_quarantine"


def writes_quarantine(
    writers: Iterable[dg.AssetsDefinition],
) -> Callable[[dg.AssetSpec], dg.AssetSpec]:
    """Marks the specs of ``writers`` as quarantine writers (for ``map_asset_specs``)."""
    keys = {key for asset in writers for key in asset.keys}

    def mark(spec: dg.AssetSpec) -> dg.AssetSpec:
        if spec.key not in keys:
            return spec
        return spec.merge_attributes(metadata={WRITES_QUARANTINE: True})

    return mark


def quarantine_writers(defs: dg.Definitions) -> list[dg.AssetKey]:
    """The keys of every asset of ``defs`` marked as a quarantine writer."""
    nodes = defs.resolve_asset_graph().asset_nodes
    return [n.key for n in nodes if n.metadata.get(WRITES_QUARANTINE)]


#: What a caller hands ``write_quarantine`` per row; the key columns are filled in there.
QUARANTINE_ROW_SCHEMA = pl.Schema(
    {
        n: t
        for n, t in QUARANTINE_SCHEMA.items()
        if n in ("file", "row_number", "column", "reason", "raw")
    }
)


def quarantine_key(source: str, partition_key: str) -> str:
    return f"{source}__{partition_key}"


def empty_quarantine() -> pl.DataFrame:
    return QUARANTINE_SCHEMA.to_frame()


def write_quarantine(
    lake: Lake, source: str, partition_key: str, rows: pl.DataFrame
) -> PartitionWrite:
    """Replace the quarantined rows of one source partition (an empty frame clears them).

    ``rows`` has the columns of ``QUARANTINE_ROW_SCHEMA``; the key columns are filled here.
    """
    key = quarantine_key(source, partition_key)
    frame = (
        rows.with_columns(
            pl.lit(key).alias("quarantine_key"),
            pl.lit(source).alias("source"),
            pl.lit(partition_key).alias("partition_key"),
            pl.col("raw").cast(pl.String).str.slice(0, 4096),
        )
        .select(QUARANTINE_SCHEMA.names())
        .cast(dict(QUARANTINE_SCHEMA))
    )
    return lake.write_partition(QUARANTINE_TABLE, "quarantine_key", key, frame)
