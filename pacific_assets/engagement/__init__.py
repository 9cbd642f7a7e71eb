"""engagement pipeline: assets, checks, schedules and sensors side by side."""

import dagster as dg

defs = dg.Definitions()
