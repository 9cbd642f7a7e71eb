"""What the runtime package may not contain: benchmark code.

``pacific_assets`` is what a launched run imports. Measuring code imports ``psutil`` (a
development dependency) and reads the simulator's truth; it lives in ``bench/``
(docs/benchmarks.md "How it measures").
"""

import ast
from pathlib import Path

import pacific_assets

PACKAGE = Path(pacific_assets.__file__).parent
REPO = PACKAGE.parent
#: Dev-only or benchmark modules the runtime package must not import.
NOT_RUNTIME = ("psutil", "bench", "pacific_assets_tests")


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
