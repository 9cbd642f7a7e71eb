"""What the runtime package may not contain: benchmark code, and citations of documents readers
cannot open.

``pacific_assets`` is what a launched run imports. Measuring code imports ``psutil`` (a
development dependency) and reads the simulator's truth; it lives in ``bench/``
(docs/benchmarks.md "How it measures"). Comments and docstrings cite ``docs/``, which ships with
the repository, never the starting design document, which does not.
"""

import ast
import re
from pathlib import Path

import pacific_assets

PACKAGE = Path(pacific_assets.__file__).parent
REPO = PACKAGE.parent
TESTS = REPO / "pacific_assets_tests"
#: Dev-only or benchmark modules the runtime package must not import.
NOT_RUNTIME = ("psutil", "bench", "pacific_assets_tests")
#: A citation of the design document kept outside the repository: its name followed by ".md" or a
#: section sign, or a bare section sign and number (a section of a docs/ file is cited with its
#: file: "docs/operations.md" and the section).
OUTSIDE_DESIGN = re.compile(r"DESIGN(\.md| §)|(?<!\.md )§\d")


def _imported_modules(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
    return found


def test_the_runtime_package_imports_no_benchmark_or_dev_module() -> None:
    modules = sorted(PACKAGE.rglob("*.py"))
    assert len(modules) > 50, "the scan found too few modules in pacific_assets"
    offenders = [
        f"{path.relative_to(REPO)}:{line}: import {module}"
        for path in modules
        for line, module in _imported_modules(path)
        if module.split(".")[0] in NOT_RUNTIME
    ]
    assert not offenders, "benchmark/dev imports in pacific_assets:\n" + "\n".join(offenders)


def test_no_file_cites_the_design_document_outside_the_repository() -> None:
    files = [
        p
        for folder in (PACKAGE, TESTS)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.suffix in {".py", ".sql", ".md", ".yaml", ".json"}
    ]
    assert any(p.suffix == ".sql" for p in files), "the scan found no SQL files"
    offenders = [
        f"{path.relative_to(REPO)}:{number}: {line.strip()}"
        for path in files
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if OUTSIDE_DESIGN.search(line)
    ]
    assert not offenders, (
        "cite the docs/ file (and section) that says it, not DESIGN:\n" + "\n".join(offenders)
    )
