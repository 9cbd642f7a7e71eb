"""A published number, or null with the reason it is null: the value behind every metric column
pair ``<name>`` / ``<name>_null_reason``.

Profit and the investor rollup compute their figures with this one type, so both obey the same
rule (docs/profit.md "Tables (the metric dictionary)", docs/investor.md "Metric dictionary"): a null never appears without a reason,
and NaN or inf never appear at all.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    """A finite number (``value``), or ``None`` with ``null_reason`` saying why; never both."""

    value: float | None
    null_reason: str | None = None

    def __post_init__(self) -> None:
        if (self.value is None) == (self.null_reason is None):
            raise ValueError("a Figure has either a value or a null_reason, not both or neither")
        if self.value is not None and not math.isfinite(self.value):
            raise ValueError(f"a Figure value must be finite, got {self.value!r}")

    @classmethod
    def null(cls, reason: str) -> Figure:
        """A figure that cannot be computed, e.g. ``Figure.null("input_missing:unit_profit")``."""
        return cls(None, reason)
