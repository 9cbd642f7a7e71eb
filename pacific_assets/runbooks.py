"""The runbooks' prose, read from ``docs/runbooks/<pipeline>.md`` so it is written once.

People read the runbooks in ``docs/runbooks/``; the Dagster UI shows the same text under every
asset of the pipeline (``PipelinePolicy.runbook_markdown`` adds the data: owners, freshness
policy, fix SLA, which failure each step answers); alerts quote its first steps. Only prose lives
in the Markdown; everything alerts, routing or checks decide on stays in each pipeline's
``pipeline.py``.

Why ``docs/`` and not package data: the code location always runs from the repository checkout
(editable install by ``make venv``, ``workspace.yaml``, ``dagster dev``); no wheel is built or
deployed. The runbooks belong with the other docs, where on-call reads them. If the package is
ever installed without its repository, ``load_runbook`` fails at import naming the missing file,
rather than showing assets without a runbook.

File format (``docs/runbooks/README.md``): ``# Runbook — <title>``, any introduction, then exactly
the sections ``## SLA`` and ``## On-call`` (paragraphs), ``## Common issues`` (a list) and
``## First steps`` (a list of ``**<ref>**: <action>``). Lines are wrapped for reading; the loader
joins a paragraph's or list item's lines with single spaces.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

#: ``docs/runbooks`` of the repository this package is in.
RUNBOOK_DIR = Path(__file__).resolve().parents[1] / "docs" / "runbooks"

_TITLE = re.compile(r"^# Runbook — (?P<title>.+)$")
_STEP = re.compile(r"^\*\*(?P<ref>[^*]+)\*\*: (?P<action>.+)$")
_SECTIONS = ("SLA", "Common issues", "On-call", "First steps")


class RunbookError(ValueError):
    """A runbook file is missing or does not have the expected shape."""


@dataclass(frozen=True)
class Runbook:
    """One pipeline's runbook prose, as written in ``docs/runbooks/<pipeline>.md``."""

    pipeline: str
    title: str
    sla: str
    common_issues: tuple[str, ...]
    oncall: str
    #: (ref, action) of each first step, in the runbook's order.
    steps: tuple[tuple[str, str], ...]


def load_runbook(pipeline: str, directory: Path = RUNBOOK_DIR) -> Runbook:
    """The runbook of ``pipeline`` (its group name); fails naming the file and what is wrong."""
    path = directory / f"{pipeline}.md"
    if not path.is_file():
        raise RunbookError(
            f"runbook {path} is missing: the asset descriptions of the '{pipeline}' pipeline are "
            "loaded from docs/runbooks/ in the repository checkout (see "
            "pacific_assets/operations/runbooks.py)"
        )
    return parse_runbook(pipeline, path.read_text(encoding="utf-8"), str(path))


def parse_runbook(pipeline: str, text: str, source: str = "<text>") -> Runbook:
    lines = text.splitlines()
    title = _TITLE.match(lines[0]) if lines else None
    if title is None:
        raise RunbookError(f"{source}: the first line must be '# Runbook — <title>'")
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in lines[1:]:
        if line.startswith("## "):
            name = line[3:].strip()
            if name not in _SECTIONS or name in sections:
                raise RunbookError(
                    f"{source}: section '{name}' is unknown or repeated; expected each of "
                    f"{', '.join(_SECTIONS)} once"
                )
            current = sections[name] = []
        elif current is not None:
            current.append(line)
    missing = [name for name in _SECTIONS if name not in sections]
    if missing:
        raise RunbookError(f"{source}: missing section(s) {', '.join(missing)}")
    steps = []
    for item in _list(sections["First steps"], source, "First steps"):
        match = _STEP.match(item)
        if match is None:
            raise RunbookError(f"{source}: a first step must read '**<ref>**: <action>': {item!r}")
        steps.append((match["ref"], match["action"]))
    return Runbook(
        pipeline=pipeline,
        title=title["title"].strip(),
        sla=_paragraphs(sections["SLA"]),
        common_issues=tuple(_list(sections["Common issues"], source, "Common issues")),
        oncall=_paragraphs(sections["On-call"]),
        steps=tuple(steps),
    )


def _paragraphs(lines: list[str]) -> str:
    """The section's paragraphs, each on one line, separated by a blank line."""
    paragraphs, current = [], []
    for line in [*lines, ""]:
        if line.strip():
            current.append(line.strip())
        elif current:
            paragraphs.append(" ".join(current))
            current = []
    return "\n\n".join(paragraphs)


def _list(lines: list[str], source: str, section: str) -> list[str]:
    """The section's list items (``- `` then indented continuation lines), each on one line."""
    items: list[list[str]] = []
    for line in lines:
        if line.startswith("- "):
            items.append([line[2:].strip()])
        elif line.startswith("  ") and items and line.strip():
            items[-1].append(line.strip())
        elif line.strip():
            raise RunbookError(f"{source}: '{section}' holds only a list; unexpected {line!r}")
    if not items:
        raise RunbookError(f"{source}: '{section}' is empty")
    return [" ".join(parts) for parts in items]
