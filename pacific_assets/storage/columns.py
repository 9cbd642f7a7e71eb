"""The columns of the ``quarantine`` table (docs/staging.md, "The quarantine")."""

from __future__ import annotations

import polars as pl

from pacific_assets.storage.schema import Column, declare

QUARANTINE = declare(
    "quarantine",
    Column(
        "quarantine_key",
        pl.String,
        "<source>__<partition key>: the lake partition, so a re-run replaces its own rows",
        False,
    ),
    Column("source", pl.String, "the landed source the row came from", False),
    Column("partition_key", pl.String, "the staging partition the row was read for", False),
    Column(
        "file",
        pl.String,
        "the landed file, relative to landing/ (or kafka:<topic>/<partition>)",
        False,
    ),
    Column(
        "row_number",
        pl.Int64,
        "the 1-based data record in the file (CSV header not counted), or the Kafka offset",
        False,
    ),
    Column(
        "column",
        pl.String,
        "the first offending column in contract order; null when the row could not be read",
    ),
    Column("reason", pl.String, "why the row was quarantined (every problem, '; '-joined)", False),
    Column("raw", pl.String, "the record exactly as landed, up to 4 kB", False),
)
