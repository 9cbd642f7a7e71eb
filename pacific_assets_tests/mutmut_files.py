"""pytest plugin for mutmut's mutant runs (``make mutate``): a mutant runs whole test files.

mutmut records which tests executed each function and, per mutant, runs only those tests. A
module-scoped fixture (profit's books, the growth fixture) runs inside the first test that
requests it, so mutmut credits that test alone, and the file's other tests, which check what
the fixture built, would never run against the mutant. This plugin widens each selected test
id to its file during a mutant run only (mutmut names the mutant in ``MUTANT_UNDER_TEST``);
the stats and clean runs are left alone. mutmut still chooses the files: those with a test
that executed the mutated function.
"""

from __future__ import annotations

import os


def pytest_load_initial_conftests(early_config, parser, args: list[str]) -> None:
    if "__mutmut_" not in os.environ.get("MUTANT_UNDER_TEST", ""):
        return
    widened: list[str] = []
    for arg in args:
        item = arg.split("::", 1)[0] if "::" in arg and not arg.startswith("-") else arg
        if item not in widened or item.startswith("-"):
            widened.append(item)
    args[:] = widened
