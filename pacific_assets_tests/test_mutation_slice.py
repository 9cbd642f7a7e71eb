"""The CI slice of the mutation run (docs/testing.md): a fixed list of one-line mutants of the
business rules, each of which the tests covering it must kill.

Each mutant is applied to a copy of the project (never the work tree, so tests running beside
this one see the real code) and the covering test file runs against it in a subprocess. The list
is fixed, so the run is deterministic (~1 minute); the full run is ``make mutate``. Module
constants are here on purpose: mutmut mutates inside functions only. A line that changed makes
its case fail with the line as it is now: update the mutant with the change.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pacific_assets_tests.mutation import Mutant, copy_project, mutated, run_tests

LIFECYCLE = "pacific_assets/growth/lifecycle.py"
STATS = "pacific_assets/experiments/stats.py"
OUTAGE = "pacific_assets/engagement/outage.py"
SESSIONS_SQL = "pacific_assets/engagement/sql/user_engagement_daily.sql"

#: (mutant, the tests that cover it)
SLICE = [
    (Mutant(LIFECYCLE, 51, "= 90", "= 89"), "pacific_assets_tests/growth/test_lifecycle.py"),
    (
        Mutant(LIFECYCLE, 138, "day >= state.contract_end", "day > state.contract_end"),
        "pacific_assets_tests/growth/test_lifecycle.py",
    ),
    (
        Mutant(LIFECYCLE, 179, "if t.to in allowed", "if t.to not in allowed"),
        "pacific_assets_tests/growth/test_lifecycle.py",
    ),
    (Mutant(STATS, 23, "= 0.001", "= 0.01"), "pacific_assets_tests/experiments/test_stats.py"),
    (Mutant(STATS, 88, "(n_t < 2)", "(n_t < 1)"), "pacific_assets_tests/experiments/test_stats.py"),
    (
        Mutant(STATS, 150, "(n_t - 1.0)", "n_t"),
        "pacific_assets_tests/experiments/test_stats.py",
    ),
    (
        Mutant(OUTAGE, 101, "<= pl.lit(cutoff)", "< pl.lit(cutoff)"),
        "pacific_assets_tests/engagement/test_outage_rule.py",
    ),
    (
        Mutant(SESSIONS_SQL, 21, "lag(", "lead("),
        "pacific_assets_tests/engagement/test_metrics_fixture.py::test_user_engagement_daily",
    ),
]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = copy_project(tmp_path_factory.mktemp("mutation_slice") / "project")
    # the copy passes its tests unmutated, or a kill below would mean nothing
    code, tail = run_tests(copy, sorted({t.split("::")[0] for _, t in SLICE}), timeout=600)
    assert code == 0, tail
    return copy


@pytest.mark.parametrize(("mutant", "tests"), SLICE, ids=[m.name for m, _ in SLICE])
def test_the_covering_tests_kill_the_mutant(project: Path, mutant: Mutant, tests: str) -> None:
    with mutated(project, mutant):
        code, tail = run_tests(project, [tests], timeout=300)
    assert code in (1, -1), f"{mutant.name} survived {tests} (pytest exit {code}):\n{tail}"
