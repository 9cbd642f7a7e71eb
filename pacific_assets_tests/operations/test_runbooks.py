"""The runbooks' prose lives once, in docs/runbooks/, and the UI shows it under every asset."""

import re
from pathlib import Path

import pytest

from pacific_assets.definitions import defs
from pacific_assets.registry import discover
from pacific_assets.runbooks import (
    RUNBOOK_DIR,
    RunbookError,
    load_runbook,
    parse_runbook,
)

DOCS = Path(__file__).resolve().parents[2] / "docs"
POLICIES = {p.name: p.policy for p in discover()}


def _flat(text: str) -> str:
    return " ".join(text.split())


def _prose(path: Path) -> list[str]:
    """Each paragraph and list item under the ``##`` headings of a runbook file, on one line
    (read here without the loader, so a loader that drops text fails the test)."""
    body = path.read_text().split("\n## ", 1)[1]
    blocks = []
    for section in body.split("\n## "):
        text = section.split("\n", 1)[1]
        for block in re.split(r"\n\s*\n|\n(?=- )", text):
            if block.strip():
                blocks.append(_flat(block.removeprefix("- ")))
    return blocks


def test_every_pipeline_has_one_runbook_file_in_docs() -> None:
    assert RUNBOOK_DIR == DOCS / "runbooks"
    files = {p.stem for p in RUNBOOK_DIR.glob("*.md")} - {"README"}
    assert files == set(POLICIES)


def test_each_assets_description_holds_its_pipelines_runbook_as_written() -> None:
    graph = defs.resolve_asset_graph()
    checked = set()
    for node in graph.asset_nodes:
        if node.group_name not in POLICIES:
            continue
        description = _flat(node.description or "")
        for block in _prose(RUNBOOK_DIR / f"{node.group_name}.md"):
            step = re.fullmatch(r"\*\*(.+?)\*\*: (.+)", block)
            if step:  # the UI adds the failure kinds the step answers after its ref
                ref, action = step.groups()
                assert re.search(
                    rf"\*\*{re.escape(ref)}\*\* \([^)]*\): {re.escape(action)}", description
                ), (node.key, ref)
            else:
                assert block in description, (node.key, block)
        checked.add(node.group_name)
    assert checked == set(POLICIES)


def test_alerts_quote_the_runbook_step_as_written() -> None:
    step = POLICIES["profit"].step_for("check:profit_reconciliation_matches_filings")
    text = _flat((RUNBOOK_DIR / "profit.md").read_text())
    assert step.ref == "Profit 4a"
    assert f"**{step.ref}**: {step.action}" in text


def test_a_malformed_or_missing_runbook_fails_naming_the_file(tmp_path) -> None:
    with pytest.raises(RunbookError, match=r"nowhere\.md is missing"):
        load_runbook("nowhere", tmp_path)
    good = (RUNBOOK_DIR / "operations.md").read_text()
    assert parse_runbook("operations", good).steps == (
        ("Ops 1", "Re-run the hand-off; check the incident store."),
    )
    with pytest.raises(RunbookError, match="missing section"):
        parse_runbook("x", good.replace("## On-call\n", ""))
    with pytest.raises(RunbookError, match="unknown or repeated"):
        parse_runbook("x", good.replace("## On-call", "## Escalation"))
    with pytest.raises(RunbookError, match=r"\*\*<ref>\*\*: <action>"):
        parse_runbook("x", good.replace("**Ops 1**:", "Ops 1:"))
    with pytest.raises(RunbookError, match="first line"):
        parse_runbook("x", "Runbook\n" + good)
