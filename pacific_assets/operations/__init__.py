"""Operations: cross-cutting policies, on-call routing, catalog refresh."""

import dagster as dg

defs = dg.Definitions()
