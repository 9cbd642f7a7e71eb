"""What the replay measured: per asset, from the instance's records and the lakes' lineage.

Definitions (docs/operations.md, "Replay"):

- **runs**: distinct runs that materialized the asset; **materializations**: partition
  materializations recorded by the instance.
- **re-materialization**: a materialization of a partition that had been materialized before;
  its reason is the input(s) whose version differs from the previous build of that partition
  (``landing:<source>`` a late or corrected file, ``clicks`` late or duplicate clicks,
  ``settled`` a verdict judged once the day is 48 h old, ``<table>`` an upstream rebuild that
  changed what this partition reads).
- **unnecessary**: a re-materialization whose inputs are exactly those of the previous build (no
  input changed: wasted work).
- **identical**: a re-materialization whose content (``pacific/data_version``, the content digest)
  came out the same as the partition's previous build: an input changed, but not in anything this
  partition's rows depend on (work a finer read rule could have spared).
- **late days**: the days of data that landed late during the replayed window (late or delayed
  clicks, late CRM events, late and corrected billing exports: the simulator's fault manifest);
  **rebuilt per late day**: an asset's distinct re-materialized partitions divided by them.
- **freshness violations**: the times Dagster's freshness daemon turned the asset to FAIL.
- **final_equals_recompute**: every partition of every table in the replayed lake has the same
  rows as a one-shot recompute of the same landed data at the same instant (volatile columns —
  when a record was written — excluded), and every partition the recompute has that the replay
  lacks was not yet due.
"""

from __future__ import annotations

import datetime as dt
import html
import json
from collections import Counter
from pathlib import Path

from pacific_assets.investor.completeness import STATUS_TABLE
from pacific_assets.investor.publish import RESTATEMENTS_TABLE
from pacific_assets.orchestration.lineage import REPORTED_BY_KEY
from pacific_assets.storage.quarantine import QUARANTINE_TABLE

#: Decimals floats are compared to (replayed lake vs one-shot recompute).
FLOAT_DIGITS = 6
#: Columns left out of the comparison with the one-shot recompute:
#: - when or by which run a row was written, not what it says;
#: - the rollups' completeness verdicts, which read the asset checks recorded in the instance
#:   (docs/investor.md): a fresh instance has another check history than weeks of production,
#:   so these say what each instance knew, and the figures beside them are compared.
VOLATILE = {
    STATUS_TABLE: [
        "assessed_at",
        "failed_checks",
        "warnings",
        "status",
        "is_ok",
        "reason",
    ],
    RESTATEMENTS_TABLE: ["recorded_at", "run_id", "detected_at"],
    QUARANTINE_TABLE: ["quarantined_at"],
    "investor_rollup": [
        "is_complete",
        "incomplete_inputs",
        "incomplete_reason",
        "publication_status",
    ],
    "executive_weekly": [
        "is_complete",
        "incomplete_inputs",
        "incomplete_reason",
        "publication_status",
    ],
}


def _materializations(instance, key):
    cursor = None
    while True:
        result = instance.fetch_materializations(key, limit=1000, cursor=cursor, ascending=True)
        yield from result.records
        if not result.has_more:
            return
        cursor = result.cursor


def _meta(record, name):
    meta = record.asset_materialization.metadata if record.asset_materialization else {}
    value = meta.get(name)
    return getattr(value, "value", value)


def collect(cfg, instance, defs, log, final: dt.datetime) -> dict:
    """Per-asset counts from the instance (and the freshness changes the replay observed)."""
    graph = defs.resolve_asset_graph()
    runs_cache: dict[str, dict] = {}

    def tags(run_id):
        if run_id not in runs_cache:
            run = instance.get_run_by_id(run_id)
            runs_cache[run_id] = dict(run.tags) if run else {}
        return runs_cache[run_id]

    assets: dict[str, dict] = {}
    marks: list[dict] = []
    late = late_days(cfg, final)
    for node in sorted(graph.asset_nodes, key=lambda n: n.key.to_user_string()):
        if not node.is_materializable:
            continue
        name = node.key.to_user_string()
        previous: dict[str | None, object] = {}
        runs: set[str] = set()
        reasons: Counter[str] = Counter()
        triggers: Counter[str] = Counter()
        stats = Counter()
        rebuilt: set[str] = set()
        contents: dict[str | None, object] = {}
        for record in _materializations(instance, node.key):
            if _meta(record, REPORTED_BY_KEY) is not None:
                continue  # a version reported after its build (a range step's), not a build
            partition = record.partition_key
            runs.add(record.run_id)
            stats["materializations"] += 1
            run_tags = tags(record.run_id)
            trigger = run_tags.get("pacific/trigger") or run_tags.get(
                "dagster/schedule_name", run_tags.get("dagster/sensor_name", "manual")
            )
            versions = _meta(record, "pacific/input_versions") or {}
            inputs = _meta(record, "pacific/inputs_version")
            content = _meta(record, "pacific/data_version")
            kind = "build"
            if partition in previous:
                stats["rematerializations"] += 1
                rebuilt.add(partition or "current")
                if content is not None and content == contents.get(partition):
                    stats["identical"] += 1
                prev_inputs, prev_versions = previous[partition]
                changed = sorted(k for k in versions if versions.get(k) != prev_versions.get(k))
                if inputs is not None and inputs == prev_inputs:
                    stats["unnecessary_rematerializations"] += 1
                    reasons["none (unnecessary)"] += 1
                    kind = "unnecessary"
                else:
                    for c in changed or ["unknown"]:
                        reasons[c] += 1
                    kind = "rebuild"
                triggers[trigger] += 1
            previous[partition] = (inputs, versions)
            contents[partition] = content
            marks.append(
                {
                    "asset": name,
                    "at": dt.datetime.fromtimestamp(record.timestamp, dt.UTC).isoformat(),
                    "partition": partition,
                    "kind": kind,
                    "trigger": trigger,
                }
            )
        violations = sum(1 for f in log.freshness if f["asset"] == name and f["to"] == "FAIL")
        assets[name] = {
            "runs": len(runs),
            "materializations": stats["materializations"],
            "rematerializations": stats["rematerializations"],
            "unnecessary_rematerializations": stats["unnecessary_rematerializations"],
            "rematerialized_identical": stats["identical"],
            "rebuilt_per_late_day": round(len(rebuilt) / len(late), 2) if late else None,
            "freshness_violations": violations,
            "rematerialized_because": dict(sorted(reasons.items())),
            "rematerialized_by": dict(sorted(triggers.items())),
            "rematerialized_partitions": sorted(rebuilt),
        }
    alerts = _alerts(cfg.live)
    return {
        "days": cfg.days,
        "profile": cfg.profile,
        "start": cfg.start.isoformat(),
        "end": final.isoformat(),
        "ticks": len(log.ticks),
        "tick_seconds": {
            "idle": round(sum(t.seconds for t in log.ticks if not t.runs), 1),
            "with_runs": round(sum(t.seconds for t in log.ticks if t.runs), 1),
        },
        "runs": instance.get_runs_count(),
        "failed_runs": sum(
            1 for r in instance.get_runs(limit=100000) if r.status.value == "FAILURE"
        ),
        "late_days": late,
        "assets": assets,
        "alerts_by_route": dict(Counter(_route(a) for a in alerts)),
        "freshness_changes": log.freshness,
        "_marks": marks,
        "_alerts": alerts,
    }


def late_days(cfg, final: dt.datetime) -> list[str]:
    """The days of data that landed late in the replayed window (after the warm start, up to
    ``final``), from the simulator's fault manifest."""
    manifest = cfg.source / "truth" / "fault_manifest.json"
    if not manifest.exists():
        return []
    doc = json.loads(manifest.read_text())
    start = cfg.warm_until or dt.datetime.combine(cfg.start, dt.time(), dt.UTC)
    clicks, crm, billing = doc.get("clicks", {}), doc.get("crm", {}), doc.get("billing", {})
    arrivals = [
        *(
            (c["event_ts"], c["landed_at"])
            for c in clicks.get("late", []) + clicks.get("delayed", [])
        ),
        *(
            (e["effective_at"], _crm_landed(cfg, e["landing_date"]))
            for e in crm.get("late_events", [])
        ),
        *((e["export_date"], e["landed_at"]) for e in billing.get("late_exports", [])),
        *((e["export_date"], e["correction_landed_at"]) for e in billing.get("corrections", [])),
    ]

    def instant(text: str) -> dt.datetime:
        t = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        return t if t.tzinfo else t.replace(tzinfo=dt.UTC)

    return sorted({day[:10] for day, landed in arrivals if start < instant(landed) <= final})


def _crm_landed(cfg, landing_date: str) -> str:
    """When the CRM events export holding a late event (recorded on ``landing_date``) landed."""
    import polars as pl

    schedule = pl.read_parquet(cfg.source / "truth" / "landing_schedule.parquet")
    landed = schedule.filter(
        (pl.col("source") == "account_events")
        & pl.col("path").str.contains(f"date={landing_date}/", literal=True)
    )["landed_at"].min()
    return landed.isoformat() if landed is not None else f"{landing_date}T23:59:59+00:00"


def _alerts(data_root: Path) -> list[dict]:
    from pacific_assets.operations.alerts import read_alert_log

    return read_alert_log(data_root / "ops")


def _route(alert: dict) -> str:
    return f"{alert.get('action', '?')} {alert.get('owner', '?')}"


# -- the one-shot comparison -------------------------------------------------------------------
def table_digests(lake, table: str) -> dict[str, str]:
    """Partition key -> content digest (volatile columns excluded) for one lake table."""
    import duckdb

    from pacific_assets.orchestration.lineage import digest

    out = {}
    tdir = lake.lake / table
    if not tdir.is_dir():
        return out
    drop = VOLATILE.get(table, [])
    con = duckdb.connect()
    try:
        for link in sorted(tdir.glob("*=*")):
            files = sorted(str(f) for f in link.resolve().glob("*.parquet"))
            if not files:
                continue
            types = dict(
                con.execute(
                    "DESCRIBE SELECT * FROM read_parquet(?, hive_partitioning = false)", [files[0]]
                )
                .fetchnumpy()
                .items()
            )
            cols = dict(zip(types["column_name"], types["column_type"], strict=True))
            keep = [c for c in cols if c not in drop and c != "schema"]
            select = ", ".join(f'"{c}"' for c in keep)
            # floats to FLOAT_DIGITS decimals: a sum taken day by day and one taken over a range
            # differ in the last bits (1e-13 relative), not in any figure anyone reads
            values = ", ".join(
                f'round("{c}", {FLOAT_DIGITS}) AS "{c}"'
                if cols[c] in ("DOUBLE", "FLOAT")
                else f'"{c}"'
                for c in keep
            )
            rows, h = con.execute(
                f"SELECT count(*), coalesce(sum(hash(struct_pack({select})))::HUGEINT, 0)::VARCHAR "
                f"FROM (SELECT {values} FROM read_parquet(?, hive_partitioning = false))",
                [files],
            ).fetchone()
            out[link.name.split("=", 1)[1]] = digest([",".join(keep), str(rows), h])
    finally:
        con.close()
    return out


def compare_with_recompute(cfg, final: dt.datetime) -> dict:
    """Replayed lake vs one-shot recompute, partition by partition."""
    from pacific_assets.storage.lake import Lake

    live, again = Lake(cfg.live), Lake(cfg.recompute_root)
    tables = sorted(set(live.tables()) | set(again.tables()))
    mismatched, missing_in_replay, extra_in_replay = [], [], []
    compared = 0
    for table in tables:
        a, b = table_digests(live, table), table_digests(again, table)
        for key in sorted(set(a) | set(b)):
            if key in a and key in b:
                compared += 1
                if a[key] != b[key]:
                    mismatched.append(f"{table}/{key}")
            elif key in b:
                missing_in_replay.append(f"{table}/{key}")
            else:
                extra_in_replay.append(f"{table}/{key}")
    not_due = _not_yet_due(cfg, final, missing_in_replay)
    really_missing = [m for m in missing_in_replay if m not in not_due]
    return {
        "final_equals_recompute": not mismatched and not really_missing and not extra_in_replay,
        "recompute": {
            "partitions_compared": compared,
            "mismatched": mismatched,
            "missing_in_replay": really_missing,
            "not_yet_due_in_replay": not_due,
            "extra_in_replay": extra_in_replay,
        },
    }


def _not_yet_due(cfg, final: dt.datetime, missing: list[str]) -> list[str]:
    """Partitions the replay lacks because their schedule had not come yet at ``final``."""
    if not missing:
        return []
    from pacific_assets.definitions import defs
    from pacific_assets.orchestration.automation import SENSOR_GRACE
    from pacific_assets.orchestration.dagster_compat import next_cron_tick
    from pacific_assets.orchestration.lineage import grid_of, period

    due = {}
    for schedule in defs.get_repository_def().schedule_defs:
        meta = schedule.metadata or {}
        assets = meta.get("pacific/assets")
        for table in getattr(assets, "value", assets) or []:
            due[table] = schedule.cron_schedule
    graph = defs.resolve_asset_graph()
    out = []
    for item in missing:
        table, key = item.split("/", 1)
        import dagster as dg

        if table not in due or not graph.has(dg.AssetKey(table)):
            continue
        grid = grid_of(graph.get(dg.AssetKey(table)).partitions_def)
        end = dt.datetime.combine(period(grid, key)[1], dt.time(), dt.UTC)
        if next_cron_tick(due[table], end, "UTC") + SENSOR_GRACE > final:
            out.append(item)
    return out


# -- output -------------------------------------------------------------------------------------
def table_text(result: dict) -> str:
    """The per-asset table the replay prints (and the closing note quotes)."""
    head = (
        f"{'asset':28} {'runs':>5} {'mat.':>6} {'remat.':>6} {'unnec.':>6} {'ident.':>6} "
        f"{'/late':>6} {'fresh.':>6}  re-materialized because"
    )
    lines = [head, "-" * len(head)]
    for name, a in result["assets"].items():
        if not a["materializations"]:
            continue
        because = ", ".join(f"{k} {v}" for k, v in a["rematerialized_because"].items())
        per_late = a.get("rebuilt_per_late_day")
        lines.append(
            f"{name:28} {a['runs']:>5} {a['materializations']:>6} {a['rematerializations']:>6} "
            f"{a['unnecessary_rematerializations']:>6} {a.get('rematerialized_identical', 0):>6} "
            f"{'-' if per_late is None else f'{per_late:g}':>6} {a['freshness_violations']:>6}  "
            f"{because}"
        )
    total = {
        k: sum(a.get(k, 0) for a in result["assets"].values())
        for k in (
            "materializations",
            "rematerializations",
            "unnecessary_rematerializations",
            "rematerialized_identical",
        )
    }
    lines.append("-" * len(head))
    lines.append(
        f"{'total':28} {result['runs']:>5} {total['materializations']:>6} "
        f"{total['rematerializations']:>6} {total['unnecessary_rematerializations']:>6} "
        f"{total['rematerialized_identical']:>6}"
    )
    late = result.get("late_days", [])
    lines.append(
        f"late days in the window: {len(late)}"
        + (f" ({', '.join(late)})" if late else "")
        + "; ident. = rebuilt with identical content; /late = partitions rebuilt per late day"
    )
    lines.append("")
    lines.append(
        "alerts by route: "
        + (", ".join(f"{k}: {v}" for k, v in sorted(result["alerts_by_route"].items())) or "none")
    )
    if "final_equals_recompute" in result:
        rc = result["recompute"]
        lines.append(
            f"final lake equals a one-shot recompute: {result['final_equals_recompute']} "
            f"({rc['partitions_compared']} partitions compared, {len(rc['mismatched'])} differ, "
            f"{len(rc['missing_in_replay'])} missing, {len(rc['not_yet_due_in_replay'])} not yet "
            "due)"
        )
    return "\n".join(lines)


def write_reports(cfg, result: dict, log) -> None:
    cfg.report_dir.mkdir(parents=True, exist_ok=True)
    public = {k: v for k, v in result.items() if not k.startswith("_")}
    (cfg.report_dir / "summary.json").write_text(json.dumps(public, indent=1, default=str) + "\n")
    (cfg.report_dir / "timeline.html").write_text(timeline_html(cfg, result, log))


def _late_arrivals(cfg, log) -> list[dict]:
    """Landings worth marking: late or corrected exports, filings, and the late clicks / CRM
    events the simulator's fault manifest lists."""
    out = []
    for row in log.landings:
        kind = row.get("kind")
        if kind in ("late_export", "correction", "filing"):
            out.append({"at": str(row["landed_at"]), "what": f"{kind}: {row['path']}"})
    manifest = cfg.source / "truth" / "fault_manifest.json"
    if manifest.exists():
        doc = json.loads(manifest.read_text())
        for ev in doc.get("crm", {}).get("late_events", []):
            out.append({"at": ev["landing_date"], "what": f"late CRM event {ev['event_id']}"})
        late_batches = Counter()
        for c in doc.get("clicks", {}).get("late", []):
            late_batches[c.get("batch", "?")] += 1
        for batch, n in late_batches.items():
            out.append({"at": None, "what": f"{n} late click(s) in {batch}"})
    return out


def timeline_html(cfg, result: dict, log) -> str:
    """A self-contained page: one row per asset, one mark per materialization."""
    marks = result["_marks"]
    start = dt.datetime.fromisoformat(f"{result['start']}T00:00:00+00:00")
    end = dt.datetime.fromisoformat(result["end"])
    span = max((end - start).total_seconds(), 1)
    assets = [a for a, v in result["assets"].items() if v["materializations"]]
    left, width, row_h = 210, 1100, 18
    height = 40 + row_h * (len(assets) + 2)

    def x(iso: str) -> float:
        t = dt.datetime.fromisoformat(iso)
        return left + width * (t - start).total_seconds() / span

    colors = {"build": "#4c78a8", "rebuild": "#f58518", "unnecessary": "#e45756"}
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 20}" height="{height}" '
        'font-family="sans-serif" font-size="11">'
    ]
    day = start
    while day <= end:
        px = x(day.isoformat())
        parts.append(
            f'<line x1="{px:.1f}" y1="20" x2="{px:.1f}" y2="{height - 10}" stroke="#eee"/>'
        )
        if day.day in (1, 8, 15, 22):
            parts.append(f'<text x="{px:.1f}" y="14">{day:%m-%d}</text>')
        day += dt.timedelta(days=1)
    rows = {a: 30 + i * row_h for i, a in enumerate(assets)}
    for a, y in rows.items():
        parts.append(f'<text x="4" y="{y + 4}">{html.escape(a)}</text>')
    for m in marks:
        if m["asset"] not in rows:
            continue
        title = html.escape(
            f"{m['asset']} {m['partition'] or ''} {m['kind']} at {m['at']} ({m['trigger']})"
        )
        parts.append(
            f'<circle cx="{x(m["at"]):.1f}" cy="{rows[m["asset"]]}" r="3" '
            f'fill="{colors[m["kind"]]}"><title>{title}</title></circle>'
        )
    y_alert = 30 + len(assets) * row_h + 6
    parts.append(f'<text x="4" y="{y_alert + 4}">alerts</text>')
    for a in result["_alerts"]:
        at = a.get("at")
        if at:
            title = html.escape(
                f"{a.get('action')} {a.get('owner')}: {a.get('asset')} {a.get('kind')}"
            )
            parts.append(
                f'<rect x="{x(at) - 3:.1f}" y="{y_alert - 3}" width="6" height="6" fill="#b279a2">'
                f"<title>{title}</title></rect>"
            )
    for late in _late_arrivals(cfg, log):
        if not late["at"]:
            continue
        at = late["at"] if "T" in late["at"] else f"{late['at']}T00:00:00+00:00"
        try:
            px = x(at.replace(" ", "T"))
        except ValueError:
            continue
        parts.append(
            f'<line x1="{px:.1f}" y1="20" x2="{px:.1f}" y2="{height - 10}" stroke="#54a24b" '
            f'stroke-dasharray="3,3"><title>{html.escape(late["what"])} at {at}</title></line>'
        )
    parts.append("</svg>")
    legend = (
        '<p><span style="color:#4c78a8">●</span> first build '
        '<span style="color:#f58518">●</span> re-materialized (an input changed) '
        '<span style="color:#e45756">●</span> unnecessary '
        '<span style="color:#b279a2">■</span> alert '
        '<span style="color:#54a24b">┆</span> late / corrected arrival</p>'
    )
    table = html.escape(table_text(result))
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Replay timeline</title></head>"
        f"<body><h1>Replay: {result['days']} days from {result['start']}</h1>{legend}"
        f"{''.join(parts)}<h2>Per asset</h2><pre>{table}</pre></body></html>\n"
    )
