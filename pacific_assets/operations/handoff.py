"""The weekly hand-off summary of the engagement rotation (runbook: 30-minute hand-off meeting).

One Markdown page per Monday week, written on the following Monday morning: who hands over to
whom, the engagement incidents opened that week, those resolved, and those still open at the end
of the week (carried over, with their 1-week fix clock). Membership is decided as of the end of
the week, so re-running an old week gives the same page; the "now" column shows where each
incident stands at hand-off time.
"""

import datetime as dt

import dagster as dg

from pacific_assets.operations.incidents import Incident, IncidentStore
from pacific_assets.operations.resources import OpsResource, ops_dir
from pacific_assets.orchestration import single_run_backfill, weekly
from pacific_assets.resources import LakeResource

PIPELINE = "engagement"


def _at(value: str | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromisoformat(value)


def open_at(incident: Incident, at: dt.datetime) -> bool:
    """Was the incident open at instant ``at``?"""
    resolved = _at(incident.resolved_at)
    return _at(incident.opened_at) < at and (resolved is None or resolved > at)


def _fmt_delta(delta: dt.timedelta | None) -> str:
    if delta is None:
        return "-"
    sign = "-" if delta < dt.timedelta(0) else ""
    hours = abs(delta).total_seconds() / 3600
    return f"{sign}{hours / 24:.1f} d" if hours >= 24 else f"{sign}{hours:.0f} h"


def handoff_markdown(
    incidents: list[Incident],
    week_start: dt.datetime,
    now: dt.datetime,
    roster_out: dict[str, str],
    roster_in: dict[str, str],
) -> tuple[str, dict[str, int]]:
    """The hand-off page for the week starting ``week_start``, and its counts."""
    week_end = week_start + dt.timedelta(days=7)
    mine = [i for i in incidents if i.pipeline == PIPELINE]
    opened = [i for i in mine if week_start <= _at(i.opened_at) < week_end]
    resolved = [i for i in mine if i.resolved_at and week_start <= _at(i.resolved_at) < week_end]
    carried = [i for i in mine if open_at(i, week_end)]
    overdue = [i for i in carried if i.fix_due_at and _at(i.fix_due_at) <= week_end]

    def table(rows: list[Incident], extra: str) -> str:
        if not rows:
            return "_none_\n"
        head = f"| incident | asset | partition | what | opened | fix due | now | {extra} |\n"
        head += "|---|---|---|---|---|---|---|---|\n"
        lines = []
        for i in rows:
            parts = i.partitions or ["-"]
            part = parts[0] if len(parts) == 1 else f"{parts[0]}…{parts[-1]} ({len(parts)})"
            value = (
                _fmt_delta(i.time_left(week_end))
                if extra == "time left at week end"
                else (i.resolved_by or "-")
            )
            lines.append(
                f"| `{i.id}` | `{i.asset}` | {part} | {i.kind} | {i.opened_at[:16]} | "
                f"{(i.fix_due_at or '-')[:16]} | {i.state(now)} | {value} |"
            )
        return head + "\n".join(lines) + "\n"

    md = (
        f"# Engagement on-call hand-off — week of {week_start:%Y-%m-%d}\n\n"
        f"- Outgoing DE owner: **{roster_out.get('engagement_de', '?')}** "
        f"(SWE contact {roster_out.get('engagement_swe_contact', '?')})\n"
        f"- Incoming DE owner (week of {week_end:%Y-%m-%d}): "
        f"**{roster_in.get('engagement_de', '?')}** "
        f"(SWE contact {roster_in.get('engagement_swe_contact', '?')})\n"
        f"- Fix SLA: 1 week from opening. Written {now:%Y-%m-%d %H:%M} UTC.\n\n"
        f"## Still open at the end of the week ({len(carried)}, {len(overdue)} overdue)\n\n"
        f"{table(carried, 'time left at week end')}\n"
        f"## Opened this week ({len(opened)})\n\n{table(opened, 'resolved by')}\n"
        f"## Resolved this week ({len(resolved)})\n\n{table(resolved, 'resolved by')}"
    )
    counts = {
        "opened": len(opened),
        "resolved": len(resolved),
        "still_open": len(carried),
        "overdue": len(overdue),
    }
    return md, counts


@dg.asset(
    name="engagement_oncall_handoff",
    group_name="operations",
    partitions_def=weekly,
    backfill_policy=single_run_backfill,
    description="Weekly hand-off page for the engagement on-call rotation: incidents opened, "
    "resolved and still open (with their 1-week fix clock), outgoing and incoming owners. "
    "Written to <data_root>/ops/handoff/engagement_<week>.md.",
)
def engagement_oncall_handoff(
    context: dg.AssetExecutionContext, lake: LakeResource, ops: OpsResource
) -> dg.MaterializeResult:
    out_dir = ops_dir(lake) / "handoff"
    out_dir.mkdir(parents=True, exist_ok=True)
    store = IncidentStore(ops_dir(lake))
    incidents = store.all()
    rotation = ops.rotation()
    now = ops.now()
    written = []
    counts: dict[str, int] = {}
    md = ""
    for key in context.partition_keys:
        start = dt.datetime.fromisoformat(key).replace(tzinfo=dt.UTC)
        md, counts = handoff_markdown(
            incidents,
            start,
            now,
            rotation.roster(start),
            rotation.roster(start + dt.timedelta(days=7)),
        )
        path = out_dir / f"engagement_{key}.md"
        tmp = path.with_suffix(".md.tmp")
        tmp.write_text(md)
        tmp.replace(path)
        written.append(str(path))
    return dg.MaterializeResult(
        metadata={
            "weeks": len(written),
            "path": dg.MetadataValue.path(written[-1]),
            **counts,
            "preview": dg.MetadataValue.md(md),
        }
    )
