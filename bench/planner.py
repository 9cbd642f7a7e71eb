"""The planner at scale (issue #30): one tick of each keeper and SLA sensor over years of history.

Every keeper tick asks the lake for the state of every partition of its assets and their
ancestors (pacific_assets/orchestration/automation.py); Dagster stops a sensor after 60 s. This builds
synthetic data roots of 1, 3 and 10 years of daily history for **every** asset of the code
location and times one evaluation of each sensor over them.

A data root here is what a deployment holds after ``years`` of quiet operation, as cheaply as it
can be made: every landing folder (one empty file per source and day or month, one click batch
per day in the manifest), and every partition of every lake asset that exists on its grid, each
a live version with an empty Parquet file of the table's declared schema and a ``lineage.json``
whose inputs digest is the one the lineage rules give over that very lake (written parents
first). So the lake is *up to date*: a tick reads the state of every partition, finds nothing
stale and nothing missing, and requests nothing, which is the steady state a sensor spends its
life in. Unpartitioned state tables publish a slice for every day, as the real ones do.

Two tasks, each in a fresh process (``bench/child.py``; ``PACIFIC_DATA_ROOT`` names the data
root, whose recorded first day sets the grids):

- ``planner-lake --years N``: build the data root (once; reused while its marker matches);
- ``planner-tick --sensor NAME``: import the code location, then evaluate the sensor through
  Dagster's public ``evaluate_tick`` with Dagster's clock moved to ``NOW``: once cold (a
  code server's first tick: no lineage record cached) and once warm (every later tick of the
  same process); then once at ``BUSY``, the next morning, when the day of NOW is due and
  missing in every daily asset: the keepers request it, after reading what it waits for.
  Reports the seconds of each, the requests and skip message (the decision, to compare between
  versions of the planner) and the process's RSS after the import.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import resource
import shutil
import time
from pathlib import Path

#: The instant the steady ticks are evaluated at (the lakes hold every partition ended by then).
NOW = dt.datetime(2026, 6, 2, 9, 0, tzinfo=dt.UTC)
#: The busy tick: a day later, when the day of NOW has landed and every daily asset's partition
#: of it is due and missing, so the keepers request it (and read their ancestors' state).
BUSY = NOW + dt.timedelta(days=1)
#: Bumped when the layout of the data roots changes (they are rebuilt).
LAYOUT = 2
YEARS = (1, 3, 10)
#: ``make bench --quick``: the harness end to end, on the shortest histories only.
QUICK_YEARS = (1, 3)
#: The keeper sensors (one per pipeline) and the SLA / freshness sensors of operations.
SENSORS = (
    "landing_sensor",
    "clicks_late_data_sensor",
    "growth_late_crm_events",
    "profit_late_billing",
    "experiments_follow_facts",
    "investor_catchup",
    "sla_checks_sensor",
    "oncall_freshness",
)
#: Goals (issue #30): seconds per tick at 3 years, and growth no worse than linear in history.
GOAL_SECONDS_AT_3Y = 2.0
#: Slices whose value for day d covers everything up to d (growth/assets.py publishes
#: ``through_day`` as cumulative); the others are one day's own rows.
CUMULATIVE_SLICES = ("through_day",)
MARKER = "planner-lake.json"


def first_day(years: int) -> dt.date:
    """The first day of a history of ``years`` years ending at NOW."""
    return NOW.date() - dt.timedelta(days=round(365.25 * years))


def _marker(years: int) -> dict:
    return {"years": years, "now": NOW.isoformat(), "layout": LAYOUT}


def _ready(root: Path, years: int) -> bool:
    marker = root / MARKER
    if not marker.exists():
        return False
    recorded = json.loads(marker.read_text())
    return {k: recorded.get(k) for k in _marker(years)} == _marker(years)


def build_lake(root: Path, years: int) -> dict:
    """Build the data root of ``years`` years (see the module docstring); returns its size."""
    if _ready(root, years):
        return json.loads((root / MARKER).read_text()) | {"reused": True}
    if root.exists():
        shutil.rmtree(root)
    started = time.perf_counter()
    from pacific_assets.orchestration.data_root import record_first_day

    record_first_day(root, first_day(years), by="bench/planner.py")
    _land(root, first_day(years))
    info = _marker(years) | {
        "partitions": _build_records(root),
        "build_seconds": round(time.perf_counter() - started, 1),
    }
    (root / MARKER).write_text(json.dumps(info))
    return info


def _days(first: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range((NOW.date() - first).days)]


def _land(root: Path, first: dt.date) -> None:
    """A folder with one empty file per daily source and day, monthly source and month; the
    unpartitioned sources' files; one click batch per day in the manifest. Days up to NOW's
    own: the lake ends the day before, which the busy tick then finds delivered and missing."""
    from pacific_assets.contracts import SOURCES
    from pacific_assets.engagement.landing import MANIFEST_NAME, batch_name, iso_utc

    landing = root / "landing"
    days = [*_days(first), NOW.date()]
    months = sorted({d.replace(day=1) for d in days})
    for name, source in SOURCES.items():
        base = landing / source.path
        if name == "clicks":
            continue
        if source.grain == "none":
            base.parent.mkdir(parents=True, exist_ok=True)
            base.touch()
            continue
        folders = (
            [f"date={d}" for d in days]
            if source.grain == "daily"
            else [f"month={m:%Y-%m}" for m in months]
        )
        for folder in folders:
            (base / folder).mkdir(parents=True, exist_ok=True)
            (base / folder / f"export.{source.fmt}").touch()
    clicks = landing / SOURCES["clicks"].path
    lines = []
    for number, d in enumerate(days, start=1):
        folder = clicks / f"ingest_date={d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / batch_name(number)).touch()
        landed = dt.datetime.combine(d, dt.time(23, 59), dt.UTC)
        lines.append(
            json.dumps(
                {
                    "batch": batch_name(number),
                    "ingest_date": d.isoformat(),
                    "event_dates": [d.isoformat()],
                    "rows": 0,
                    "landed_at": iso_utc(landed),
                },
                separators=(",", ":"),
            )
        )
    (clicks / MANIFEST_NAME).write_text("\n".join(lines) + "\n")


def _empty_parquet(path: Path, table: str) -> None:
    import polars as pl

    from pacific_assets.columns import declared_tables

    declared = declared_tables().get(table)
    schema = declared.polars() if declared is not None else {"k": pl.String}
    pl.DataFrame(schema=schema).write_parquet(path)


def _build_records(root: Path) -> int:
    """Every partition of every lake asset on its grid at NOW, parents first, each with the
    lineage record the rules give over this lake (so nothing is stale)."""
    from pacific_assets.definitions import defs
    from pacific_assets.orchestration.lineage import (
        UNPARTITIONED,
        LakeState,
        Lineage,
        asset_lineage_from_graph,
        digest,
    )
    from pacific_assets.storage.lake import Lake

    graph = defs.resolve_asset_graph()
    lake = Lake(root)
    keys_in_order = [k for k in graph.toposorted_asset_keys if graph.get(k).is_materializable]
    days = [d.isoformat() for d in _days(dt.date.fromisoformat(_first_key(root)))]
    slices_read: dict[str, set[str]] = {}
    for key in keys_in_order:
        for read in asset_lineage_from_graph(graph, key).reads:
            if read.rule == "slice":
                slices_read.setdefault(read.table, set()).add(read.name)
    written = 0
    for key in keys_in_order:
        table = key.to_user_string()
        spec = asset_lineage_from_graph(graph, key)
        pdef = graph.get(key).partitions_def
        keys = pdef.get_partition_keys(current_time=NOW) if pdef else [UNPARTITIONED]
        state = LakeState(lake, NOW)  # sees every table written before this one
        tdir = lake.lake / table
        (tdir / "_versions").mkdir(parents=True, exist_ok=True)
        template = tdir / "_versions" / "empty.parquet"
        _empty_parquet(template, table)
        slices = {
            name: {d: digest([table, name, d]) for d in days}
            for name in sorted(slices_read.get(table, ()))
        }
        for k in keys:
            version = f"k={k}.0"
            vdir = tdir / "_versions" / version
            vdir.mkdir()
            os.link(template, vdir / "part-0.parquet")
            record = Lineage(
                table=table,
                key=k,
                content=digest([table, k]),
                rows=0,
                inputs=spec.inputs(state, k)[0],
                built_at=NOW.isoformat(),
                slices=slices if pdef is None else {},
                cumulative=[n for n in slices if n in CUMULATIVE_SLICES] if pdef is None else [],
            )
            (vdir / "lineage.json").write_text(record.to_json())
            os.symlink(f"_versions/{version}", tdir / f"k={k}")
            written += 1
    return written


def _first_key(root: Path) -> str:
    from pacific_assets.orchestration.data_root import recorded_first_day

    first = recorded_first_day(root)
    assert first is not None, root
    return first.isoformat()


def tick(sensor_name: str) -> dict:
    """Evaluate ``sensor_name`` cold, then warm, over the data root of the environment."""
    import warnings

    warnings.filterwarnings("ignore")
    started = time.perf_counter()
    import dagster as dg

    from pacific_assets.definitions import defs
    from pacific_assets.orchestration.dagster_compat import moved_clock

    repo = defs.get_repository_def()
    sensor = repo.get_sensor_def(sensor_name)
    import_seconds = time.perf_counter() - started
    rss_after_import = _peak_rss_mb()
    out: dict = {"sensor": sensor_name, "import_seconds": round(import_seconds, 2)}
    with dg.instance_for_test() as instance:
        for label, at in (("cold", NOW), ("warm", NOW), ("busy", BUSY)):
            with (
                moved_clock(lambda at=at: at),
                dg.build_sensor_context(
                    instance=instance, resources=defs.resources, repository_def=repo
                ) as context,
            ):
                t0 = time.perf_counter()
                result = sensor.evaluate_tick(context)
                seconds = time.perf_counter() - t0
            out[f"{label}_seconds"] = round(seconds, 3)
            out[f"{label}_decision"] = {
                "run_keys": sorted(r.run_key or "" for r in result.run_requests or []),
                "skip": result.skip_message,
            }
    out["rss_after_import_mb"] = rss_after_import
    out["peak_rss_mb"] = _peak_rss_mb()
    return out


def _peak_rss_mb() -> float:
    """The process's peak resident set so far (Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def summarize(reports: list[dict], peaks_mb: list[float]) -> dict:
    """Medians over repeated fresh-process ticks of one sensor on one lake, and whether every
    repeat took the same decision (it must: the lake and the clock are the same)."""
    import statistics

    def med(key: str) -> float | None:
        values = [r[key] for r in reports if r.get(key) is not None]
        return round(statistics.median(values), 3) if values else None

    steady = {json.dumps(r.get("cold_decision"), sort_keys=True) for r in reports}
    steady |= {json.dumps(r.get("warm_decision"), sort_keys=True) for r in reports}
    busy = {json.dumps(r.get("busy_decision"), sort_keys=True) for r in reports}
    first = reports[0] if reports else {}
    return {
        "cold_seconds": med("cold_seconds"),
        "warm_seconds": med("warm_seconds"),
        "busy_seconds": med("busy_seconds"),
        "import_seconds": med("import_seconds"),
        "rss_after_import_mb": med("rss_after_import_mb"),
        "peak_rss_mb": round(statistics.median(peaks_mb), 1) if peaks_mb else None,
        "decision": first.get("cold_decision"),
        "busy_decision": first.get("busy_decision"),
        "same_decision_every_tick": len(steady) == 1 and len(busy) == 1,
        "all_ok": bool(reports) and all(r.get("ok") for r in reports),
    }


def growth(per_years: dict[str, dict], key: str) -> dict:
    """How ``key`` grows from the shortest history to the longest: the ratio, the ratio of the
    histories, and the exponent (1.0 = linear in history, 2.0 = quadratic)."""
    import math

    sizes = sorted(per_years, key=lambda y: int(y.rstrip("y")))
    if len(sizes) < 2:
        return {}
    lo, hi = sizes[0], sizes[-1]
    a, b = per_years[lo].get(key), per_years[hi].get(key)
    days = {y: (NOW.date() - first_day(int(y.rstrip("y")))).days for y in (lo, hi)}
    history = days[hi] / days[lo]
    if not a or not b:
        return {"from": lo, "to": hi, "history_ratio": round(history, 2)}
    ratio = b / a
    return {
        "from": lo,
        "to": hi,
        "ratio": round(ratio, 2),
        "history_ratio": round(history, 2),
        "exponent": round(math.log(ratio) / math.log(history), 2),
        "no_worse_than_linear": ratio <= history,
    }
