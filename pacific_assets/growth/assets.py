"""Growth assets: CRM events -> status history -> daily account facts -> weekly / monthly growth.

    stg_account_events ──> account_status_history ──> account_status_daily ──┬─> account_growth
       (daily, by export day)    (unpartitioned)          (daily, `date`)      │   (weekly, Monday)
                                                                               └─> account_growth_monthly

Why this shape:
- The history is rebuilt from *all* events on every run: a late CRM event can change any step
  after it, and replaying a few events per account is cheap.
- Daily facts come from the history alone (status at the end of each UTC day and the day's
  movements), so any range of days can be rebuilt in one pass, in any order.
- Weeks and months are sums over daily facts: Monday weeks do not nest in months, so the monthly
  table never adds up weeks (docs/ARCHITECTURE.md "The graph").
"""

import datetime as dt
from pathlib import Path

import dagster as dg
import polars as pl

from pacific_assets.contracts import ACCOUNT_EVENTS
from pacific_assets.growth.columns import ACCOUNT_GROWTH, ACCOUNT_STATUS_DAILY
from pacific_assets.growth.lifecycle import RENEWAL_WINDOW_DAYS, build_history
from pacific_assets.orchestration import Read, partitions, publish_slices, reads_metadata
from pacific_assets.previews import markdown_frame
from pacific_assets.resources import LakeResource
from pacific_assets.storage.duck import conform, lake_view, run_sql, sql_text
from pacific_assets.storage.lake import Lake

GROUP = "growth"
STG_EVENTS = "stg_account_events"
HISTORY = "account_status_history"
DAILY = "account_status_daily"
WEEKLY = "account_growth"
MONTHLY = "account_growth_monthly"
IMPUTED_CHECK = "imputed_status_steps"
UNIQUE_DAY_CHECK = "one_row_per_account_and_day"
_PREVIEW_ROWS = 10
SQL_DIR = Path(__file__).parent / "sql"

#: Measures of account_growth and account_growth_monthly, in column order, with their types.
#: The measures of account_growth and account_growth_monthly (after their period column).
GROWTH_MEASURES: dict[str, pl.DataType] = dict(ACCOUNT_GROWTH.polars(ACCOUNT_GROWTH.names[1:]))

DAILY_SCHEMA = ACCOUNT_STATUS_DAILY.polars()


# -- the computations, independent of Dagster ----------------------------------------------------
def read_crm_events(lake: LakeResource) -> pl.DataFrame:
    """Every staged CRM event, once (empty frame with the contract columns when none)."""
    files = lake.lake.partition_files(STG_EVENTS)
    if not files:
        return pl.DataFrame(schema=ACCOUNT_EVENTS.columns)
    with lake.duckdb() as con:
        return run_sql(con, SQL_DIR, "crm_events", {"files": files}).pl()


def compute_daily(lake: LakeResource, start: dt.date, end: dt.date) -> pl.DataFrame:
    """Daily account facts for ``[start, end]`` from the stored status history."""
    files = lake.lake.partition_files(HISTORY)
    if not files:
        raise dg.Failure(
            description=f"{HISTORY} has not been materialized yet: materialize it before "
            f"{DAILY} (growth_daily_status_schedule runs them together)."
        )
    with lake.duckdb() as con:
        # small (one row per lifecycle step) and read many times by the query: a table
        con.read_parquet(files, hive_partitioning=False).create("history")
        frame = run_sql(
            con,
            SQL_DIR,
            "account_status_daily",
            {"start": start, "end": end, "window_days": RENEWAL_WINDOW_DAYS},
        ).pl()
    return conform(frame, DAILY_SCHEMA)


def period_bounds(
    pdef: dg.TimeWindowPartitionsDefinition, keys: list[str]
) -> list[tuple[dt.date, dt.date]]:
    """(first day, exclusive end day) of each partition key."""
    out = []
    for key in keys:
        window = pdef.time_window_for_partition_key(key)
        out.append((window.start.date(), window.end.date()))
    return out


def missing_daily_partitions(lake: Lake, start: dt.date, end: dt.date) -> list[str]:
    """Days in ``[start, end)`` whose daily facts are not in the lake."""
    wanted = [str(start + dt.timedelta(days=i)) for i in range((end - start).days)]
    present = set(lake.partition_keys(DAILY))
    return [d for d in wanted if d not in present]


def compute_periods(
    lake: LakeResource, bounds: list[tuple[dt.date, dt.date]], period_col: str
) -> pl.DataFrame:
    """Growth measures per period from the daily facts of every day in the periods."""
    start, end = bounds[0][0], bounds[-1][1]
    missing = missing_daily_partitions(lake.lake, start, end)
    if missing:
        shown = ", ".join(missing[:10]) + (" ..." if len(missing) > 10 else "")
        raise dg.Failure(
            description=f"{DAILY} is missing {len(missing)} day(s) needed for {period_col} "
            f"{bounds[0][0]}..{bounds[-1][0]}: {shown}. Materialize those {DAILY} partitions "
            "first (growth_daily_status_schedule or its keeper sensor, growth_late_crm_events)."
        )
    days = [str(start + dt.timedelta(days=i)) for i in range((end - start).days)]
    periods = pl.DataFrame(
        bounds, schema={"period_start": pl.Date, "period_end": pl.Date}, orient="row"
    )
    with lake.duckdb() as con:
        con.register("periods", periods.to_arrow())
        # accounts x days can be large: a view, so DuckDB streams the Parquet files
        lake_view(con, lake.lake, DAILY, DAILY_SCHEMA, days, view="daily")
        frame = run_sql(con, SQL_DIR, "growth_periods").pl()
    frame = frame.with_columns(
        (
            pl.col("new_accounts") + pl.col("reactivated_accounts") - pl.col("churned_accounts")
        ).alias("net_change_accounts"),
        (
            pl.col("new_mrr_usd")
            + pl.col("expansion_mrr_usd")
            + pl.col("reactivation_mrr_usd")
            - pl.col("contraction_mrr_usd")
            - pl.col("churned_mrr_usd")
        )
        .round(2)
        .alias("net_new_mrr_usd"),
    ).rename({"period_start": period_col})
    return conform(frame, pl.Schema({period_col: pl.Date, **GROWTH_MEASURES}))


def imputed_steps_result(history: pl.DataFrame) -> dg.AssetCheckResult:
    """WARN listing the accounts whose CRM lifecycle misses a required step (for Accounts)."""
    imputed = history.filter(pl.col("imputed"))
    by_account = (
        imputed.group_by("account_id")
        .agg(
            pl.len().alias("imputed_steps"),
            pl.col("event_type").str.join(", ").alias("missing_steps"),
            pl.col("valid_from").min().dt.date().alias("first_effective"),
            pl.col("imputed_evidence").first().alias("evidence"),
        )
        .sort("first_effective", "account_id")
    )
    accounts = by_account["account_id"].to_list()
    return dg.AssetCheckResult(
        check_name=IMPUTED_CHECK,
        asset_key=HISTORY,
        passed=not accounts,
        severity=dg.AssetCheckSeverity.WARN,
        description=(
            "every lifecycle transition has its required predecessor"
            if not accounts
            else f"{len(accounts)} account(s) miss a required CRM step ({imputed.height} step(s) "
            "imputed). Accounts team: record the missing step in the CRM; the next run replaces "
            "the imputation."
        ),
        metadata={
            "accounts": dg.MetadataValue.json(accounts),
            "imputed_steps": imputed.height,
            "imputed_accounts": len(accounts),
            "details": dg.MetadataValue.md(markdown_frame(by_account, limit=200)),
        },
    )


# -- the assets --------------------------------------------------------------------------------
@dg.asset(
    name=HISTORY,
    group_name=GROUP,
    deps=[dg.AssetDep(STG_EVENTS)],
    check_specs=[
        dg.AssetCheckSpec(
            IMPUTED_CHECK,
            asset=HISTORY,
            description=(
                "WARN when a CRM transition misses its required predecessor (e.g. renewed "
                "without renewal_opened in that term, seats_changed before subscribed, "
                "reactivated without churned). Lists the accounts and the evidence for the "
                "Accounts team; the missing step is imputed with imputed=true "
                "(docs/semantic-contract.md)."
            ),
        )
    ],
    description=(
        "Account status history: one row per account and lifecycle step, valid over "
        "`[valid_from, valid_to)` (valid_to null = in force), with status, plan, seats, contracted "
        "MRR (0 when not paying), contract end, `imputed` and `imputed_evidence`. Built by "
        "replaying every CRM event through the lifecycle state machine "
        "(`pacific_assets/growth/lifecycle.py`, docs/growth.md), ordered by effective_at, "
        "recorded_at, event_id. A step the CRM misses is imputed at its successor's effective_at "
        "(zero-length row)."
    ),
)
def account_status_history(
    context: dg.AssetExecutionContext, lake: LakeResource
) -> dg.MaterializeResult:
    store = lake.for_asset(context)
    events = read_crm_events(lake)
    history = build_history(events)
    publish_slices(
        store, HISTORY, history, {"through_day": (sql_text(SQL_DIR, "history_slices"), True)}
    )
    store.write_table(HISTORY, history)
    imputed = history.filter(pl.col("imputed"))
    context.log.info(
        f"{HISTORY}: {events.height} events -> {history.height} steps, "
        f"{imputed.height} imputed on {imputed['account_id'].n_unique()} account(s)"
    )
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": history.height,
            "events_replayed": events.height,
            "accounts": history["account_id"].n_unique(),
            "imputed_steps": imputed.height,
            "latest_effective_at": str(events["effective_at"].max()) if events.height else "",
            "preview": dg.MetadataValue.md(
                markdown_frame(
                    history.select(
                        "account_id",
                        "step",
                        "valid_from",
                        "status",
                        "mrr_usd",
                        "event_type",
                        "imputed",
                    )
                )
            ),
        },
        check_results=[imputed_steps_result(history)],
    )


@dg.asset(
    name=DAILY,
    group_name=GROUP,
    partitions_def=partitions.daily,
    backfill_policy=partitions.single_run_backfill,
    deps=[dg.AssetDep(HISTORY)],
    # day d reads the history's steps up to d: a late event re-materializes its day and after
    metadata=reads_metadata(Read(HISTORY, "slice", name="through_day")),
    check_specs=[
        dg.AssetCheckSpec(
            UNIQUE_DAY_CHECK,
            asset=DAILY,
            description="Exactly one row per account and day (two rows would double-count "
            "MRR downstream).",
        )
    ],
    description=(
        "Daily account facts (partition column `date`): for every account that exists, its "
        "status at the end of the UTC day (status, plan, seats, mrr_usd, contract_end, "
        "is_paying) and the movements of the lifecycle steps that took effect that day — new / "
        "reactivated / churned / renewed account, seats added/removed, new / expansion / contraction / churned "
        "/ reactivation MRR, is_renewing (paying, contract end within 90 days) and the renewal "
        "expansion $; `imputed` = an imputed step took effect that day. A day depends on every "
        "event effective up to its end, so a late CRM event re-materializes its day and every "
        "later day (status carries forward)."
    ),
)
def account_status_daily(
    context: dg.AssetExecutionContext, lake: LakeResource
) -> dg.MaterializeResult:
    store = lake.for_asset(context)
    keys = context.partition_keys
    start, end = dt.date.fromisoformat(keys[0]), dt.date.fromisoformat(keys[-1])
    frame = compute_daily(lake, start, end)
    store.write_partitions(DAILY, "date", keys, frame)
    last = frame.filter(pl.col("date") == end)
    dupes = frame.group_by("date", "account_id").len().filter(pl.col("len") > 1)
    context.log.info(f"{DAILY}: {frame.height} rows for {len(keys)} day(s) {keys[0]}..{keys[-1]}")
    return dg.MaterializeResult(
        metadata={
            **({"dagster/row_count": frame.height} if len(keys) == 1 else {}),
            "rows": frame.height,
            "partition_range": f"{keys[0]}..{keys[-1]}",
            "accounts_on_last_day": last.height,
            "paying_accounts_on_last_day": int(last["is_paying"].sum()),
            "mrr_on_last_day_usd": round(float(last.filter("is_paying")["mrr_usd"].sum()), 2),
            "imputed_account_days": int(frame["imputed"].sum()),
            "preview": dg.MetadataValue.md(
                markdown_frame(
                    last.select("date", "account_id", "status", "seats", "mrr_usd", "is_paying")
                )
            ),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name=UNIQUE_DAY_CHECK,
                passed=dupes.is_empty(),
                severity=dg.AssetCheckSeverity.ERROR,
                description="one row per account and day"
                if dupes.is_empty()
                else f"{dupes.height} (date, account_id) pairs appear more than once",
                metadata={"examples": dg.MetadataValue.md(markdown_frame(dupes))},
            )
        ],
    )


def _growth_asset(name: str, pdef: dg.TimeWindowPartitionsDefinition, period_col: str, what: str):
    @dg.asset(
        name=name,
        group_name=GROUP,
        partitions_def=pdef,
        backfill_policy=partitions.single_run_backfill,
        deps=[dg.AssetDep(DAILY, partition_mapping=dg.TimeWindowPartitionMapping())],
        description=(
            f"Account growth per {what} (partition column `{period_col}`), summed from the daily "
            "account facts (never from other grains). Accounts: new (first paid subscription), "
            "churned (paying -> not paying), renewed, reactivated (paying again after a churn), "
            "net change = new + reactivated - churned. Seats added/removed on accounts paying "
            "before and after the change. MRR movements as ChartMogul/Stripe, positive amounts: "
            "new, expansion, contraction, churned, reactivation; net new = new + expansion + "
            "reactivation - contraction - churned. Renewing accounts = accounts about to renew "
            "(paying, contract end within 90 days) at the end of the period; renewal expansion $ "
            "= MRR at renewal minus MRR when the renewal window opened, for renewals in the "
            "period. Imputed accounts = accounts with an imputed CRM step in the period. "
            "paying_accounts_end and mrr_end_usd: the stock on the period's last day. "
            "Definitions: docs/growth.md."
        ),
    )
    def _asset(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:
        store = lake.for_asset(context)
        keys = context.partition_keys
        frame = compute_periods(lake, period_bounds(pdef, keys), period_col)
        store.write_partitions(name, period_col, keys, frame)
        context.log.info(f"{name}: {len(keys)} {what}(s) {keys[0]}..{keys[-1]}")
        return dg.MaterializeResult(
            metadata={
                **({"dagster/row_count": frame.height} if len(keys) == 1 else {}),
                "partition_range": f"{keys[0]}..{keys[-1]}",
                "new_accounts": int(frame["new_accounts"].sum()),
                "churned_accounts": int(frame["churned_accounts"].sum()),
                "net_new_mrr_usd": round(float(frame["net_new_mrr_usd"].sum()), 2),
                "imputed_accounts_max": int(frame["imputed_accounts"].max() or 0),
                "preview": dg.MetadataValue.md(markdown_frame(frame.tail(_PREVIEW_ROWS))),
            }
        )

    return _asset


account_growth = _growth_asset(WEEKLY, partitions.weekly, "week_start", "Monday week")
account_growth_monthly = _growth_asset(MONTHLY, partitions.monthly, "month_start", "month")

GROWTH_ASSETS = [
    account_status_history,
    account_status_daily,
    account_growth,
    account_growth_monthly,
]
