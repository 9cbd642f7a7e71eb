"""What the runtime package may not contain: the tools, benchmark code, and citations of
documents readers cannot open.

``pacific_assets`` is what a launched run imports. The tools around it (the simulator, the replay,
the demo and sync in ``pacific_tools/``, the benchmarks in ``bench/``, the stack in ``stack/``)
import the product, never the other way round (docs/ARCHITECTURE.md "Product and tools"):
measuring code imports ``psutil`` (a development dependency) and reads the simulator's truth, and
a code server should load no simulator. Comments and docstrings cite ``docs/``, which ships with
the repository, never the starting design document, which does not.
"""

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pacific_assets

PACKAGE = Path(pacific_assets.__file__).parent
REPO = PACKAGE.parent
TESTS = REPO / "pacific_assets_tests"
#: The tools (top-level packages) and dev-only modules the runtime package must not import.
TOOLS = ("pacific_tools", "bench", "stack")
NOT_RUNTIME = (*TOOLS, "psutil", "pacific_assets_tests")
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
    assert not offenders, "tool/benchmark/dev imports in pacific_assets:\n" + "\n".join(offenders)


def test_loading_the_code_location_loads_no_tool(tmp_path: Path) -> None:
    """What a code server does, in a fresh interpreter: import the definitions module, build the
    asset graph; then no module of a tool (or of the tests) may be loaded. Catches what the static
    scan cannot: an import through a third module, a package ``__init__``, or ``importlib``."""
    script = (
        "import json, sys\n"
        "from pacific_assets.definitions import defs\n"
        "defs.resolve_asset_graph()\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,  # not the repository: tools are importable only if installed, as in a deploy
        env={**os.environ, "DAGSTER_HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert "pacific_assets.definitions" in loaded
    assert sum(name.startswith("pacific_assets.") for name in loaded) > 50, "too few modules loaded"
    tools = [
        name for name in loaded if name.split(".")[0] in (*TOOLS, "pacific_assets_tests", "psutil")
    ]
    assert not tools, "importing the code location loaded tool/dev modules: " + ", ".join(tools)


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
