"""Raw and staging assets for every landed source (clicks excepted: see engagement).

For each ``contracts.SOURCES`` entry this module builds two things from one factory:

- ``raw_<source>``: an external asset (``dg.AssetSpec``) standing for the landing folder, so the
  lineage in the UI starts where the data lands. Nothing materializes it; sources write it.
- ``stg_<source>``: the typed, validated copy in the lake, partitioned like the landing folders
  (daily ``date=``, monthly ``month=`` as 'YYYY-MM-01', the registry unpartitioned). One run
  handles a whole partition range: it reads every file of the range, checks each file's columns
  against the contract (drift fails the run before anything is written), validates all rows with
  the source's pandera schema, writes valid rows to ``stg_<source>`` and malformed rows to
  ``quarantine``, one lake partition per key, empty partitions included.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import dagster as dg
import polars as pl

from pacific_assets.contracts import SOURCES, LandingSource
from pacific_assets.orchestration import LANDING_SOURCE_KEY, partitions
from pacific_assets.previews import markdown_frame, markdown_table
from pacific_assets.resources import LakeResource
from pacific_assets.staging.landing import (
    ROW_NUMBER,
    SOURCE_FILE,
    LandingPartition,
    ParsedFile,
    SchemaDriftError,
    landing_partitions,
    parse_file,
    raw_rows,
)
from pacific_assets.staging.quarantine import report_quarantine
from pacific_assets.staging.schemas import UNIQUE_KEYS, UniqueKey
from pacific_assets.staging.validation import validate
from pacific_assets.storage.lake import UNPARTITIONED_KEY, Lake, PartitionWrite
from pacific_assets.storage.quarantine import (
    QUARANTINE_ROW_SCHEMA,
    QUARANTINE_TABLE,
    quarantine_key,
    write_quarantine,
)

GROUP = "staging"
#: Every landed source except clicks, which the engagement pipeline ingests and stages itself.
STAGED_SOURCES: tuple[str, ...] = tuple(name for name in SOURCES if name != "clicks")
QUARANTINE_SHARE_CHECK = "quarantine_share"
#: Above this share of a partition's rows in quarantine the check turns from WARN to ERROR.
QUARANTINE_ERROR_SHARE = 0.05
_PARTITION_KEY = "_partition_key"
_PREVIEW_ROWS = 5

_PARTITIONS: dict[str, dg.PartitionsDefinition | None] = {
    "daily": partitions.daily,
    "monthly": partitions.monthly,
    "none": None,
}


def staging_columns(source: LandingSource) -> dict[str, pl.DataType]:
    """The staging table's schema: contract columns, partition column, row position."""
    cols: dict[str, pl.DataType] = dict(source.columns)
    if source.grain != "none":
        cols[source.partition_col] = pl.Date
    cols[SOURCE_FILE] = pl.String
    cols[ROW_NUMBER] = pl.Int64
    return cols


def _folder_pattern(source: LandingSource) -> str:
    if source.grain == "daily":
        return f"landing/{source.path}/date=YYYY-MM-DD/*.{source.fmt}"
    if source.grain == "monthly":
        return f"landing/{source.path}/month=YYYY-MM/*.{source.fmt}"
    return f"landing/{source.path}"


# -- the staging run, independent of Dagster so it can be read (and tested) on its own ---------
@dataclass
class PartitionStats:
    key: str
    files: int = 0
    rows_landed: int = 0
    rows_valid: int = 0
    rows_quarantined: int = 0

    @property
    def quarantine_share(self) -> float:
        return self.rows_quarantined / self.rows_landed if self.rows_landed else 0.0

    @property
    def note(self) -> str:
        return "" if self.files else "no file landed"


@dataclass
class StagingRun:
    source: LandingSource
    keys: list[str]
    valid: pl.DataFrame
    quarantine: pl.DataFrame  # file, row_number, column, reason, raw, _partition_key
    stats: dict[str, PartitionStats]


def _strings_of(parsed: ParsedFile, part: LandingPartition, source: LandingSource) -> pl.DataFrame:
    frame = parsed.frame.with_columns(pl.lit(part.key, dtype=pl.String).alias(_PARTITION_KEY))
    if source.grain != "none":
        frame = frame.with_columns(pl.lit(part.value, dtype=pl.Date).alias(source.partition_col))
    return frame


def read_and_validate(lake: Lake, source: LandingSource, keys: list[str]) -> StagingRun:
    """Parse and validate every landed file of ``keys``; raise on schema drift, write nothing."""
    parts = landing_partitions(source, lake.landing, keys)
    stats = {p.key: PartitionStats(p.key, files=len(p.files)) for p in parts}
    frames: list[pl.DataFrame] = []
    rejects: list[dict] = []
    drift: list[str] = []
    for part in parts:
        for path in part.files:
            try:
                parsed = parse_file(path, lake.landing, source)
            except SchemaDriftError as exc:
                drift.append(str(exc))
                continue
            stats[part.key].rows_landed += parsed.rows_seen
            frames.append(_strings_of(parsed, part, source))
            rejects.extend({**r, _PARTITION_KEY: part.key} for r in parsed.rejects)
    if drift:
        raise SchemaDriftError(
            f"schema drift in {source.name} (landing/{source.path}); nothing was written for "
            f"partitions {keys[0]}..{keys[-1]}. Expected columns: {', '.join(source.columns)}.\n"
            + "\n".join(f"- {d}" for d in drift)
        )

    extra = {_PARTITION_KEY: pl.String}
    if source.grain != "none":
        extra[source.partition_col] = pl.Date
    empty = pl.DataFrame(
        schema={
            **{c: pl.String for c in source.columns},
            SOURCE_FILE: pl.String,
            ROW_NUMBER: pl.Int64,
            **extra,
        }
    )
    checked = validate(pl.concat([empty, *frames], how="vertical"), source)
    quarantine = _with_raw(lake, source, checked.problems, rejects)

    valid_counts = checked.valid.group_by(_PARTITION_KEY).len()
    for key, n in valid_counts.iter_rows():
        stats[key].rows_valid = n
    for key, n in quarantine.group_by(_PARTITION_KEY).len().iter_rows():
        stats[key].rows_quarantined = n
    valid = checked.valid.select(list(staging_columns(source))).cast(staging_columns(source))
    return StagingRun(source, keys, valid, quarantine, stats)


def _with_raw(
    lake: Lake, source: LandingSource, problems: pl.DataFrame, rejects: list[dict]
) -> pl.DataFrame:
    """Quarantine records with the landed text of each row (read back only for those rows)."""
    wanted: dict[str, set[int]] = defaultdict(set)
    for file, row in problems.select("file", "row_number").iter_rows():
        wanted[file].add(row)
    texts = [
        (file, row, text)
        for file, rows in wanted.items()
        for row, text in raw_rows(lake.landing / file, source.fmt, rows).items()
    ]
    raw = pl.DataFrame(
        texts, schema={"file": pl.String, "row_number": pl.Int64, "raw": pl.String}, orient="row"
    )
    validated = problems.join(raw, on=["file", "row_number"], how="left").select(
        "file", "row_number", "column", "reason", "raw", _PARTITION_KEY
    )
    parsed = pl.DataFrame(
        rejects,
        schema={**QUARANTINE_ROW_SCHEMA, _PARTITION_KEY: pl.String},
    )
    return pl.concat([parsed, validated]).sort("file", "row_number")


def write_run(lake: Lake, run: StagingRun) -> list[PartitionWrite]:
    """Replace the range's staging partitions and quarantine partitions (idempotent); returns
    the quarantine partitions written."""
    source = run.source
    if source.grain == "none":
        lake.write_table(source.staging_table, run.valid)
    else:
        lake.write_partitions(source.staging_table, source.partition_col, run.keys, run.valid)
    # Only touch quarantine partitions that have rows now or had rows before (fewer fsyncs).
    existing = set(lake.partition_keys(QUARANTINE_TABLE))
    by_key = {
        k[0]: part for k, part in run.quarantine.partition_by(_PARTITION_KEY, as_dict=True).items()
    }
    written = []
    for key in run.keys:
        rows = by_key.get(key, run.quarantine.clear())
        if rows.height or quarantine_key(source.name, key) in existing:
            written.append(write_quarantine(lake, source.name, key, rows.drop(_PARTITION_KEY)))
    return written


# -- checks ------------------------------------------------------------------------------------
def quarantine_share_result(run: StagingRun) -> dg.AssetCheckResult:
    bad = [s for s in run.stats.values() if s.rows_quarantined]
    worst = max(bad, key=lambda s: s.quarantine_share, default=None)
    severity = (
        dg.AssetCheckSeverity.ERROR
        if worst and worst.quarantine_share > QUARANTINE_ERROR_SHARE
        else dg.AssetCheckSeverity.WARN
    )
    if worst is None:
        description = f"no quarantined rows in {len(run.keys)} partition(s)"
    else:
        description = (
            f"{sum(s.rows_quarantined for s in bad)} row(s) quarantined in {len(bad)} partition(s); "
            f"worst {worst.key}: {worst.rows_quarantined}/{worst.rows_landed} "
            f"({worst.quarantine_share:.1%}). See table `quarantine`, source '{run.source.name}'."
        )
    return dg.AssetCheckResult(
        check_name=QUARANTINE_SHARE_CHECK,
        passed=worst is None,
        severity=severity,
        description=description,
        metadata={
            "quarantined_rows": sum(s.rows_quarantined for s in bad),
            "max_share": worst.quarantine_share if worst else 0.0,
            "partitions_with_quarantine": dg.MetadataValue.md(
                markdown_table(
                    ["partition", "landed", "quarantined", "share"],
                    [
                        [s.key, s.rows_landed, s.rows_quarantined, f"{s.quarantine_share:.2%}"]
                        for s in bad
                    ],
                    limit=50,
                )
            ),
        },
    )


def duplicates(lake: Lake, run: StagingRun, key: UniqueKey) -> pl.DataFrame:
    """Key values that occur more than once within the key's scope (valid rows only)."""
    cols = list(key.columns)
    if key.scope == "table":
        with_counts = _table_duplicates(lake, run.source.staging_table, cols)
        return with_counts
    scope = [SOURCE_FILE] if key.scope == "file" else [run.source.partition_col]
    if run.source.grain == "none" and key.scope == "partition":
        scope = []
    return (
        run.valid.group_by([*scope, *cols])
        .agg(pl.len().alias("copies"))
        .filter(pl.col("copies") > 1)
        .sort([*scope, *cols])
    )


def _table_duplicates(lake: Lake, table: str, cols: list[str]) -> pl.DataFrame:
    """Whole-table duplicates, read with DuckDB over the lake (this run's rows are written)."""
    from pacific_assets.storage.duck import connect, parquet_source

    files = lake.partition_files(table)
    if not files:
        return pl.DataFrame()
    col_list = ", ".join(f'"{c}"' for c in cols)
    with connect(lake=lake) as con:
        # the lake's read (no hive inference: a version folder is not a partition value)
        return con.execute(
            f"SELECT {col_list}, count(*) AS copies FROM {parquet_source(files)} "
            f"GROUP BY ALL HAVING count(*) > 1 ORDER BY {col_list} LIMIT 1000"
        ).pl()


def unique_key_result(lake: Lake, run: StagingRun, key: UniqueKey) -> dg.AssetCheckResult:
    dups = duplicates(lake, run, key)
    where = {
        "file": "within a landed file",
        "partition": "within a partition",
        "table": "in the table",
    }[key.scope]
    return dg.AssetCheckResult(
        check_name=key.check_name,
        passed=dups.is_empty(),
        severity=dg.AssetCheckSeverity[key.severity],
        description=(
            f"({', '.join(key.columns)}) is unique {where}"
            if dups.is_empty()
            else f"{dups.height} duplicated ({', '.join(key.columns)}) value(s) {where}"
        ),
        metadata={
            "duplicated_keys": dups.height,
            "examples": dg.MetadataValue.md(markdown_frame(dups, 10)) if dups.height else "",
        },
    )


def run_metadata(run: StagingRun) -> dict[str, object]:
    stats = list(run.stats.values())
    missing = [s.key for s in stats if not s.files]
    quarantined = sum(s.rows_quarantined for s in stats)
    meta: dict[str, object] = {}
    if len(run.keys) == 1:  # a range run shares one metadata set across its partitions
        meta["dagster/row_count"] = run.valid.height
    return {
        **meta,
        "partitions": len(run.keys),
        "partition_range": f"{run.keys[0]}..{run.keys[-1]}",
        "files_read": sum(s.files for s in stats),
        "rows_landed": sum(s.rows_landed for s in stats),
        "rows_written": run.valid.height,
        "rows_quarantined": quarantined,
        "partitions_without_files": dg.MetadataValue.json(missing),
        "no_file_landed": (
            f"no file landed for {len(missing)} of {len(stats)} partition(s) (written as empty)"
            if missing
            else "every partition had at least one file"
        ),
        "by_partition": dg.MetadataValue.md(
            markdown_table(
                ["partition", "files", "landed", "valid", "quarantined", "note"],
                [
                    [s.key, s.files, s.rows_landed, s.rows_valid, s.rows_quarantined, s.note]
                    for s in stats
                ],
                limit=100,
            )
        ),
        "quarantine_preview": dg.MetadataValue.md(
            markdown_frame(run.quarantine.select("file", "row_number", "column", "reason"), 10)
        ),
        "preview": dg.MetadataValue.md(markdown_frame(run.valid, _PREVIEW_ROWS)),
    }


# -- the Dagster definitions -------------------------------------------------------------------
def raw_spec(source: LandingSource) -> dg.AssetSpec:
    """The landing folder as an external asset: written by the source, read-only here."""
    return dg.AssetSpec(
        key=f"raw_{source.name}",
        group_name=GROUP,
        partitions_def=_PARTITIONS[source.grain],
        description=(
            f"Landing zone of **{source.name}**, written only by the source system (or the "
            f"simulator): `{_folder_pattern(source)}`. Immutable; pipelines never modify or move "
            "these files. Contract: `pacific_assets/contracts.py`."
        ),
        metadata={
            "landing_path": _folder_pattern(source),
            "format": source.fmt,
            LANDING_SOURCE_KEY: source.name,
        },
        kinds={"csv" if source.fmt == "csv" else "json"},
    )


def staging_asset(source: LandingSource) -> dg.AssetsDefinition:
    """``stg_<source>``: one pass over a partition range, validated, quarantine written."""
    table = source.staging_table
    raw = raw_spec(source)
    check_specs = [
        dg.AssetCheckSpec(
            QUARANTINE_SHARE_CHECK,
            asset=table,
            description=(
                "Share of landed rows quarantined, per partition of the run: WARN when any row "
                f"was quarantined, ERROR above {QUARANTINE_ERROR_SHARE:.0%} of a partition."
            ),
        ),
        *(
            dg.AssetCheckSpec(
                k.check_name,
                asset=table,
                description=f"({', '.join(k.columns)}) unique per {k.scope}: {k.why}.",
            )
            for k in UNIQUE_KEYS.get(source.name, ())
        ),
    ]
    grain = {"daily": "landing day", "monthly": "landing month", "none": "snapshot"}[source.grain]

    @dg.asset(
        name=table,
        group_name=GROUP,
        partitions_def=_PARTITIONS[source.grain],
        backfill_policy=partitions.single_run_backfill if source.grain != "none" else None,
        deps=[raw.key],
        check_specs=check_specs,
        kinds={"polars", "pandera", "parquet"},
        description=(
            f"Typed, validated rows of `{_folder_pattern(source)}`, one partition per {grain}"
            + (f" (column `{source.partition_col}`)" if source.grain != "none" else "")
            + ". Columns: the contract's, typed, plus `_source_file` and `_row_number`. "
            "Malformed rows go to table `quarantine` with file, row and reason; a file whose "
            "columns differ from the contract fails the run, naming file and column."
        ),
        metadata={"source": source.name, "landing_path": _folder_pattern(source)},
    )
    def _asset(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:
        keys = context.partition_keys if source.grain != "none" else [UNPARTITIONED_KEY]
        store = lake.for_asset(context)
        try:
            run = read_and_validate(store, source, keys)
        except SchemaDriftError as exc:
            raise dg.Failure(description=str(exc)) from exc
        quarantined = write_run(store, run)
        if quarantined:
            report_quarantine(
                context, source.name, sum(w.rows for w in quarantined), [w.key for w in quarantined]
            )
        context.log.info(
            f"{table}: {run.valid.height} rows written, {run.quarantine.height} quarantined, "
            f"{len(keys)} partition(s)"
        )
        return dg.MaterializeResult(
            metadata=run_metadata(run),
            check_results=[
                quarantine_share_result(run),
                *(unique_key_result(store, run, k) for k in UNIQUE_KEYS.get(source.name, ())),
            ],
        )

    return _asset


def quarantine_spec(writers: Iterable[dg.AssetsDefinition | dg.AssetKey]) -> dg.AssetSpec:
    """The quarantine table as an asset, downstream of the assets whose steps write it (they
    report what they wrote: ``staging.quarantine.report_quarantine``)."""
    return dg.AssetSpec(
        key=QUARANTINE_TABLE,
        group_name=GROUP,
        deps=list(writers),
        kinds={"parquet"},
        description=(
            "Malformed landed rows, never dropped: one record per row with `source`, "
            "`partition_key`, `file`, `row_number`, `column`, `reason` and the row as landed. "
            "Partitioned in the lake by `<source>__<partition key>`: re-running a staging "
            "partition (or re-reading a click batch) replaces exactly its own rows. Written by "
            "the steps that read landed files (its upstream assets). Columns and reasons: "
            "docs/staging.md."
        ),
    )


RAW_SPECS: list[dg.AssetSpec] = [raw_spec(SOURCES[name]) for name in STAGED_SOURCES]
STAGING_ASSETS: list[dg.AssetsDefinition] = [
    staging_asset(SOURCES[name]) for name in STAGED_SOURCES
]
