"""Small builders the operations tests share: clock times and incidents in the real store."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from pacific_assets.operations.incidents import Incident, IncidentStore
from pacific_assets.registry import discover

#: Each pipeline's fix SLA, as its folder declares it.
FIX_SLA = {p.name: p.policy.fix_sla for p in discover()}


def at(text: str) -> dt.datetime:
    """'2025-10-01 10:00' -> that instant in UTC (the runbooks' clock)."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def open_incident(
    store: IncidentStore,
    pipeline: str,
    asset: str,
    when: str,
    partitions: Iterable[str] | None,
    *,
    kind: str = "run_failure",
    owner: str = "dev1",
    contacts: Iterable[str] = ("swe1",),
    runbook_step: str = "Engagement 5b: fix it",
    run_id: str | None = None,
) -> tuple[Incident, bool]:
    """A failure of ``asset`` reported at ``when``: opens an incident or repeats the open one.

    Severity, summary and action are fixed: the tests are about the clock and the bookkeeping.
    """
    return store.open_or_update(
        pipeline=pipeline,
        asset=asset,
        kind=kind,
        severity="ERROR",
        summary="boom",
        at=at(when),
        partitions=None if partitions is None else list(partitions),
        owner=owner,
        action="page",
        contacts=list(contacts),
        runbook_step=runbook_step,
        run_id=run_id,
        # the fix SLA its pipeline declares, as the sensors read it from the asset graph
        fix_sla=FIX_SLA.get(pipeline),
    )


def record_success(
    store: IncidentStore,
    asset: str,
    when: str,
    partitions: Iterable[str] | None,
    by: str,
    kinds: Iterable[str] = ("run_failure",),
) -> list[Incident]:
    """``asset`` succeeded for ``partitions`` (None: all of it) at ``when``; returns the resolved."""
    return store.record_success(
        asset=asset, kinds=set(kinds), at=at(when), partitions=partitions, by=by
    )
