"""Where a pipeline records, per partition, whether what it published is complete.

Each pipeline with an SLA declares its source in its ``pipeline.py`` (``Pipeline.completeness``),
which stamps it on the pipeline's assets as metadata; the
newest-expected-partition check (``pacific_assets/operations/checks.py``) reads the metadata
from the asset graph, so operations names no pipeline's table (docs/operations.md §2). The keys
show in the asset's metadata in the Dagster UI.

This module depends on Dagster only: pipelines import it without importing operations.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import dagster as dg

TABLE_KEY = "pacific/completeness_table"
FLAG_KEY = "pacific/completeness_flag"
REASON_KEY = "pacific/completeness_reason"
ERROR_WHEN_OVERDUE_KEY = "pacific/completeness_error_when_overdue"


@dataclass(frozen=True)
class CompletenessSource:
    """The completeness record the SLA check requires to be true for a partition's window.

    ``table`` None: each asset's own rows (an asset whose table has no ``flag_col`` is judged on
    presence alone); otherwise the named table must have a partition for every day (week...) of
    the window and, with a ``flag_col``, its rows must say complete. ``flag_col`` None: presence
    is the record. ``error_when_overdue``: incomplete past the deadline is an ERROR (the output
    cannot be used as it is), not the default WARN (the data is honest about a gap nobody can
    fill).
    """

    table: str | None
    flag_col: str | None = "is_complete"
    reason_col: str | None = "reason"
    error_when_overdue: bool = False

    @classmethod
    def presence(cls) -> CompletenessSource:
        """A partition being there is the whole record (no flag, no other table)."""
        return cls(None, flag_col=None, reason_col=None)

    def declare(self, spec: dg.AssetSpec) -> dg.AssetSpec:
        """``spec`` with this source as metadata (for ``Definitions.map_asset_specs``)."""
        metadata: dict[str, str | bool] = {
            TABLE_KEY: self.table or spec.key.to_user_string(),
            ERROR_WHEN_OVERDUE_KEY: self.error_when_overdue,
        }
        if self.flag_col:
            metadata[FLAG_KEY] = self.flag_col
        if self.reason_col:
            metadata[REASON_KEY] = self.reason_col
        return spec.merge_attributes(metadata=metadata)

    @classmethod
    def declared_in(cls, metadata: Mapping[str, object]) -> CompletenessSource | None:
        """The source an asset's metadata declares (its table named in full), else None."""
        if TABLE_KEY not in metadata:
            return None

        def value(key: str) -> object:
            raw = metadata.get(key)
            return raw.value if isinstance(raw, dg.MetadataValue) else raw

        return cls(
            table=str(value(TABLE_KEY)),
            flag_col=value(FLAG_KEY) or None,  # type: ignore[arg-type]
            reason_col=value(REASON_KEY) or None,  # type: ignore[arg-type]
            error_when_overdue=bool(value(ERROR_WHEN_OVERDUE_KEY)),
        )
