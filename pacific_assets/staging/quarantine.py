"""How a step that writes the ``quarantine`` table reports it to Dagster.

The table is written by every step that reads landed files (the ``stg_`` assets, and the click
ingestion and ``stg_clicks`` of engagement), each replacing only its own partitions
(``storage/quarantine.py``). No step computes the table as a whole, so it is not a step of its
own: it is an asset declared downstream of its writers (``staging.assets.quarantine_spec``),
and each writer reports the partitions it wrote as a materialization of it (docs/staging.md,
"The quarantine").
"""

from collections.abc import Sequence

import dagster as dg

from pacific_assets.storage.quarantine import QUARANTINE_TABLE


def report_quarantine(
    context: dg.AssetExecutionContext, source: str, rows: int, partitions: Sequence[str] = ()
) -> None:
    """Record a step's write of quarantine partitions as a materialization of the table."""
    metadata: dict[str, object] = {"source": source, "rows_written": rows}
    if partitions:
        metadata["lake_partitions"] = dg.MetadataValue.json(sorted(partitions))
    context.log_event(
        dg.AssetMaterialization(
            asset_key=QUARANTINE_TABLE,
            description=f"{rows} row(s) of source {source} quarantined",
            metadata=metadata,
        )
    )
