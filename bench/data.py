"""The benchmark's data: simulated once per (profile, seed, overrides), then reused.

Each data set lives in its own data root under ``bench/data/`` (gitignored). A marker file,
``.bench-ready.json``, records the simulator spec it was generated from and which preparation
steps are done; a root whose marker does not match the spec is deleted and simulated again. The
preparation is what every measured run takes as given: the directory staged
(``stg_directory_users``) and the landed click batches registered (``raw_clicks``).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench.measure import REPO, Measured, child, run_measured

MARKER = ".bench-ready.json"
#: Bump when the preparation changes, so old data roots are rebuilt.
PREP_VERSION = 1


@dataclass(frozen=True)
class Dataset:
    """One simulated company for the benchmark."""

    name: str
    profile: str
    seed: int = 7
    overrides: dict = field(default_factory=dict)
    about: str = ""

    def spec(self) -> dict:
        return {"profile": self.profile, "seed": self.seed, "overrides": self.overrides}

    def simulate_args(self, root: Path) -> list[str]:
        args = ["--profile", self.profile, "--seed", str(self.seed), "--out", str(root), "--json"]
        for key, value in sorted(self.overrides.items()):
            args += [f"--{key.replace('_', '-')}", str(value)]
        return args


#: Full scale: the issue's 20k accounts, ~1M users, ~30M clicks over 30 days, and the x10 variant.
_FULL_X1 = Dataset("x1", "bench", about="20k accounts, ~1M users, ~30M clicks, 30 days")
FULL = {
    "x1": _FULL_X1,
    # the Spark asset's data: a month partition is built only once the whole month is delivered
    # (docs/operations.md §3), and x1's 30 days are September 2025
    "x1_month": _FULL_X1,
    "x10": Dataset(
        "x10",
        "bench",
        overrides={"clicks_multiplier": 10, "days": 3},
        about="same company, x10 clicks per user and day, 3 days (~30M clicks)",
    ),
    # the memory comparisons' control: x10's company and days at x1 (only the clicks differ)
    "x1_3d": Dataset(
        "x1_3d",
        "bench",
        overrides={"days": 3},
        about="same company, x1 clicks, the same 3 days as x10 (~3M clicks)",
    ),
}
#: --quick: the tiny "test" company, so the whole harness runs in well under a minute.
_QUICK_X1 = Dataset("x1", "test", overrides={"days": 3}, about="test profile, 3 days")
QUICK = {
    "x1": _QUICK_X1,
    "x10": Dataset(
        "x10", "test", overrides={"clicks_multiplier": 10, "days": 3}, about="x10 clicks, 3 days"
    ),
    "x1_3d": _QUICK_X1,  # the quick x1 already covers x10's 3 days
    "x1_month": Dataset(
        "x1_month",
        "test",
        overrides={"days": 30},
        about="test profile, 30 days: all of September, the month the Spark asset builds",
    ),
}


def fewer_days(ds: Dataset, days: int) -> Dataset:
    """The same company over its first ``days`` days, under a name of its own (so it never
    replaces the full data set's root)."""
    return Dataset(
        f"{ds.name}_{days}d",
        ds.profile,
        ds.seed,
        {**ds.overrides, "days": days},
        about=f"{ds.about.split(',')[0]}, the first {days} days",
    )


@dataclass
class Prepared:
    """A ready data root and what it holds."""

    dataset: Dataset
    root: Path
    start: str  # first simulated day
    end: str  # last simulated day (inclusive)
    marker: dict

    @property
    def days(self) -> list[str]:
        first, last = dt.date.fromisoformat(self.start), dt.date.fromisoformat(self.end)
        return [(first + dt.timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]


def _read_marker(root: Path) -> dict | None:
    try:
        return json.loads((root / MARKER).read_text())
    except (OSError, json.JSONDecodeError):
        return None


def _write_marker(root: Path, marker: dict) -> None:
    tmp = root / f"{MARKER}.tmp"
    tmp.write_text(json.dumps(marker, indent=2))
    tmp.replace(root / MARKER)


def _check(what: str, m: Measured) -> None:
    if not m.ok:
        detail = m.report.get("error") or m.report.get("failures") or m.stderr_tail[-1500:]
        raise RuntimeError(f"bench data preparation failed at {what}: {detail}")


def child_env(root: Path, dagster_home: Path, extra: dict[str, str] | None = None) -> dict:
    return {"PACIFIC_DATA_ROOT": str(root), "DAGSTER_HOME": str(dagster_home), **(extra or {})}


def prepare(
    ds: Dataset, base: Path, dagster_home: Path, log: Callable[[str], None] = print
) -> Prepared:
    """Simulate, stage the directory and register the clicks, unless a matching root exists."""
    root = (base / ds.name).resolve()
    marker = _read_marker(root)
    if (
        marker is not None
        and marker.get("spec") == ds.spec()
        and marker.get("prep") == PREP_VERSION
    ):
        log(f"  {ds.name}: reusing {root} (marker matches {ds.spec()})")
    else:
        if root.exists():
            log(f"  {ds.name}: data root does not match {ds.spec()}; regenerating")
            shutil.rmtree(root)
        root.mkdir(parents=True)
        log(f"  {ds.name}: simulating {ds.about} into {root}, staging the directory ...")
        m = run_measured(
            child(
                "prepare",
                "--profile",
                ds.profile,
                "--seed",
                str(ds.seed),
                "--overrides",
                json.dumps(ds.overrides),
            ),
            env=child_env(root, dagster_home),
        )
        _check("simulate + stage", m)
        marker = {
            "spec": ds.spec(),
            "prep": PREP_VERSION,
            "simulate_seconds": m.report["simulate_seconds"],
            "prepare_seconds": round(m.seconds, 1),
            "prepare_peak_rss_mb": m.peak_rss_mb,
            "steps": ["staged"],
            **_landing_facts(root),
        }
        _write_marker(root, marker)
        log(f"  {ds.name}: ready in {m.seconds:.0f} s (simulator {m.report['simulate_seconds']} s)")
    return Prepared(ds, root, marker["start"], marker["end"], marker)


def prepare_rollup_inputs(
    p: Prepared, dagster_home: Path, log: Callable[[str], None] = print
) -> dict:
    """Everything upstream of investor_rollup that the lake lacks, over the data's range (once)."""
    if "rollup_inputs" in p.marker["steps"]:
        return p.marker.get("rollup_inputs_report", {})
    log(f"  {p.dataset.name}: materializing the rollup's upstream assets (once, not measured) ...")
    m = run_measured(
        child("waves", "--target", "investor_rollup", "--start", p.start, "--end", p.end),
        env=child_env(p.root, dagster_home),
    )
    report = {
        "seconds": round(m.seconds, 1),
        "ok": m.ok,
        "runs": [
            {k: r[k] for k in ("assets", "partitions", "ok", "seconds", "failures")}
            for r in m.report.get("runs", [])
        ],
        "error": m.report.get("error"),
    }
    p.marker["rollup_inputs_report"] = report
    p.marker["steps"].append("rollup_inputs")
    _write_marker(p.root, p.marker)
    return report


def _landing_facts(root: Path) -> dict:
    """Simulated days and landed click volume, read from the landing zone and the manifest."""
    from pacific_assets.engagement.landing import ClickLanding

    entries = ClickLanding(root / "landing").manifest()
    days = sorted({d for e in entries for d in e.event_dates})
    faults = json.loads((root / "truth" / "fault_manifest.json").read_text())
    start = faults.get("start") or days[0]
    end_exclusive = faults.get("end_exclusive")
    end = (
        (dt.date.fromisoformat(end_exclusive) - dt.timedelta(days=1)).isoformat()
        if end_exclusive
        else days[-1]
    )
    files = [
        root / "landing" / "clickstream" / f"ingest_date={e.ingest_date}" / e.batch for e in entries
    ]
    return {
        "start": start,
        "end": end,
        "landed_click_rows": sum(e.rows for e in entries),
        "landed_click_batches": len(entries),
        "landed_click_bytes": sum(f.stat().st_size for f in files if f.exists()),
    }


def _shown(path: Path) -> str:
    """A path as results may record it: relative to the repo, never a machine's absolute path."""
    try:
        return str(path.resolve().relative_to(REPO))
    except ValueError:
        return f"<outside the repo>/{path.name}"


def describe(p: Prepared) -> dict:
    return {
        "name": p.dataset.name,
        "about": p.dataset.about,
        **asdict(p.dataset),
        "data_root": _shown(p.root),
        "days": f"{p.start}..{p.end} ({len(p.days)})",
        **{
            k: p.marker.get(k)
            for k in (
                "landed_click_rows",
                "landed_click_batches",
                "landed_click_bytes",
                "simulate_seconds",
                "prepare_seconds",
                "prepare_peak_rss_mb",
            )
        },
    }
