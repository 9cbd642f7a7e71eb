"""The lineage record of one lake partition version: ``lineage.json`` beside its Parquet file.

The lake writes it with the version, before the version goes live, so the record travels with the
data (``storage/lake.py``); what goes in it, and how staleness is judged from it, is
``pacific_assets/orchestration/lineage.py`` (docs/ARCHITECTURE.md, "Storage: the lake").
"""

from __future__ import annotations

import bisect
import json
from dataclasses import asdict, dataclass, field

LINEAGE_FILE = "lineage.json"
#: The digest of something that is not there (no live partition, no slice value).
MISSING = "-"


@dataclass(frozen=True)
class Lineage:
    """The lineage record of one partition version (``lineage.json``)."""

    table: str
    key: str
    content: str
    rows: int
    inputs: str
    built_at: str
    run_id: str | None = None
    #: input -> number of upstream partitions read (or a short note for landing/clock inputs)
    read: dict[str, str] = field(default_factory=dict)
    #: input -> digest of that input alone (which input changed, when a partition is rebuilt)
    input_versions: dict[str, str] = field(default_factory=dict)
    #: unpartitioned state tables only: slice name -> {daily key -> digest}
    slices: dict[str, dict[str, str]] = field(default_factory=dict)
    #: the slices whose value for day d covers everything up to d (looked up at or before d)
    cumulative: list[str] = field(default_factory=list)

    def slice_value(self, name: str, key: str) -> str:
        values = self.slices.get(name, {})
        if name not in self.cumulative:
            return values.get(key, MISSING)
        keys = self._sorted_slice_keys(name)
        i = bisect.bisect_left(keys, key + "\x7f")  # the last key <= key
        return values[keys[i - 1]] if i else MISSING

    def _sorted_slice_keys(self, name: str) -> list[str]:
        """The slice's days in order, sorted once per record: a cumulative slice is looked up
        for every day of its readers (sorting it per lookup was quadratic in history). Kept
        outside the dataclass fields (records are frozen, and ``to_json`` writes fields only)."""
        cache = self.__dict__.setdefault("_sorted_slice_keys_cache", {})
        if name not in cache:
            cache[name] = sorted(self.slices.get(name, {}))
        return cache[name]

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Lineage:
        return cls(**json.loads(text))
