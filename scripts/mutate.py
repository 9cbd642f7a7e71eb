"""`make mutate`: mutation testing of the modules that hold the business rules (docs/testing.md).

Python modules go through mutmut, one module at a time, each in a scratch copy of the project
under bench/results/tmp/mutation/<module>/ (mutmut writes its mutants/ there, never in the work
tree). The modules and the test files that cover each are listed in pyproject.toml,
``[tool.pacific.mutation]``; the shared mutmut settings are ``[tool.mutmut]`` there too. SQL
files, which mutmut cannot mutate, go through the project's own text mutator
(``pacific_assets_tests.mutation``). Writes bench/results/mutation.md and mutation.json: the kill
rate per module and every mutant that survived, with its diff.

    python scripts/mutate.py                      # every module
    python scripts/mutate.py --only lifecycle     # modules whose path contains "lifecycle"
    python scripts/mutate.py --keep               # reuse mutmut's results of the last run
    python scripts/mutate.py --quick              # each module's first (unit) test file only
    python scripts/mutate.py --only stats.py --survivors   # after adding tests: the last
                                                  # run's survivors again, the others stay killed
    python scripts/mutate.py --only automation --sample 300   # 300 mutants drawn, fixed seed
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pacific_assets_tests.mutation import copy_project, run_mutants, sql_mutants  # noqa: E402

WORK = ROOT / "bench" / "results" / "tmp" / "mutation"
REPORT = ROOT / "bench" / "results" / "mutation.md"
#: mutmut's exit codes that count as killed: tests failed (1), pytest errored (3), the mutant
#: made a test run past its time (SIGXCPU: 24, -24, 152, 255; 36): a hang is detected too.
KILLED = {1, 3, 24, -24, 152, 255, 36}
#: ...of which the tests failed (a time limit can also be hit by a machine busy with other work:
#: --survivors judges those again, under the limit configured then)
FAILED = {1, 3}
SURVIVED = {0}
NO_TESTS = {5, 33}
#: ``--sample`` draws its mutants with this seed: the same sample on every run of a module
SAMPLE_SEED = 28


def settings() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pacific"]["mutation"]


def _toml_list(items: list[str]) -> str:
    return "[" + ", ".join(json.dumps(i) for i in items) + "]"


def _mutmut_project(
    module: str, tests: list[str], keep: bool, quick: bool = False, survivors: bool = False
) -> Path:
    """A scratch copy of the project whose ``[tool.mutmut]`` mutates ``module`` only and selects
    ``tests`` (quick: the first test file only, a shorter time limit). ``survivors``: the last
    run's copy with today's tests, and its surviving mutants marked untested (``_retest``)."""
    work = WORK / Path(module).stem
    if work.exists() and not (keep or survivors):
        shutil.rmtree(work)
    if not work.exists():
        if survivors:
            sys.exit(f"--survivors: no earlier run of {module} in {work}")
        copy_project(work)
    elif survivors:
        # the tests as they are now (mutmut copies them into mutants/ at its start)
        shutil.rmtree(work / "pacific_assets_tests")
        shutil.copytree(
            ROOT / "pacific_assets_tests",
            work / "pacific_assets_tests",
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
        )
        _retest(work / "mutants" / f"{module}.meta")
    text = (ROOT / "pyproject.toml").read_text()
    header = "[tool.mutmut]\n"
    assert header in text, "pyproject.toml has no [tool.mutmut] table"
    scoped = (
        f"{header}only_mutate = {_toml_list([module])}\n"
        f"pytest_add_cli_args_test_selection = {_toml_list(tests)}\n"
    )
    text = text.replace(header, scoped, 1)
    if quick:
        # the first file runs whole for each mutant (mutmut_files.py), but mutmut's limit counts
        # only the tests that ran the function: (that + 40 s) x 5 of wall time covers the
        # planner's file (~15 s, ~35 s on a loaded machine). 5 s, then 20 s, counted slow
        # mutants there as hangs, i.e. killed, on a machine loaded 20 times over.
        text = text.replace("timeout_constant = 60.0", "timeout_constant = 40.0")
    (work / "pyproject.toml").write_text(text)
    return work


def _retest(meta: Path) -> None:
    """Forget the results of the mutants whose tests did not fail (survivors, and hangs), so
    that mutmut runs them again (it runs only mutants without a result). Mutants a test killed
    stay killed: tests were only added since (a weakened test would need a full run)."""
    data = json.loads(meta.read_text())
    codes = data["exit_code_by_key"]
    for name, code in codes.items():
        if code not in FAILED:
            codes[name] = None
    meta.write_text(json.dumps(data, indent=4))


def run_python(
    module: str,
    tests: list[str],
    keep: bool,
    children: int,
    quick: bool,
    again: bool = False,
    sample: int = 0,
) -> dict:
    """mutmut over ``module``; ``again``: the last run's survivors only (``--survivors``);
    ``sample``: that many mutants drawn with a fixed seed (``--sample``), not all."""
    work = _mutmut_project(module, tests, keep, quick, again)
    mutmut = Path(sys.executable).with_name("mutmut")
    meta = work / "mutants" / f"{module}.meta"
    drawn = work / "sample.json"
    started = time.monotonic()
    log = work / "mutmut.log"

    def mutmut_run(names: list[str]) -> None:
        with log.open("a") as out:
            subprocess.run(
                [str(mutmut), "run", "--max-children", str(children), *names],
                cwd=work,
                stdout=out,
                stderr=subprocess.STDOUT,
                check=False,
            )

    log.write_text("")
    names: list[str] = []  # the mutants reported; empty: all of them
    if sample:
        if not meta.exists():
            mutmut_run(["no-such-mutant"])  # generates the mutants and maps the tests only
        if not meta.exists():
            sys.exit(f"mutmut wrote no mutants for {module}: see {log}")
        every = sorted(json.loads(meta.read_text())["exit_code_by_key"], key=_mutant_order)
        names = random.Random(SAMPLE_SEED).sample(every, min(sample, len(every)))
        names.sort(key=_mutant_order)
        drawn.write_text(json.dumps({"population": len(every), "mutants": names}, indent=1))
    elif again and drawn.exists():
        names = json.loads(drawn.read_text())["mutants"]
    elif drawn.exists():
        drawn.unlink()
    if names:
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        # named mutants run even when they have a result: again, only those not killed; with
        # --keep, only those without a result (the draw of a smaller sample is a prefix of a
        # larger one's, so a stopped sample's results count)
        if again:
            names_run = [n for n in names if codes.get(n) not in FAILED]
        elif keep:
            names_run = [n for n in names if codes.get(n) is None]
        else:
            names_run = names
        if names_run:
            mutmut_run(names_run)
    else:
        mutmut_run([])
    if not meta.exists():
        sys.exit(f"mutmut wrote no results for {module}: see {log}")
    codes = json.loads(meta.read_text())["exit_code_by_key"]
    if names:
        codes = {n: codes[n] for n in names}
    survivors = []
    for name, code in sorted(codes.items(), key=lambda kv: _mutant_order(kv[0])):
        if code in KILLED:
            continue
        status = "survived" if code in SURVIVED else "no tests" if code in NO_TESTS else f"{code}"
        shown = subprocess.run(
            [str(mutmut), "show", name], cwd=work, capture_output=True, text=True, check=False
        ).stdout
        diff = "\n".join(line for line in shown.splitlines()[1:] if line.strip())
        survivors.append({"mutant": name, "status": status, "diff": diff})
    result = {
        "module": module,
        "tool": "mutmut",
        "total": len(codes),
        "killed": sum(1 for c in codes.values() if c in KILLED),
        "survivors": survivors,
        # counted killed (mutmut's rule), listed to be checked by hand when the machine was busy
        "timeouts": sorted(
            (n for n, c in codes.items() if c in KILLED - FAILED), key=_mutant_order
        ),
        "seconds": round(time.monotonic() - started, 1),
    }
    if names:
        population = json.loads(drawn.read_text())["population"]
        result["tool"] += f" (sample: {len(names)} of {population} mutants, seed {SAMPLE_SEED})"
    return result


def _mutant_order(name: str) -> tuple[str, int]:
    function, _, number = name.rpartition("__mutmut_")
    return function, int(number) if number.isdigit() else 0


def run_sql(path: str, tests: list[str]) -> dict:
    started = time.monotonic()
    mutants = sql_mutants(path)
    outcomes = list(run_mutants(mutants, tests))
    return {
        "module": path,
        "tool": "pacific_assets_tests.mutation (SQL text)",
        "total": len(outcomes),
        "killed": sum(o.killed for o in outcomes),
        "survivors": [
            {"mutant": o.mutant.name, "status": "survived", "diff": ""}
            for o in outcomes
            if not o.killed
        ],
        "seconds": round(time.monotonic() - started, 1),
    }


def report(results: list[dict], threshold: float) -> str:
    total = sum(r["total"] for r in results)
    killed = sum(r["killed"] for r in results)
    lines = [
        "# Mutation testing (`make mutate`)",
        "",
        "Generated by scripts/mutate.py; docs/testing.md says how to read it and which survivors"
        " are equivalent.",
        "",
        "| module | tool | mutants | killed | of which time-outs | kill rate | time (s) |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        rate = r["killed"] / r["total"] if r["total"] else 1.0
        timeouts = len(r["timeouts"]) if "timeouts" in r else "—"  # not recorded before
        lines.append(
            f"| `{r['module']}` | {r['tool']} | {r['total']} | {r['killed']} | {timeouts} |"
            f" {rate:.1%} | {r['seconds']:.0f} |"
        )
    overall = killed / total if total else 1.0
    lines += ["", f"**All: {killed} of {total} killed, {overall:.1%}** (threshold {threshold:.0%})"]
    for r in results:
        if r.get("timeouts"):
            lines += [
                "",
                f"## Time-outs in `{r['module']}` ({len(r['timeouts'])}), counted killed",
                "",
                "A mutant that ran past mutmut's wall-time limit. On a busy machine (a nice'd run"
                " gets little CPU) a survivor can run past it too: apply it by hand and run its"
                " file (docs/testing.md).",
                "",
                *(f"- `{name}`" for name in r["timeouts"]),
            ]
    for r in results:
        if not r["survivors"]:
            continue
        lines += ["", f"## Survivors in `{r['module']}` ({len(r['survivors'])})", ""]
        for s in r["survivors"]:
            lines.append(f"- `{s['mutant']}` ({s['status']})")
            if s["diff"]:
                lines += ["", "  ```diff", *(f"  {d}" for d in s["diff"].splitlines()), "  ```"]
    return "\n".join(lines) + "\n"


def _write_report(report_path: Path, results: list[dict], conf: dict, partial: bool) -> list[dict]:
    """Write the report of ``results``; a partial run (--only) keeps the other modules of the
    last report. Returns the results as written (in the configuration's order)."""
    order = [m for kind in ("python", "sql") for m in conf[kind]]
    previous = report_path.with_suffix(".json")
    merged = list(results)
    if partial and previous.exists():
        ran = {r["module"] for r in results}
        merged += [r for r in json.loads(previous.read_text()) if r["module"] not in ran]
    merged = sorted(
        (r for r in merged if r["module"] in order), key=lambda r: order.index(r["module"])
    )
    report_path.parent.mkdir(parents=True, exist_ok=True)
    report_path.write_text(report(merged, conf["threshold"]))
    previous.write_text(json.dumps(merged, indent=1) + "\n")
    return [r for r in merged if r["module"] in {x["module"] for x in results}]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", default=[], help="substring of a module path")
    parser.add_argument("--keep", action="store_true", help="reuse the last run's mutmut results")
    parser.add_argument("--children", type=int, default=2, help="mutants tested at once")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="only the first test file of each module (its unit tests): a lower bound, fast",
    )
    parser.add_argument(
        "--survivors",
        action="store_true",
        help="run the last run's survivors again against today's tests (the killed stay killed)",
    )
    parser.add_argument(
        "--sample",
        type=int,
        default=0,
        help="only this many mutants of each Python module, drawn with a fixed seed (an estimate)",
    )
    parser.add_argument("--report", type=Path, default=REPORT)
    args = parser.parse_args(argv)
    conf = settings()
    wanted = [
        (kind, module, tests)
        for kind in ("python", "sql")
        for module, tests in conf[kind].items()
        if not args.only or any(o in module for o in args.only)
    ]
    if args.quick:
        wanted = [(kind, module, tests[:1]) for kind, module, tests in wanted]
    if not wanted:
        sys.exit(f"no module matches {args.only}")
    results: list[dict] = []
    for kind, module, tests in wanted:
        print(f"mutating {module} ({kind}) against {len(tests)} test file(s)", flush=True)
        result = (
            run_python(
                module,
                tests,
                args.keep,
                args.children,
                args.quick,
                args.survivors,
                args.sample,
            )
            if kind == "python"
            else run_sql(module, tests)
        )
        if args.quick and kind == "python":
            result["tool"] += f" (quick: {Path(tests[0]).name} only)"
        results.append(result)
        rate = result["killed"] / result["total"] if result["total"] else 1.0
        print(
            f"  {result['killed']}/{result['total']} killed ({rate:.1%}) in {result['seconds']:.0f}"
            f" s; {len(result['survivors'])} survived",
            flush=True,
        )
        for s in result["survivors"]:
            print(f"    {s['status']}: {s['mutant']}", flush=True)
        # the report after every module: a long run stopped halfway keeps what it measured
        results = _write_report(args.report, results, conf, partial=bool(args.only))
    total = sum(r["total"] for r in results)
    killed = sum(r["killed"] for r in results)
    print(f"all: {killed}/{total} killed ({killed / max(total, 1):.1%}); report: {args.report}")
    return 0 if killed >= conf["threshold"] * total else 1


if __name__ == "__main__":
    sys.exit(main())
