"""One validation path for every source: parse strings into contract dtypes, then pandera.

``validate(frame, source)`` takes the all-string frame the landing reader produced and returns
the typed rows that passed and one quarantine record per row that did not. A row is quarantined
when a value does not parse (bad number, bad timestamp, ...), a required value is missing, a value
is not allowed, or a rule of ``schemas.ROW_RULES`` fails. Its record names the first offending
column (in contract order) and the reason; further problems of the same row are appended to the
reason as ``<column>: <reason>``. Nothing is dropped silently and nothing is "fixed".

Click ingestion reuses this module: pass any ``LandingSource`` and a string frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from pacific_assets.contracts import LandingSource
from pacific_assets.staging.landing import ROW_NUMBER, SOURCE_FILE
from pacific_assets.staging.schemas import (
    MISSING_REQUIRED,
    contract_validation_schema,
    rule_columns,
)

#: ISO-8601 with a zone: the contract's ``Z`` and, tolerated, explicit offsets (converted to UTC).
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S%.f%#z"
_IDX = "_idx"
PROBLEM_COLUMNS = ("file", "row_number", "column", "reason")


@dataclass(frozen=True)
class Validated:
    valid: pl.DataFrame  # typed contract columns + any pass-through columns, in input order
    problems: pl.DataFrame  # file, row_number, column, reason (+ pass-through columns): one per row


def _kind(dtype: pl.DataType) -> str:
    if dtype == pl.Int64:
        return "integer"
    if dtype == pl.Float64:
        return "number"
    if dtype == pl.Boolean:
        return "boolean (true/false)"
    if dtype == pl.Date:
        return "date (YYYY-MM-DD)"
    if isinstance(dtype, pl.Datetime):
        return "UTC timestamp (YYYY-MM-DDTHH:MM:SSZ)"
    return str(dtype)


def parse_expr(col: str, dtype: pl.DataType) -> pl.Expr:
    """String -> contract dtype; a value that does not parse becomes null (reported separately)."""
    text = pl.col(col)
    if dtype == pl.String:
        return text
    text = text.str.strip_chars()
    if dtype in (pl.Int64, pl.Float64):
        return text.cast(dtype, strict=False)
    if dtype == pl.Boolean:
        return text.str.to_lowercase().replace_strict(
            {"true": True, "false": False}, default=None, return_dtype=pl.Boolean
        )
    if dtype == pl.Date:
        return text.str.to_date("%Y-%m-%d", strict=False)
    if isinstance(dtype, pl.Datetime):
        return text.str.to_datetime(
            TIMESTAMP_FORMAT, time_unit="us", time_zone="UTC", strict=False
        ).cast(dtype)
    raise TypeError(f"no parser for column {col!r} of type {dtype}")


def typed_empty(source: LandingSource, extra: dict[str, pl.DataType] | None = None) -> pl.DataFrame:
    """An empty frame with the staging schema (so empty partitions keep the table's schema)."""
    return pl.DataFrame(schema={**source.columns, **(extra or {})})


def _parse_problems(
    strings: pl.DataFrame, typed: pl.DataFrame, source: LandingSource
) -> pl.DataFrame:
    """(idx, column, reason) for every non-empty value that did not parse."""
    exprs = [
        pl.when(strings[col].is_not_null() & typed[col].is_null())
        .then(pl.format(f"not a valid {_kind(dtype)}: '{{}}'", strings[col]))
        .alias(col)
        for col, dtype in source.columns.items()
        if dtype != pl.String
    ]
    if not exprs:
        return pl.DataFrame(schema={_IDX: pl.UInt32, "column": pl.String, "reason": pl.String})
    wide = typed.select(pl.col(_IDX), *exprs)
    return (
        wide.unpivot(index=_IDX, variable_name="column", value_name="reason")
        .drop_nulls("reason")
        .select(_IDX, "column", "reason")
    )


def _schema_problems(typed: pl.DataFrame, source: LandingSource) -> pl.DataFrame:
    """(idx, column, reason) for every pandera failure (lazy: all failures at once)."""
    import pandera.polars as pa  # lazy: see schemas.contract_validation_schema

    schema = contract_validation_schema(source.name)
    try:
        schema.validate(typed.select(list(source.columns)), lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
    else:
        return pl.DataFrame(schema={_IDX: pl.UInt32, "column": pl.String, "reason": pl.String})
    if cases["index"].null_count():
        # A failure without a row is a dtype/column error: a bug in the cast step, not bad data.
        raise RuntimeError(f"{source.staging_table}: schema error not tied to a row:\n{cases}")
    by_rule = rule_columns(source.name)
    # pandera counts NaN as null; NaN is reported by the finiteness check instead.
    nan_as_null = (pl.col("check") == "not_nullable") & pl.col("failure_case").is_not_null()
    return cases.filter(~nan_as_null).select(
        pl.col("index").cast(pl.UInt32).alias(_IDX),
        pl.when(pl.col("schema_context") == "DataFrameSchema")
        .then(pl.col("check").replace_strict(by_rule, default=None))
        .otherwise(pl.col("column"))
        .alias("column"),
        pl.when(pl.col("check") == "not_nullable")
        .then(pl.lit(MISSING_REQUIRED))
        .when(pl.col("schema_context") == "DataFrameSchema")
        .then(pl.col("check"))
        .otherwise(pl.format("{}: '{}'", pl.col("check"), pl.col("failure_case")))
        .alias("reason"),
    )


def validate(strings: pl.DataFrame, source: LandingSource) -> Validated:
    """Split an all-string landing frame into typed valid rows and quarantine records.

    ``strings`` holds the contract columns as String plus ``_source_file`` and ``_row_number``;
    any other column (e.g. the partition column) is passed through to both outputs.
    """
    contract = list(source.columns)
    extra = [c for c in strings.columns if c not in source.columns]
    strings = strings.with_row_index(_IDX)
    typed = strings.select(
        _IDX, *(parse_expr(c, t).alias(c) for c, t in source.columns.items()), *extra
    )
    parsed = _parse_problems(strings, typed, source)
    checked = _schema_problems(typed, source)
    # A value that did not parse is null now; its "missing required" echo is not a second problem.
    checked = checked.join(parsed.select(_IDX, "column"), on=[_IDX, "column"], how="anti")
    order = {c: i for i, c in enumerate(contract)}
    per_row = (
        pl.concat([parsed, checked])
        .with_columns(pl.col("column").replace_strict(order, default=len(order)).alias("_order"))
        .sort(_IDX, "_order")
        .group_by(_IDX, maintain_order=True)
        .agg(
            pl.col("column").first(),
            pl.format("{}", pl.col("reason").first()).alias("first_reason"),
            pl.format("{}: {}", pl.col("column"), pl.col("reason")).slice(1).alias("more"),
        )
        .select(
            _IDX,
            "column",
            pl.when(pl.col("more").list.len() > 0)
            .then(
                pl.concat_str(pl.col("first_reason"), pl.lit("; "), pl.col("more").list.join("; "))
            )
            .otherwise(pl.col("first_reason"))
            .alias("reason"),
        )
    )
    valid = typed.join(per_row.select(_IDX), on=_IDX, how="anti").sort(_IDX).drop(_IDX)
    problems = (
        typed.select(_IDX, *extra)
        .join(per_row, on=_IDX, how="inner")
        .sort(_IDX)
        .select(
            pl.col(SOURCE_FILE).alias("file"),
            pl.col(ROW_NUMBER).alias("row_number"),
            "column",
            "reason",
            *[c for c in extra if c not in (SOURCE_FILE, ROW_NUMBER)],
        )
    )
    return Validated(valid=valid.select(*contract, *extra), problems=problems)
