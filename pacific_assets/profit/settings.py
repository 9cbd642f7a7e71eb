"""Profit settings that finance may change: capex life, reconciliation tolerance, cost driver.

One resource (key ``profit_settings``) so that the assets and the checks that read a setting
always agree. Defaults come from the environment, read once when the code location loads (no data
access), so an operator changes them without touching code:

- ``PACIFIC_CAPEX_LIFE_MONTHS`` (default 36): straight-line life of a capex purchase.
- ``PACIFIC_RECONCILIATION_TOLERANCE`` (default 0.005 = 0.5 %): relative variance against the
  filing above which a month is a mismatch.
- ``PACIFIC_COST_ALLOCATION_DRIVER`` (default ``seats``): how shared costs are split over
  accounts, ``seats`` (paying seat-days) or ``usage`` (engagement hours).
"""

from __future__ import annotations

from typing import Literal

import dagster as dg

from pacific_assets import settings

#: Straight-line life of capex when nothing else is configured (docs/semantic-contract.md "Capex vs
#: opex").
#: Read at import: the capex lookback is a partition mapping, built when the definitions load.
_CONFIGURED = settings.load()
DEFAULT_CAPEX_LIFE_MONTHS = _CONFIGURED.capex_life_months
DEFAULT_RECONCILIATION_TOLERANCE = _CONFIGURED.reconciliation_tolerance
DEFAULT_ALLOCATION_DRIVER = _CONFIGURED.cost_allocation_driver

AllocationDriver = Literal["seats", "usage"]


class ProfitSettings(dg.ConfigurableResource):
    """Accounting choices of the profit pipeline (see docs/profit.md, "Settings")."""

    #: Months over which a capex purchase is amortized, starting with its purchase month.
    capex_life_months: int = DEFAULT_CAPEX_LIFE_MONTHS
    #: A month reconciles when |computed - filed| / |filed| <= tolerance, for revenue and expenses.
    reconciliation_tolerance: float = DEFAULT_RECONCILIATION_TOLERANCE
    #: Driver for shared costs: "seats" (paying seat-days) or "usage" (engagement hours).
    allocation_driver: AllocationDriver = DEFAULT_ALLOCATION_DRIVER  # type: ignore[assignment]
    #: How many accounts / expense categories the reconciliation lists for the accountant.
    top_contributors: int = 5

    def validated(self) -> ProfitSettings:
        """Refuse settings that would produce nonsense rather than numbers."""
        if self.capex_life_months < 1:
            raise ValueError(f"capex_life_months must be >= 1, got {self.capex_life_months}")
        if not 0 <= self.reconciliation_tolerance < 1:
            raise ValueError(
                f"reconciliation_tolerance is a fraction in [0, 1), got {self.reconciliation_tolerance}"
            )
        if self.allocation_driver not in ("seats", "usage"):
            raise ValueError(
                f"allocation_driver must be 'seats' or 'usage', got {self.allocation_driver!r}"
            )
        return self
