"""Mutants the project applies itself: one textual change to one line of a source file, tested
in a copy of the project so the working tree (and any test running beside it) never sees it.

Used by the CI slice (``test_mutation_slice.py``) and by ``scripts/mutate.py`` for the SQL files,
which mutmut cannot mutate (docs/testing.md). A mutant is killed when the tests that cover it
fail on the mutated copy.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: What a copy of the project needs for the tests to run in it (tests read docs/ and bench/).
COPIED = (
    "pacific_assets",
    "pacific_tools",
    "pacific_assets_tests",
    "docs",
    "bench",
    "scripts",
    "pyproject.toml",
    "dagster.yaml",
    "workspace.yaml",
)
_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "results", "*.egg-info")


@dataclass(frozen=True)
class Mutant:
    """``old`` replaced by ``new`` on line ``line`` (1-based) of ``path`` (project-relative): at
    column ``col`` (0-based), or where ``old`` first occurs on the line when ``col`` is None."""

    path: str
    line: int
    old: str
    new: str
    col: int | None = None

    @property
    def name(self) -> str:
        where = f"{self.line}" if self.col is None else f"{self.line}:{self.col + 1}"
        return f"{self.path}:{where}: {self.old!r} -> {self.new!r}"

    def apply(self, text: str) -> str:
        lines = text.splitlines(keepends=True)
        current = lines[self.line - 1]
        col = current.find(self.old) if self.col is None else self.col
        if col < 0 or current[col : col + len(self.old)] != self.old:
            raise ValueError(f"{self.name}: the line is now {current.strip()!r}")
        lines[self.line - 1] = current[:col] + self.new + current[col + len(self.old) :]
        return "".join(lines)


def copy_project(dest: Path, source: Path = ROOT) -> Path:
    """A copy of what the tests need, under ``dest`` (returned)."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in COPIED:
        src = source / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=_IGNORED)
        elif src.exists():
            shutil.copy2(src, dest / name)
    return dest


@dataclass(frozen=True)
class Outcome:
    mutant: Mutant
    killed: bool
    seconds: float
    tail: str  # the last lines pytest printed


def run_tests(copy: Path, tests: Sequence[str], timeout: float) -> tuple[int, str]:
    """pytest on ``tests`` inside ``copy`` (its ``pacific_assets`` first on the path), serially.

    A run past ``timeout`` counts as a failure (exit code -1): a mutant that hangs is detected."""
    # no bytecode: a mutant and the original can share size and mtime second, and a stale .pyc
    # would then be run for the other
    env = {
        **os.environ,
        "PYTHONPATH": str(copy),
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    env.pop("PYTEST_XDIST_WORKER", None)
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:xdist", "-p", "no:randomly"]
    try:
        done = subprocess.run(
            [*cmd, *tests],
            cwd=copy,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return -1, f"timed out after {timeout:.0f} s"
    return done.returncode, "\n".join((done.stdout + done.stderr).strip().splitlines()[-5:])


@contextmanager
def mutated(copy: Path, mutant: Mutant) -> Iterator[None]:
    """``mutant`` applied to the project copy ``copy`` for the block, then undone."""
    target = copy / mutant.path
    original = target.read_text()
    target.write_text(mutant.apply(original))
    try:
        yield
    finally:
        target.write_text(original)


def run_mutants(
    mutants: Sequence[Mutant], tests: Sequence[str], timeout: float = 600.0
) -> Iterator[Outcome]:
    """Each mutant applied alone to a fresh copy of the project, ``tests`` run against it."""
    with tempfile.TemporaryDirectory(prefix="pacific-mutant-") as tmp:
        copy = copy_project(Path(tmp) / "project")
        for mutant in mutants:
            started = time.monotonic()
            with mutated(copy, mutant):
                code, tail = run_tests(copy, tests, timeout)
            # exit 1: tests failed; -1: hung. 2-5 (interrupted, internal error, usage, no tests)
            # say nothing about the mutant: surface them.
            if code not in (0, 1, -1):
                raise RuntimeError(f"{mutant.name}: pytest exited {code}:\n{tail}")
            yield Outcome(mutant, code != 0, time.monotonic() - started, tail)


# -- SQL: a small mutator over the text (mutmut mutates Python only) ------------------------------
#: (pattern, replacement) pairs, tried at every match outside comments and string literals.
SQL_OPERATORS: tuple[tuple[str, str], ...] = (
    (r"<=", "<"),
    (r"(?<![<>!])>=", ">"),
    (r"(?<![<>!-])>(?!=)", ">="),
    (r"<(?![=>])", "<="),
    (r"(?<![<>!])=(?!=)", "<>"),
    (r"\bAND\b", "OR"),
    (r"(?<!CREATE )\bOR\b(?! REPLACE)", "AND"),
    (r"\bIS NULL\b", "IS NOT NULL"),
    (r"\bIS NOT NULL\b", "IS NULL"),
    (r"\bNOT\b(?! NULL)", ""),
    (r"\bmin\(", "max("),
    (r"\bmax\(", "min("),
    (r"\bDESC\b", "ASC"),
    (r"\bLEFT JOIN\b", "JOIN"),
    (r"\bcoalesce\((\w+(?:\.\w+)?), ", r"nullif(\1, "),
    (r"(?<![\w.])(\d+)(?![\w.])", "<int+1>"),
    (r" \+ 1\b", " - 1"),
    (r"\bfalse\b", "true"),
    (r"\blag\(", "lead("),
    (r"\bNULLS LAST\b", "NULLS FIRST"),
)


def _code_spans(line: str) -> list[tuple[int, int]]:
    """Column ranges of ``line`` outside ``--`` comments and '...' literals."""
    spans, start, quoted = [], 0, False
    i = 0
    while i < len(line):
        ch = line[i]
        if quoted:
            if ch == "'":
                quoted, start = False, i + 1
        elif ch == "'":
            spans.append((start, i))
            quoted = True
        elif line.startswith("--", i):
            spans.append((start, i))
            return spans
        i += 1
    if not quoted:
        spans.append((start, len(line)))
    return spans


def sql_mutants(path: str, root: Path = ROOT) -> list[Mutant]:
    """Every operator of ``SQL_OPERATORS`` at every place it matches in the file's code (one
    mutant per match), in line order."""
    out: list[Mutant] = []
    for number, line in enumerate((root / path).read_text().splitlines(), start=1):
        for lo, hi in _code_spans(line):
            code = line[lo:hi]
            for pattern, replacement in SQL_OPERATORS:
                for match in re.finditer(pattern, code):
                    old = match.group(0)
                    if replacement == "<int+1>":
                        new = str(int(old) + 1)
                    else:
                        new = match.expand(replacement)
                    out.append(Mutant(path, number, old, new, lo + match.start()))
    return sorted(out, key=lambda m: (m.line, m.col or 0))
