"""Incidents from open to resolved, timed against the runbooks' fix SLAs.

An incident is one failing thing: an asset whose run failed (``run_failure``), a failed asset
check (``check:<name>``) or a missed SLA partition (``sla:newest_expected_partition``). It opens
at the first failure, counts repeats while open, and resolves when the asset or check later
succeeds for the partitions it was opened for.

Fix SLAs (runbooks): Engagement within 1 week of opening; Investor by the end of the month it
opened in (reports go out at month end). Other pipelines state none.

Storage: one small JSON file per incident under ``<data_root>/ops/incidents/``, written to a
temporary file and renamed, so a reader never sees half a file. Only the routing sensors write
(one daemon), so there is no write contention.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from pacific_assets.pipeline_policy import FixSla
from pacific_assets.storage.unchanged import FileMemo


def fix_due(fix_sla: FixSla | None, opened_at: dt.datetime) -> dt.datetime | None:
    """When an incident opened at ``opened_at`` must be fixed by (None: no fix SLA)."""
    if fix_sla is None:
        return None
    opened_at = _utc(opened_at)
    if fix_sla == "within_1_week":
        return opened_at + dt.timedelta(days=7)
    if fix_sla == "by_end_of_month":
        year, month = (
            (opened_at.year + 1, 1)
            if opened_at.month == 12
            else (
                opened_at.year,
                opened_at.month + 1,
            )
        )
        return dt.datetime(year, month, 1, tzinfo=dt.UTC)
    raise ValueError(f"unknown fix SLA {fix_sla!r}")


@dataclass
class Incident:
    id: str
    pipeline: str
    asset: str
    kind: str
    severity: str
    summary: str
    opened_at: str
    last_seen_at: str
    #: Partition keys it was opened for; None means the whole asset (or an unpartitioned check).
    partitions: list[str] | None
    #: Those still waiting for a success; resolved when it becomes empty.
    pending_partitions: list[str] | None
    owner: str
    action: str
    contacts: list[str]
    runbook_step: str
    fix_due_at: str | None
    occurrences: int = 1
    run_ids: list[str] = field(default_factory=list)
    status: str = "open"
    resolved_at: str | None = None
    resolved_by: str | None = None

    # -- the incident clock -------------------------------------------------------------------
    def state(self, now: dt.datetime) -> str:
        """open | overdue | resolved | resolved_late (resolved after its fix SLA)."""
        due = _parse(self.fix_due_at)
        if self.status == "resolved":
            resolved = _parse(self.resolved_at)
            return "resolved_late" if due and resolved and resolved > due else "resolved"
        return "overdue" if due and _utc(now) >= due else "open"

    def time_open(self, now: dt.datetime) -> dt.timedelta:
        end = _parse(self.resolved_at) if self.status == "resolved" else _utc(now)
        return end - _parse(self.opened_at)

    def time_left(self, now: dt.datetime) -> dt.timedelta | None:
        """Until the fix SLA (negative when overdue); None without a fix SLA or once resolved."""
        due = _parse(self.fix_due_at)
        if due is None or self.status == "resolved":
            return None
        return due - _utc(now)


#: Parsed records, reused while a file is unchanged: every routing pass reads every record (a
#: resolved one too), and records pile up with history (storage/unchanged.py).
_RECORDS = FileMemo()


def _incident(path: Path) -> Incident:
    """The record at ``path``; a fresh object each time (callers change and write it back)."""
    data = _RECORDS.get([path], lambda: json.loads(path.read_text()))
    return Incident(**{k: list(v) if isinstance(v, list) else v for k, v in data.items()})


class IncidentStore:
    """JSON files under ``<data_root>/ops/incidents``."""

    def __init__(self, ops_dir: str | os.PathLike[str]):
        self.dir = Path(ops_dir) / "incidents"

    def all(self) -> list[Incident]:
        if not self.dir.exists():
            return []
        out = [_incident(p) for p in sorted(self.dir.glob("*.json"))]
        return sorted(out, key=lambda i: (i.opened_at, i.id))

    def open_incidents(self) -> list[Incident]:
        return [i for i in self.all() if i.status == "open"]

    def find_open(self, asset: str, kind: str) -> Incident | None:
        return next((i for i in self.open_incidents() if (i.asset, i.kind) == (asset, kind)), None)

    def open_or_update(
        self,
        *,
        pipeline: str,
        asset: str,
        kind: str,
        severity: str,
        summary: str,
        at: dt.datetime,
        partitions: Iterable[str] | None,
        owner: str,
        action: str,
        contacts: Iterable[str],
        runbook_step: str,
        run_id: str | None = None,
        fix_sla: FixSla | None = None,
    ) -> tuple[Incident, bool]:
        """Open a new incident, or record a repeat on the open one; returns (incident, is_new).
        ``fix_sla``: the pipeline's (its on-call rules on the graph), which sets the due date."""
        keys = None if partitions is None else sorted(set(partitions))
        existing = self.find_open(asset, kind)
        if existing is not None:
            existing.last_seen_at = _iso(at)
            existing.occurrences += 1
            existing.summary = summary
            if run_id and run_id not in existing.run_ids:
                existing.run_ids = [*existing.run_ids, run_id][-20:]
            if existing.pending_partitions is not None:
                existing.pending_partitions = (
                    None if keys is None else sorted(set(existing.pending_partitions) | set(keys))
                )
                existing.partitions = (
                    None
                    if existing.pending_partitions is None
                    else sorted(set(existing.partitions or []) | set(keys or []))
                )
            self._write(existing)
            return existing, False
        due = fix_due(fix_sla, at)
        incident = Incident(
            id=f"{_utc(at):%Y%m%dT%H%M%SZ}-{_slug(asset)}-{_slug(kind)}-{uuid.uuid4().hex[:6]}",
            pipeline=pipeline,
            asset=asset,
            kind=kind,
            severity=severity,
            summary=summary,
            opened_at=_iso(at),
            last_seen_at=_iso(at),
            partitions=keys,
            pending_partitions=None if keys is None else list(keys),
            owner=owner,
            action=action,
            contacts=list(contacts),
            runbook_step=runbook_step,
            fix_due_at=_iso(due) if due else None,
            run_ids=[run_id] if run_id else [],
        )
        self._write(incident)
        return incident, True

    def record_success(
        self,
        *,
        asset: str,
        kinds: Iterable[str],
        at: dt.datetime,
        partitions: Iterable[str] | None,
        by: str,
    ) -> list[Incident]:
        """A success for ``partitions`` (None: the whole asset) clears them; returns resolved ones."""
        covered = None if partitions is None else set(partitions)
        kinds = set(kinds)
        resolved = []
        for incident in self.open_incidents():
            if incident.asset != asset or incident.kind not in kinds:
                continue
            if covered is None:
                remaining: list[str] = []  # a success for the whole asset clears everything
            elif incident.pending_partitions is None:
                continue  # opened for the whole asset: a partial success does not resolve it
            else:
                remaining = sorted(set(incident.pending_partitions) - covered)
                if len(remaining) == len(incident.pending_partitions):
                    continue  # none of its partitions succeeded
            if incident.pending_partitions is not None:
                incident.pending_partitions = remaining
            if not remaining:
                incident.status = "resolved"
                incident.resolved_at = _iso(at)
                incident.resolved_by = by
                resolved.append(incident)
            self._write(incident)
        return resolved

    def _write(self, incident: Incident) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        path = self.dir / f"{incident.id}.json"
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
        tmp.write_text(json.dumps(asdict(incident), indent=2, sort_keys=True) + "\n")
        os.replace(tmp, path)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)[:60]


def _utc(at: dt.datetime) -> dt.datetime:
    return at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at.astimezone(dt.UTC)


def _iso(at: dt.datetime) -> str:
    return _utc(at).isoformat(timespec="seconds")


def _parse(value: str | None) -> dt.datetime | None:
    return None if value is None else _utc(dt.datetime.fromisoformat(value))
