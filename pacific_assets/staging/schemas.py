"""The pandera schema of every staging table, derived from the landing contract.

One builder, ``contract_validation_schema(name)``, turns a ``contracts.LandingSource`` into a
``pandera.polars.DataFrameSchema`` (the validation, not the table's storage schema): the
contract's dtypes, its required (non-null) columns, its allowed values, and a finiteness check on
every money/float column. What the contract cannot say in a dtype — "a service period ends after
it starts", "seats are never negative" — lives in ``ROW_RULES`` below, one line per rule, each
naming the column a failing row is quarantined under. ``UNIQUE_KEYS`` lists the keys the
contract implies are unique; they are asset checks, not quarantine reasons (a duplicate is not a
malformed row, and dropping one copy would be a guess).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

import polars as pl

from pacific_assets.contracts import SOURCES, LandingSource

if TYPE_CHECKING:
    import pandera.polars as pa

MISSING_REQUIRED = "missing required value"
NOT_FINITE = "not a finite number"
_MONTH_RE = r"^\d{4}-(0[1-9]|1[0-2])$"


@dataclass(frozen=True)
class RowRule:
    """A per-row condition a valid row satisfies; a null result means "does not apply"."""

    column: str  # the column a failing row is reported under
    message: str  # the quarantine reason
    ok: pl.Expr


@dataclass(frozen=True)
class UniqueKey:
    """Columns that identify a row within a scope: "file", "partition" or "table"."""

    columns: tuple[str, ...]
    scope: str
    why: str
    #: "WARN" when downstream already keeps the latest row per key, "ERROR" when a copy would count twice.
    severity: str = "WARN"

    @property
    def check_name(self) -> str:
        return f"unique_{'_'.join(self.columns)}_per_{self.scope}"


def _month_format(col: str = "month") -> RowRule:
    return RowRule(col, "not a YYYY-MM month", pl.col(col).str.contains(_MONTH_RE))


def _not_negative(col: str) -> RowRule:
    return RowRule(col, f"{col} must not be negative", pl.col(col) >= 0)


ROW_RULES: dict[str, tuple[RowRule, ...]] = {
    "invoice_lines": (
        RowRule(
            "service_end",
            "service_end must be after service_start (periods are [start, end))",
            pl.col("service_end") > pl.col("service_start"),
        ),
        RowRule(
            "quantity",
            "quantity must not be negative (except on refund lines)",
            pl.when(pl.col("status") != "refunded").then(pl.col("quantity") >= 0),
        ),
        RowRule(
            "amount_usd",
            "refund lines carry a negative amount_usd",
            pl.when(pl.col("status") == "refunded").then(pl.col("amount_usd") < 0),
        ),
        RowRule(
            "product",
            "product must be seat_license, feature:<name> or support:<tier>",
            pl.col("product").str.contains(r"^(seat_license|feature:.+|support:.+)$"),
        ),
        RowRule(
            "paid_at",
            "status is paid but paid_at is empty",
            pl.when(pl.col("status") == "paid").then(pl.col("paid_at").is_not_null()),
        ),
    ),
    "ops_expenses": (_month_format(),),
    "salaries": (
        _month_format(),
        _not_negative("headcount"),
        _not_negative("salary_cost_usd"),
    ),
    "account_events": (
        _not_negative("seats"),
        _not_negative("mrr_usd"),
    ),
    "directory_users": (
        RowRule(
            "deactivated_at",
            "deactivated_at is before created_at",
            pl.col("deactivated_at") >= pl.col("created_at"),
        ),
    ),
    "experiment_registry": (
        RowRule(
            "end_date",
            "end_date must be after start_date",
            pl.col("end_date") > pl.col("start_date"),
        ),
        RowRule(
            "weights",
            "weights must list one number per variant",
            pl.col("weights").str.split("|").list.len()
            == pl.col("variants").str.split("|").list.len(),
        ),
        RowRule(
            "weights",
            "weights must be numbers summing to 1",
            (
                pl.col("weights")
                .str.split("|")
                .list.eval(pl.element().str.strip_chars().cast(pl.Float64, strict=False))
                .list.eval(pl.element().fill_null(float("nan")))
                .list.sum()
                - 1.0
            ).abs()
            < 1e-6,
        ),
    ),
    "filings": (_month_format(),),
}

UNIQUE_KEYS: dict[str, tuple[UniqueKey, ...]] = {
    "invoice_lines": (
        UniqueKey(
            ("line_id", "status"),
            "file",
            "an export holds each line once per status change",
        ),
    ),
    "ops_expenses": (UniqueKey(("expense_id",), "partition", "one row per expense per month"),),
    "salaries": (UniqueKey(("month", "team"), "partition", "salaries are aggregated by team"),),
    "accounts": (UniqueKey(("account_id",), "file", "an export holds each account once"),),
    "account_events": (
        UniqueKey(("event_id",), "table", "a CRM event is recorded exactly once", "ERROR"),
    ),
    "experiment_registry": (
        UniqueKey(("experiment_id",), "table", "one registry row per experiment", "ERROR"),
    ),
    "filings": (UniqueKey(("month",), "partition", "one filing per month per landing month"),),
}


def allowed_message(values: tuple[str, ...]) -> str:
    return f"not one of the allowed values ({', '.join(values)})"


@cache
def contract_validation_schema(name: str) -> pa.DataFrameSchema:
    """The pandera schema for ``stg_<name>``'s contract columns (built once per source).

    pandera is imported here, not at module level: it pulls in pandas and pyspark.pandas
    (~2 s), and loading the code location must stay fast.
    """
    import pandera.polars as pa

    def finite() -> pa.Check:
        return pa.Check(
            lambda data: data.lazyframe.select(pl.col(data.key).is_finite()),
            error=NOT_FINITE,
        )

    def row_rule_check(rule: RowRule) -> pa.Check:
        return pa.Check(
            lambda data, ok=rule.ok: data.lazyframe.select(ok.fill_null(True)),
            error=rule.message,
        )

    source: LandingSource = SOURCES[name]
    columns = {}
    for col, dtype in source.columns.items():
        checks = []
        if col in source.allowed:
            values = source.allowed[col]
            checks.append(pa.Check.isin(list(values), error=allowed_message(values)))
        if dtype == pl.Float64:
            checks.append(finite())
        columns[col] = pa.Column(dtype, nullable=col not in source.required, checks=checks)
    return pa.DataFrameSchema(
        columns,
        checks=[row_rule_check(r) for r in ROW_RULES.get(name, ())],
        strict=True,
        name=source.staging_table,
    )


def rule_columns(name: str) -> dict[str, str]:
    """Quarantine column for each dataframe-level rule, keyed by its message (pandera reports
    a failing dataframe check by its message, so messages must be unique within a source)."""
    rules = ROW_RULES.get(name, ())
    by_message = {r.message: r.column for r in rules}
    if len(by_message) != len(rules):
        raise ValueError(f"{name}: two row rules share a message; make each message unique")
    return by_message
