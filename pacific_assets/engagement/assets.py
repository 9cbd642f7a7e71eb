"""Engagement assets: landed clicks -> de-duplicated clicks -> user days -> account days.

Lineage::

    raw_clicks (ingestion: Kafka or simulator files -> landing + manifest)
      -> stg_clicks (daily by event_date)  ------------------------------+
           -> user_engagement_daily (daily) -> engagement_hours (daily)  |
                                           -> engagement_hours_by_team   |
           -> engagement_completeness (daily; baseline = 4 prior weeks) -+-> both hours tables

Every daily asset processes its whole partition range in one DuckDB pass over Parquet (bounded
by the lake resource's memory_limit, spilling to ``<data_root>/tmp``) and writes one lake
partition per day, empty days included. Metric definitions: docs/engagement.md.
"""

import datetime as dt
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pyarrow.parquet as pq

from pacific_assets.columns import duckdb_type
from pacific_assets.contracts import CLICKS
from pacific_assets.engagement.columns import (
    ENGAGEMENT_HOURS,
    ENGAGEMENT_HOURS_BY_TEAM,
    STG_CLICKS,
    USER_ENGAGEMENT_DAILY,
)
from pacific_assets.engagement.ingest import (
    QUARANTINE_SOURCE,
    ClicksKafkaResource,
    ingest_clicks,
    quarantine_messages,
)
from pacific_assets.engagement.landing import (
    CLOCK_ALLOWANCE,
    FIRST_DAY,
    ClickLanding,
    batch_number,
)
from pacific_assets.engagement.outage import SLA_WINDOW, OutageConfig, judge_days
from pacific_assets.orchestration import Read, partitions, reads_metadata
from pacific_assets.previews import markdown_frame
from pacific_assets.resources import LakeResource
from pacific_assets.staging.quarantine import report_quarantine
from pacific_assets.storage.duck import (
    conform,
    lake_view,
    run_sql,
    spill_next_to_lake,
    write_daily_from_table,
    write_daily_in_one_pass,
)
from pacific_assets.storage.lake import Lake
from pacific_assets.storage.quarantine import QUARANTINE_TABLE, quarantine_key

GROUP = "engagement"
DIRECTORY_TABLE = "stg_directory_users"
#: Above this share of a run's events landing > 48 h late, the late-share check warns.
MAX_LATE_SHARE = 0.02
BASELINE_WEEKS = OutageConfig().baseline_weeks
SQL_DIR = Path(__file__).with_name("sql")
#: Sessionizing more clicks than this in one DuckDB pass risks its memory limit (measured: 30 M
#: clicks in one pass ran out of a 1 GB limit); bigger ranges are cut into consecutive days.
MAX_CLICKS_PER_PASS = 4_000_000
_PREVIEW = 5

STG_CLICKS_SCHEMA = STG_CLICKS.polars()
USER_DAILY_SCHEMA = USER_ENGAGEMENT_DAILY.polars()
HOURS_SCHEMA = ENGAGEMENT_HOURS.polars()
HOURS_BY_TEAM_SCHEMA = ENGAGEMENT_HOURS_BY_TEAM.polars()
#: How DuckDB reads the landed click batches (the landing contract's types).
_DUCKDB_CLICK_COLUMNS = {c: duckdb_type(t) for c, t in CLICKS.columns.items()}


def _range(keys: list[str]) -> tuple[dt.date, dt.date]:
    return dt.date.fromisoformat(keys[0]), dt.date.fromisoformat(keys[-1])


def _range_meta(keys: list[str], rows: int) -> dict[str, object]:
    meta: dict[str, object] = {
        "partitions": len(keys),
        "partition_range": f"{keys[0]}..{keys[-1]}",
        "rows_written": rows,
    }
    if len(keys) == 1:
        meta["dagster/row_count"] = rows
    return meta


# -- ingestion -------------------------------------------------------------------------------
@dg.asset(
    group_name=GROUP,
    kinds={"kafka", "json"},
    check_specs=[
        dg.AssetCheckSpec(
            "no_malformed_clicks",
            asset="raw_clicks",
            description=(
                "WARN when this ingestion quarantined messages (not JSON, a required field "
                "missing, a bad timestamp). They are in table `quarantine` (source `clicks`) "
                "with Kafka partition and offset (or file and line) and the reason."
            ),
        )
    ],
    description=(
        "Clicks landed from Kafka topic `clicks` into `landing/clickstream/ingest_date=*/"
        "batch-*.jsonl` + `_manifest.jsonl` (at-least-once: file and manifest line are durable "
        "before offsets are committed). With no Kafka configured (embedded default) it registers "
        "the batches the simulator landed. Scheduled every 15 minutes; the late-data sensor "
        "turns new manifest lines into runs of exactly the affected days."
    ),
)
def raw_clicks(
    context: dg.AssetExecutionContext, lake: LakeResource, clicks_kafka: ClicksKafkaResource
) -> dg.MaterializeResult:
    report = ingest_clicks(lake.lake, clicks_kafka, log=context.log.info)
    if report.quarantined:
        report_quarantine(context, QUARANTINE_SOURCE, report.quarantined)
    context.log.info(
        f"{report.mode}: {report.rows} clicks in {len(report.batches)} batches, "
        f"{report.quarantined} quarantined"
    )
    manifest = ClickLanding(lake.lake.landing).manifest()
    return dg.MaterializeResult(
        metadata={
            "mode": report.mode,
            "batches_landed": len(report.batches),
            "rows_landed": report.rows,
            "messages_quarantined": report.quarantined,
            "files_registered": report.registered_files,
            "event_dates": dg.MetadataValue.json(sorted(report.event_dates)),
            "kafka_offsets": dg.MetadataValue.json(
                {str(p): list(v) for p, v in sorted(report.offsets.items())}
            ),
            "manifest_batches": len(manifest),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name="no_malformed_clicks",
                passed=report.quarantined == 0,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={"quarantined": report.quarantined},
                description=(
                    f"{report.quarantined} malformed messages quarantined (table quarantine, "
                    "source clicks)"
                    if report.quarantined
                    else "no malformed messages"
                ),
            )
        ],
    )


# -- stg_clicks ------------------------------------------------------------------------------
def _quarantine_refused(lake: Lake, con: duckdb.DuckDBPyConnection, files: list[Path]) -> int:
    """Quarantine (file, line, reason) the lines the JSON reader could not read or whose event
    time is impossible, per affected file, unless that file was quarantined before (at
    registration or an earlier run)."""
    affected = con.execute(
        "SELECT DISTINCT file_index FROM clicks_landed WHERE refused ORDER BY file_index"
    ).fetchall()
    landing = ClickLanding(lake.landing)
    done = set(lake.partition_keys(QUARANTINE_TABLE))
    total = 0
    for (index,) in affected:
        path = files[index]
        if quarantine_key(QUARANTINE_SOURCE, path.name.removesuffix(".jsonl")) in done:
            continue
        _fields, bad = landing.describe_file(path)
        rel = path.relative_to(lake.landing).as_posix()
        total += quarantine_messages(lake, path.name, bad, lambda _m, rel=rel: rel)
    return total


def _exact_uniqueness(con: duckdb.DuckDBPyConnection, per_day: pl.DataFrame) -> pl.DataFrame:
    """``unique_ids`` per day: distinct id hashes equal to the row count proves every event_id
    is there once; a day where they differ (a repeat, or two ids sharing a 64-bit hash) is
    counted again on the ids themselves."""
    unsure = per_day.filter(pl.col("distinct_id_hashes") != pl.col("events"))["date"].to_list()
    exact = {
        day: con.execute(
            "SELECT count(DISTINCT event_id) = count(*) FROM stg_clicks_range "
            "WHERE event_date = CAST(? AS DATE)",
            [day],
        ).fetchone()[0]
        for day in unsure
    }
    return per_day.with_columns(
        pl.col("date")
        .replace_strict(exact, default=True, return_dtype=pl.Boolean)
        .alias("unique_ids")
    ).drop("distinct_id_hashes")


def build_stg_clicks(lake: Lake, con: duckdb.DuckDBPyConnection, keys: list[str]) -> dict:
    """Build view ``stg_clicks_range`` (the kept copy of every event) for ``keys``, write the
    partitions; returns stats."""
    start, end = _range(keys)
    files = ClickLanding(lake.landing).files_for_dates(keys)
    spill_next_to_lake(con, lake)
    quarantined = 0
    if files:
        params = {
            "files": [str(f) for f in files],
            "batches": [batch_number(f.name) for f in files],
            "columns": _DUCKDB_CLICK_COLUMNS,
            "start": start,
            "end": end,
            "clock_allowance_us": CLOCK_ALLOWANCE // dt.timedelta(microseconds=1),
            "first_day": FIRST_DAY,
        }
        run_sql(con, SQL_DIR, "stg_clicks", params)
        quarantined = _quarantine_refused(lake, con, files)
    else:
        con.register("_empty_stg", STG_CLICKS_SCHEMA.to_frame())
        con.execute("CREATE OR REPLACE TEMP TABLE stg_clicks_range AS SELECT * FROM _empty_stg")
    per_day = con.execute(
        """
        SELECT CAST(event_date AS VARCHAR) AS date, count(*) AS events,
               count(*) FILTER (WHERE is_late) AS late_events,
               CAST(sum(copies - 1) AS BIGINT) AS duplicates_dropped,
               count(DISTINCT hash(event_id)) AS distinct_id_hashes
        FROM stg_clicks_range GROUP BY 1 ORDER BY 1
        """
    ).pl()
    per_day = _exact_uniqueness(con, per_day)
    write_daily_in_one_pass(
        con, lake, "stg_clicks", "event_date", keys, STG_CLICKS_SCHEMA, "stg_clicks_range"
    )
    return {"files": len(files), "quarantined": quarantined, "per_day": per_day}


@dg.asset(
    group_name=GROUP,
    partitions_def=partitions.daily,
    backfill_policy=partitions.single_run_backfill,
    deps=[raw_clicks],
    kinds={"duckdb", "parquet"},
    metadata=reads_metadata(Read("clicks", "clicks")),
    check_specs=[
        dg.AssetCheckSpec(
            "late_share_within_sla",
            asset="stg_clicks",
            description=(
                "Share of this run's events that landed more than 48 h after they happened "
                f"(SLA: data within 48 h). WARN above {MAX_LATE_SHARE:.0%}; such events are "
                "included (the day is re-materialized) and counted as late_events."
            ),
        ),
        dg.AssetCheckSpec(
            "event_id_unique_per_day",
            asset="stg_clicks",
            description="De-duplication worked: every event_id appears once per event date.",
        ),
    ],
    description=(
        "Landed clicks routed to their UTC event date and de-duplicated exactly by event_id "
        "(the copy in the lowest batch, Kafka partition, offset wins; docs/semantic-contract.md). "
        "Columns: the click contract + event_date, batch (landing order), is_late (landed > 48 h "
        "after event_ts; never true for a duplicate), copies (how many times it landed)."
    ),
)
def stg_clicks(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:
    keys = list(context.partition_keys)
    with lake.duckdb() as con:
        stats = build_stg_clicks(lake.for_asset(context), con, keys)
    if stats["quarantined"]:
        report_quarantine(context, QUARANTINE_SOURCE, stats["quarantined"])
    per_day: pl.DataFrame = stats["per_day"]
    events = int(per_day["events"].sum()) if per_day.height else 0
    late = int(per_day["late_events"].sum()) if per_day.height else 0
    dups = int(per_day["duplicates_dropped"].sum()) if per_day.height else 0
    share = late / events if events else 0.0
    not_unique = per_day.filter(~pl.col("unique_ids"))["date"].to_list() if per_day.height else []
    return dg.MaterializeResult(
        metadata={
            **_range_meta(keys, events),
            "batch_files_read": stats["files"],
            "late_events": late,
            "duplicates_dropped": dups,
            "lines_quarantined_this_run": stats["quarantined"],
            "by_day": dg.MetadataValue.md(markdown_frame(per_day.drop("unique_ids"), 40)),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name="late_share_within_sla",
                passed=share <= MAX_LATE_SHARE,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={"late_events": late, "events": events, "late_share": share},
                description=f"{late} of {events} events ({share:.2%}) landed > 48 h late",
            ),
            dg.AssetCheckResult(
                check_name="event_id_unique_per_day",
                passed=not not_unique,
                metadata={"days_with_repeats": dg.MetadataValue.json(not_unique)},
            ),
        ],
    )


# -- user_engagement_daily -------------------------------------------------------------------
def _directory_glob(lake: Lake) -> str:
    if not lake.partition_files(DIRECTORY_TABLE):
        raise dg.Failure(
            description=(
                f"{DIRECTORY_TABLE} has no partitions in the lake: materialize staging "
                "(stg_directory_users) first; licensed users come from the directory."
            )
        )
    return lake.glob(DIRECTORY_TABLE)


def _licensed_users(con: duckdb.DuckDBPyConnection, lake: Lake, keys: list[str]) -> None:
    start, end = _range(keys)
    run_sql(
        con,
        SQL_DIR,
        "licensed_users",
        {"directory_glob": _directory_glob(lake)},
        start=start.isoformat(),
        end=end.isoformat(),
    )


def day_chunks(lake: Lake, table: str, keys: list[str], max_rows: int) -> list[list[str]]:
    """Consecutive keys grouped so that each group holds at most ``max_rows`` input rows (a day
    bigger than that is a group of its own). Row counts come from Parquet footers (no data read).

    Why: window functions over a month of clicks (30 M rows) do not fit a 1 GB DuckDB, but a few
    days do; a small range is still one pass.
    """
    chunks: list[list[str]] = []
    rows_in_chunk = 0
    for key in keys:
        rows = sum(pq.ParquetFile(f).metadata.num_rows for f in lake.partition_files(table, [key]))
        if chunks and rows_in_chunk + rows <= max_rows:
            chunks[-1].append(key)
            rows_in_chunk += rows
        else:
            chunks.append([key])
            rows_in_chunk = rows
    return chunks


def build_user_engagement_daily(lake: Lake, con: duckdb.DuckDBPyConnection, keys: list[str]) -> int:
    """Write user_engagement_daily for ``keys``, in as few passes as the row budget allows."""
    spill_next_to_lake(con, lake)
    _licensed_users(con, lake, keys)
    total = 0
    for chunk in day_chunks(lake, "stg_clicks", keys, MAX_CLICKS_PER_PASS):
        start, end = _range(chunk)
        lake_view(con, lake, "stg_clicks", STG_CLICKS_SCHEMA, chunk, view="clicks_in")
        run_sql(con, SQL_DIR, "user_engagement_daily", {"start": start, "end": end})
        write_daily_from_table(
            con,
            lake,
            "user_engagement_daily",
            "date",
            chunk,
            USER_DAILY_SCHEMA,
            "user_days",
            order_by="account_id, user_id",
        )
        total += con.execute("SELECT count(*) FROM user_days").fetchone()[0]
    return total


_DIRECTORY_DEP = dg.AssetDep(DIRECTORY_TABLE, partition_mapping=dg.AllPartitionMapping())


@dg.asset(
    group_name=GROUP,
    partitions_def=partitions.daily,
    backfill_policy=partitions.single_run_backfill,
    deps=[stg_clicks, _DIRECTORY_DEP],
    kinds={"duckdb", "parquet"},
    # licensed users as of each day: the directory is a change feed that carries forward
    metadata=reads_metadata(Read("stg_clicks"), Read(DIRECTORY_TABLE, "through")),
    description=(
        "One row per user and UTC day with at least one click: account_id and team (from the "
        "directory), licensed (licensed on that day), sessions, hours, events, late_events. "
        "Sessions split at UTC midnight and after > 30 min without an event; a session lasts "
        "last − first event (one event = 0 h). The base of DAU/MAU (licensed = true rows)."
    ),
)
def user_engagement_daily(
    context: dg.AssetExecutionContext, lake: LakeResource
) -> dg.MaterializeResult:
    keys = list(context.partition_keys)
    with lake.duckdb() as con:
        rows = build_user_engagement_daily(lake.for_asset(context), con, keys)
    preview = lake.lake.read("user_engagement_daily", keys[-1:]).head(_PREVIEW)
    return dg.MaterializeResult(
        metadata={
            **_range_meta(keys, rows),
            "preview": dg.MetadataValue.md(markdown_frame(preview, _PREVIEW)),
        }
    )


# -- completeness (Kafka outage detection) ---------------------------------------------------
def build_completeness(
    lake: Lake, con: duckdb.DuckDBPyConnection, keys: list[str], config: OutageConfig
) -> tuple[pl.DataFrame, pl.DataFrame]:
    start, end = _range(keys)
    history_start = start - dt.timedelta(days=7 * config.baseline_weeks)
    present = [
        k
        for k in lake.partition_keys("stg_clicks")
        if history_start <= dt.date.fromisoformat(k) <= end
    ]
    files = lake.partition_files("stg_clicks", present)
    if files:
        hourly = run_sql(
            con,
            SQL_DIR,
            "hourly_volume",
            {"present_days": present, "click_files": files},
        ).pl()
        hourly = hourly.with_columns(pl.col("hour").cast(pl.Int32), pl.col("events").cast(pl.Int64))
    else:
        hourly = pl.DataFrame(schema={"date": pl.Date, "hour": pl.Int32, "events": pl.Int64})
    days = [dt.date.fromisoformat(k) for k in keys]
    verdict, detail = judge_days(hourly, days, config.now(), config)
    lake.write_partitions("engagement_completeness", "date", keys, verdict)
    return verdict, detail


@dg.asset(
    group_name=GROUP,
    partitions_def=partitions.daily,
    backfill_policy=partitions.single_run_backfill,
    deps=[
        dg.AssetDep(
            stg_clicks,
            partition_mapping=dg.TimeWindowPartitionMapping(
                start_offset=-7 * BASELINE_WEEKS, allow_nonexistent_upstream_partitions=True
            ),
        )
    ],
    kinds={"duckdb", "parquet"},
    # the day and the same weekday of the baseline weeks; judged once the day is 48 h old
    metadata=reads_metadata(
        Read("stg_clicks", "weekdays", weeks=BASELINE_WEEKS),
        Read("", "settled", hours=int(SLA_WINDOW.total_seconds() // 3600)),
    ),
    check_specs=[
        dg.AssetCheckSpec(
            "no_kafka_outage",
            asset="engagement_completeness",
            description=(
                "Fails when an hour's click volume (older than 48 h, baseline ≥ the minimum) is "
                "far below the median of the same weekday and hour over the previous 4 weeks: "
                "clicks were lost in Kafka, so the day's engagement is flagged incomplete, "
                "never reported as real disengagement."
            ),
        )
    ],
    description=(
        "Per UTC day: is_complete, reason, expected_events (weekday/hour baseline), "
        "observed_events, judged_hours, outage_hours, missing_events_estimate. A day is "
        "incomplete when a Kafka outage is suspected or while its last hours are younger than "
        "the 48 h SLA (provisional)."
    ),
)
def engagement_completeness(
    context: dg.AssetExecutionContext, lake: LakeResource, config: OutageConfig
) -> dg.MaterializeResult:
    keys = list(context.partition_keys)
    with lake.duckdb() as con:
        verdict, _detail = build_completeness(lake.for_asset(context), con, keys, config)
    outage_days = verdict.filter(pl.col("outage_hours").is_not_null())
    return dg.MaterializeResult(
        metadata={
            **_range_meta(keys, verdict.height),
            "incomplete_days": int((~verdict["is_complete"]).sum()),
            "outage_days": dg.MetadataValue.json([str(d) for d in outage_days["date"].to_list()]),
            "preview": dg.MetadataValue.md(
                markdown_frame(verdict.filter(~pl.col("is_complete")), 20)
            ),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name="no_kafka_outage",
                passed=outage_days.height == 0,
                metadata={
                    "outage_days": dg.MetadataValue.md(
                        markdown_frame(outage_days.select("date", "outage_hours", "reason"), 20)
                    )
                },
                description=(
                    f"suspected Kafka outage on {outage_days.height} day(s): "
                    + ", ".join(str(d) for d in outage_days["date"].to_list()[:10])
                    if outage_days.height
                    else "no hour far below its weekday/hour baseline"
                ),
            )
        ],
    )


# -- engagement_hours and the team breakdown -------------------------------------------------
def _finish_hours(frame: pl.DataFrame, verdict: dict | None, schema: pl.Schema) -> pl.DataFrame:
    """Add the day's completeness verdict and the safe ratio to one day's rows."""
    if verdict is None:  # no completeness verdict for the day = not known to be complete
        complete, reason = False, "engagement_completeness not materialized for this day"
    else:
        complete, reason = verdict["is_complete"], verdict["reason"]
    frame = frame.with_columns(
        pl.lit(complete, pl.Boolean).alias("is_complete"),
        pl.lit(reason, pl.String).alias("incomplete_reason"),
        pl.when(pl.col("active_users") > 0)
        .then(pl.col("total_hours") / pl.col("active_users"))
        .alias("hours_per_active_user"),
        pl.when(pl.col("active_users") > 0)
        .then(pl.lit(None, pl.String))
        .otherwise(pl.lit("no_active_users"))
        .alias("hours_per_active_user_null_reason"),
    )
    return conform(frame, schema)


def build_hours(
    lake: Lake, con: duckdb.DuckDBPyConnection, keys: list[str], by_team: bool
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Compute the range in one DuckDB pass, then finish and write one day at a time (accounts
    x teams x days reaches millions of rows at benchmark scale). Returns (per-day summary,
    preview of the last day)."""
    start, end = _range(keys)
    spill_next_to_lake(con, lake)
    _licensed_users(con, lake, keys)
    lake_view(con, lake, "user_engagement_daily", USER_DAILY_SCHEMA, keys, view="user_days_in")
    key_cols = ["date", "account_id", "team"] if by_team else ["date", "account_id"]

    def join(alias: str) -> str:
        return " AND ".join(f"k.{c} IS NOT DISTINCT FROM {alias}.{c}" for c in key_cols)

    run_sql(
        con,
        SQL_DIR,
        "engagement_hours",
        {"start": start, "end": end},
        keys=", ".join(key_cols[1:]),
        join_a=join("a"),
        join_l=join("l"),
    )
    verdicts = {
        str(r["date"]): r for r in lake.read("engagement_completeness", keys).iter_rows(named=True)
    }
    table = "engagement_hours_by_team" if by_team else "engagement_hours"
    schema = HOURS_BY_TEAM_SCHEMA if by_team else HOURS_SCHEMA
    summary, day = [], schema.to_frame()
    for key in keys:
        day = con.execute(
            "SELECT * FROM hours_range WHERE date = CAST($key AS DATE)", {"key": key}
        ).pl()
        day = _finish_hours(day, verdicts.get(key), schema).sort(key_cols, nulls_last=True)
        lake.write_partition(table, "date", key, day)
        summary.append(
            {
                "date": key,
                "rows": day.height,
                "accounts": day["account_id"].n_unique(),
                "late_events": int(day["late_events"].sum()),
                "is_complete": bool(day["is_complete"].all()) if day.height else True,
                "incomplete_reason": day["incomplete_reason"].first() if day.height else None,
            }
        )
    return pl.DataFrame(summary), day.head(_PREVIEW)


_HOURS_DEPS = [user_engagement_daily, engagement_completeness, _DIRECTORY_DEP]
_HOURS_READS = reads_metadata(
    Read("user_engagement_daily"),
    Read("engagement_completeness"),
    Read(DIRECTORY_TABLE, "through"),
)
_HOURS_CHECK = (
    "WARN when a day of this run is not complete (suspected Kafka outage, or provisional "
    "within the 48 h SLA window): its numbers undercount and carry is_complete = false."
)


def _hours_result(
    summary: pl.DataFrame, preview: pl.DataFrame, keys: list[str], check: str
) -> dg.MaterializeResult:
    incomplete = summary.filter(~pl.col("is_complete")).select("date", "incomplete_reason")
    return dg.MaterializeResult(
        metadata={
            **_range_meta(keys, int(summary["rows"].sum())),
            "accounts_max_per_day": int(summary["accounts"].max() or 0),
            "late_events": int(summary["late_events"].sum()),
            "incomplete_days": dg.MetadataValue.json(incomplete["date"].to_list()),
            "preview": dg.MetadataValue.md(markdown_frame(preview, _PREVIEW)),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name=check,
                passed=incomplete.height == 0,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={"incomplete": dg.MetadataValue.md(markdown_frame(incomplete, 20))},
            )
        ],
    )


@dg.asset(
    group_name=GROUP,
    partitions_def=partitions.daily,
    backfill_policy=partitions.single_run_backfill,
    deps=_HOURS_DEPS,
    kinds={"duckdb", "parquet"},
    metadata=_HOURS_READS,
    check_specs=[
        dg.AssetCheckSpec("days_complete", asset="engagement_hours", description=_HOURS_CHECK)
    ],
    description=(
        "Per account and UTC day: licensed_users, active_users (users with ≥ 1 click), "
        "active_licensed_users, sessions, total_hours, hours_per_active_user (+ null reason), "
        "events, late_events (included, landed > 48 h late), is_complete / incomplete_reason "
        "(Kafka outage suspected or provisional). Definitions: docs/engagement.md."
    ),
)
def engagement_hours(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:
    keys = list(context.partition_keys)
    with lake.duckdb() as con:
        summary, preview = build_hours(lake.for_asset(context), con, keys, by_team=False)
    return _hours_result(summary, preview, keys, "days_complete")


@dg.asset(
    group_name=GROUP,
    partitions_def=partitions.daily,
    backfill_policy=partitions.single_run_backfill,
    deps=_HOURS_DEPS,
    kinds={"duckdb", "parquet"},
    metadata=_HOURS_READS,
    check_specs=[
        dg.AssetCheckSpec(
            "days_complete", asset="engagement_hours_by_team", description=_HOURS_CHECK
        )
    ],
    description=(
        "engagement_hours broken down by the customer's team (directory `team`; null for users "
        "unknown to the directory). Same measures and definitions; the rows of one account and "
        "day add up to its engagement_hours row (active users: each user has one team)."
    ),
)
def engagement_hours_by_team(
    context: dg.AssetExecutionContext, lake: LakeResource
) -> dg.MaterializeResult:
    keys = list(context.partition_keys)
    with lake.duckdb() as con:
        summary, preview = build_hours(lake.for_asset(context), con, keys, by_team=True)
    return _hours_result(summary, preview, keys, "days_complete")


DAILY_ASSETS = [
    stg_clicks,
    user_engagement_daily,
    engagement_completeness,
    engagement_hours,
    engagement_hours_by_team,
]
ASSETS = [raw_clicks, *DAILY_ASSETS]

#: The steps of this pipeline that write the quarantine table (marked in ``pipeline.py``; the asset is ``staging.assets.quarantine_spec``).
QUARANTINE_WRITERS = [raw_clicks, stg_clicks]
