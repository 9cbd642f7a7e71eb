"""The Markdown table of a benchmark run (bench/results/bench.md) and the console summary."""

from __future__ import annotations


def _s(x: float | None, unit: str = " s") -> str:
    return "—" if x is None else f"{x:,.1f}{unit}"


def _s2(x: float | None) -> str:
    return "—" if x is None else f"{x:,.2f}"


def _n(x: float | None) -> str:
    return "—" if x is None else f"{x:,.0f}"


def _mb(x: float | None) -> str:
    return "—" if x is None else f"{x:,.0f} MB"


def _bytes(n: int | None) -> str:
    if not n:
        return "—"
    return f"{n / 1e9:.2f} GB" if n >= 1e9 else f"{n / 1e6:.1f} MB"


def all_ok(results: dict) -> bool:
    """Every measured run succeeded (a section's own error counts as a failure)."""
    for section in results["sections"].values():
        if "error" in section:
            return False
        for value in _walk(section):
            if isinstance(value, dict) and value.get("all_ok") is False:
                return False
    return True


def _walk(obj):
    yield obj
    if isinstance(obj, dict):
        for v in obj.values():
            yield from _walk(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _walk(v)


def _spark_sets(sp: dict) -> list[str]:
    return [n for n in ("x1_month", "x1", "x1_3d", "x10") if n in sp]


def _x(ratio: float | None) -> str:
    return "—" if ratio is None else f"{ratio:.2f}×"


def _cores(sp: dict) -> str:
    master = sp.get("spark_master", "")
    return master[len("local[") : -1] if master.startswith("local[") else "?"


def _cluster(sp: dict) -> str:
    c = sp.get("cluster") or {}
    return f"{c.get('workers')} workers × {c.get('cores_per_worker')} core × {c.get('memory_per_worker')}"


def _floor_rows(e: dict) -> list[tuple[str, str, str]]:
    """Per-core rates and the disk's floor (sections measured before 2026-12-03 lack them)."""
    per_core, floor = e.get("events_per_second_per_core"), e.get("physical_floor")
    if not per_core or not floor:
        return []
    return [
        (
            "Events/s per core: chain / query",
            f"{_n(per_core['dagster'])} / {_n(per_core['hand_written_query'])}",
            f"over {per_core['cores']} cores (DuckDB threads)",
        ),
        (
            "Reading the landed batches at the disk's speed (the physical floor)",
            _s(floor["floor_seconds"]),
            f"{_n(floor['landed_bytes'])} bytes, {floor['bytes_per_event']} bytes per event; "
            f"sequential read {floor['sequential_read_mb_per_s']} MB/s (page cache dropped)",
        ),
    ]


def _cpu_rows(e: dict) -> list[tuple[str, str, str]]:
    """CPU (user + system) of the runs and the chain's multiple of the disk floor (sections
    measured before 2026-12-07 lack them)."""
    d, q = e["dagster_range_run"], e["hand_written_query"]
    if e.get("ratio_run_cpu") is None:
        return []
    floor = (e.get("physical_floor") or {}).get("floor_seconds")
    multiple = (
        f"; chain run time = {d['median_run_seconds'] / floor:.1f}× the disk floor" if floor else ""
    )
    return [
        (
            "CPU ratio Dagster / query (user + system of the runs)",
            f"{e['ratio_run_cpu']:.2f}×",
            f"{_s(d['median_run_cpu_seconds'])} / {_s(q['median_run_cpu_seconds'])} CPU{multiple}",
        )
    ]


def headline_rows(results: dict) -> list[tuple[str, str, str]]:
    """(measure, value, note) rows: the table quoted in the closing note."""
    sec = results["sections"]
    rows: list[tuple[str, str, str]] = []
    e = sec.get("engagement")
    if e and "error" not in e:
        d, q = e["dagster_range_run"], e["hand_written_query"]
        same = e.get("results_identical") or {}
        rows += [
            (
                f"Engagement chain, one Dagster range run ({e['days']} days, {_n(e['events'])} events)",
                _s(d["median_run_seconds"]),
                f"{_n(e['events_per_second']['dagster'])} events/s; process wall {_s(d['median_wall_seconds'])}",
            ),
            (
                "Same work, one hand-written DuckDB query",
                _s(q["median_run_seconds"]),
                f"{_n(e['events_per_second']['hand_written_query'])} events/s; output identical: {same.get('identical')}",
            ),
            *_floor_rows(e),
            (
                "Overhead ratio Dagster / query (goal ≤ 1.25×)",
                "—" if e["ratio_run"] is None else f"{e['ratio_run']:.2f}×",
                f"per repeat {e['ratio_per_repeat']}; {'meets' if e['meets_goal'] else 'misses'} the goal",
            ),
            *_cpu_rows(e),
        ]
    b = sec.get("backfill")
    if b and "error" not in b:
        one = b["one_run_per_partition"]
        rows += [
            (
                f"Backfill {b['days']} days: one range run",
                _s(b["range_run"]["median_wall_seconds"]),
                "1 run launched (process wall, incl. code location import)",
            ),
            (
                f"Backfill {b['days']} days: one run per day",
                _s(one["median_total_wall_seconds"]),
                f"{one['runs_launched']} runs launched; {b['ratio_wall']}× the range run"
                + (f"; {b['slice_note']}" if b.get("slice_note") else ""),
            ),
        ]
    m = sec.get("memory")
    if m and "error" not in m:
        for name in ("x1", "x10", "x10_half_limit"):
            r = m.get(f"engagement_{name}")
            if r is None:  # results from before the half-limit run existed
                continue
            label = (m.get("datasets") or {}).get(name, name)
            limit = m["half_limit"] if name == "x10_half_limit" else m["duckdb_memory_limit"]
            above = r.get("median_rss_above_loaded_mb")
            rows.append(
                (
                    f"Peak RSS, engagement chain, data set {label} ({m['range']}, "
                    f"{_n(r['events_in_range'])} events), DuckDB memory_limit {limit}",
                    _mb(r["median_peak_rss_mb"]),
                    (
                        f"{_mb(above)} above the loaded code location "
                        f"({_mb(r['median_rss_before_run_mb'])}); "
                        if above is not None
                        else ""
                    )
                    + _s(r["median_run_seconds"]),
                )
            )
        if m.get("goal"):
            rows.append(
                (
                    "Peak RSS ratio x10 / x1 (engagement chain)",
                    f"{m['rss_ratio_x10_over_x1']:.2f}×",
                    f"for {m['events_ratio_x10_over_x1']}× the events; half the limit lowers the "
                    f"x10 peak by {_mb(m['x10_peak_drop_at_half_limit_mb'])}"
                    + (
                        f"; at x10 the run holds {_mb(beyond)} beyond the limit itself"
                        if (beyond := m["x10_rss_above_loaded_minus_limit_mb"]) > 0
                        else ""
                    )
                    + f". Goal: {m['goal']}: {'meets' if m['meets_goal'] else 'misses'} it",
                )
            )
    sp = sec.get("spark")
    if sp and "error" not in sp:
        for name in _spark_sets(sp):
            r = sp[name]
            ued = r["inputs"].get("user_engagement_daily")
            probe = r.get("probe") or {}
            if "asset" in r:  # probe only: a data set that does not deliver the whole month
                rows.append(
                    (
                        f"Peak RSS, Spark rollup computation alone (probe), data set {name} "
                        f"({r.get('data_set_days', '?')}, part of the month)",
                        _mb(probe.get("median_rss_peak_mb")),
                        f"JVM live heap peak {_mb(probe.get('median_jvm_live_heap_peak_mb'))} "
                        f"of {_mb(probe.get('median_jvm_heap_max_mb'))}; "
                        f"{_s(probe.get('median_rollup_seconds'))}; "
                        f"user_engagement_daily rows {_n(ued)}; the asset: {r['asset']}",
                    )
                )
                continue
            rows.append(
                (
                    f"Peak RSS, Spark investor_rollup asset, data set {name} (fresh process incl. JVM)",
                    _mb(r["median_peak_rss_mb"]),
                    f"JVM RSS {_mb(r['median_peak_jvm_rss_mb'])}; driver memory "
                    f"{sp['spark_driver_memory']}; JVM live heap peak "
                    f"{_mb(probe.get('median_jvm_live_heap_peak_mb'))} of "
                    f"{_mb(probe.get('median_jvm_heap_max_mb'))} (probe); "
                    f"{_s(r['median_wall_seconds'])}; user_engagement_daily rows {_n(ued)}",
                )
            )
        for name in _spark_sets(sp):
            c, local = sp[name].get("cluster"), sp[name]
            if not c:  # results from before the cluster run existed, or it did not start
                continue
            rows.append(
                (
                    f"Spark investor_rollup asset on a standalone cluster ({_cluster(sp)}), "
                    f"data set {name}: wall time",
                    _s(c["median_wall_seconds"]),
                    f"{_x(c.get('ratio_wall_over_local'))} local[{_cores(sp)}] "
                    f"({_s(local['median_wall_seconds'])}); run {_s(c['median_run_seconds'])} "
                    f"({_x(c.get('ratio_run_over_local'))} local); all runs ok: {c['all_ok']}",
                )
            )
            rows.append(
                (
                    f"Peak driver RSS on the cluster, data set {name} (Python + driver JVM)",
                    _mb(c["median_peak_rss_mb"]),
                    f"{_x(c.get('ratio_peak_driver_rss_over_local'))} local "
                    f"({_mb(local['median_peak_rss_mb'])}, where the driver also executes); "
                    f"driver JVM {_mb(c.get('median_peak_driver_jvm_rss_mb'))}; master + workers "
                    f"+ executors {_mb(c.get('median_peak_cluster_rss_mb'))}",
                )
            )
        if sp.get("heap_ratio_x10_over_control") is not None:
            rows.append(
                (
                    f"Spark rollup memory, x10 clicks over {sp['control_for_x10']} (probe)",
                    _x(sp.get("heap_ratio_x10_over_control")),
                    f"JVM live heap peak ratio; process RSS ratio "
                    f"{_x(sp.get('rss_ratio_x10_over_control'))}",
                )
            )
        if (sp.get("cluster") or {}).get("error"):
            rows.append(("Spark standalone cluster", "ERROR", sp["cluster"]["error"][:200]))
    ld = sec.get("load")
    if ld and "error" not in ld:
        rows += [
            (
                "Code location load (`dagster definitions validate`)",
                _s(ld["definitions_validate"]["median_wall_seconds"]),
                f"plain import {_s(ld['import_definitions']['median_wall_seconds'])}",
            )
        ]
    dm = sec.get("demo")
    if dm and "error" not in dm:
        rows.append(
            (
                "`make demo` wall time (fresh instance and data)",
                _s(dm["median_wall_seconds"]),
                f"peak RSS {_mb(dm['median_peak_rss_mb'])}; all runs ok: {dm['all_ok']}",
            )
        )
    pl = sec.get("planner")
    if pl and "error" not in pl:
        rows += _planner_rows(pl)
    ins = sec.get("instance")
    if ins and "error" not in ins:
        r, sq, pg = ins["ratios_postgres_over_sqlite"], ins["sqlite"], ins["postgres"]

        def pair(key: str, fmt) -> str:
            return f"PostgreSQL {fmt(pg['tick'][key])} vs SQLite {fmt(sq['tick'][key])}"

        def ms(x: float | None) -> str:
            return _s(x, " ms")

        rows += [
            (
                "Instance PostgreSQL / SQLite: sensor daemon iteration",
                _x(r["daemon_sensor_iteration"]),
                pair("median_daemon_iteration_ms", ms)
                + f" (every sensor once, tick rows; lake {ins['lake']}, {ins['days']} days)",
            ),
            (
                "Instance PostgreSQL / SQLite: keeper evaluation",
                _x(r["evaluate_keeper"]),
                pair("median_keeper_ms", ms) + " (clicks_late_data_sensor, evaluate_tick)",
            ),
            (
                "Instance PostgreSQL / SQLite: every sensor evaluated",
                _x(r["evaluate_every_sensor"]),
                pair("median_evaluate_all_ms", ms),
            ),
            (
                "Instance PostgreSQL / SQLite: engagement range run",
                _x(r["range_run"]),
                f"PostgreSQL {_s(pg['range_run']['median_run_seconds'])} vs SQLite "
                f"{_s(sq['range_run']['median_run_seconds'])} ({ins['range']})",
            ),
            (
                "Instance PostgreSQL / SQLite: sync (lake to a new instance)",
                _x(r["sync"]),
                pair("median_sync_seconds", _s)
                + f" ({sq['tick']['synced_partitions']} partitions reported)",
            ),
        ]
    for name, section in sec.items():
        if "error" in section:
            rows.append((f"{name}", "ERROR", section["error"][:200]))
    return rows


def _planner_rows(pl: dict) -> list[tuple[str, str, str]]:
    """One headline row per sensor: the cold tick at 3 years (the goal), the other sizes and
    the growth in the notes."""
    rows = []
    goal = pl.get("goal_seconds_at_3y")
    for sensor, s in pl["sensors"].items():
        by = s["by_history"]
        at3 = (by.get("3y") or {}).get("cold_seconds")
        sizes = ", ".join(f"{y} {_s2(v.get('cold_seconds'))} s" for y, v in by.items())
        g = s.get("growth_cold") or {}
        grow = (
            f"; ×{g['ratio']} for ×{g['history_ratio']} history (exponent {g['exponent']})"
            if "ratio" in g
            else ""
        )
        peak = max((v.get("peak_rss_mb") or 0 for v in by.values()), default=None)
        met = "" if at3 is None or goal is None else (" ✓" if at3 <= goal else " ✗ goal")
        rows.append(
            (
                f"Planner tick `{sensor}`, 3 years of history (cold)",
                (_s2(at3) + " s" if at3 is not None else "—") + met,
                f"cold {sizes}{grow}; at 3 years warm {_s2((by.get('3y') or {}).get('warm_seconds'))} s, "
                f"busy {_s2((by.get('3y') or {}).get('busy_seconds'))} s; "
                f"peak RSS {_mb(peak)}",
            )
        )
    return rows


def _planner_table(pl: dict) -> list[str]:
    sizes = list(next(iter(pl["sensors"].values()))["by_history"]) if pl["sensors"] else []
    out = ["", "## The planner at scale (one tick per sensor, every asset's history)", ""]
    out += [
        "Seconds per tick, cold (a fresh process: no lineage record cached) / warm (the next "
        "tick of the same process) / busy (the next morning: a day of every daily asset due "
        "and missing, requested); goal: "
        f"<= {pl.get('goal_seconds_at_3y')} s at 3 years, growth no worse than linear. Data roots: "
        + ", ".join(
            f"{y} = {v.get('days')} days, {_n(v.get('partitions'))} partitions"
            for y, v in pl["lakes"].items()
        )
        + ".",
        "",
        "| sensor | "
        + " | ".join(f"{y} cold / warm / busy" for y in sizes)
        + " | growth cold (exponent) | peak RSS | decision steady; busy |",
        "|---|" + "---:|" * len(sizes) + "---:|---:|---|",
    ]
    for sensor, s in pl["sensors"].items():
        by = s["by_history"]
        g = s.get("growth_cold") or {}
        last = by.get(sizes[-1]) or {}
        said = "; ".join(
            (d.get("skip") or f"{len(d.get('run_keys') or [])} request(s)")[:50]
            for d in (last.get("decision") or {}, last.get("busy_decision") or {})
        )
        out.append(
            f"| `{sensor}` | "
            + " | ".join(
                f"{_s2(by[y].get('cold_seconds'))} / {_s2(by[y].get('warm_seconds'))} / "
                f"{_s2(by[y].get('busy_seconds'))}"
                for y in sizes
            )
            + f" | ×{g.get('ratio', '—')} ({g.get('exponent', '—')}) | "
            f"{_mb(max((v.get('peak_rss_mb') or 0) for v in by.values()))} | {said} |"
        )
    return out


def summary_lines(results: dict) -> str:
    width = max((len(r[0]) for r in headline_rows(results)), default=10)
    lines = [f"Benchmark summary ({results['mode']}, medians of {results['settings']['repeats']})"]
    for measure, value, note in headline_rows(results):
        lines.append(f"  {measure:<{width}}  {value:>10}  {note}")
    return "\n".join(lines)


def markdown(results: dict) -> str:
    m, st = results["machine"], results["settings"]
    out = [
        f"# Benchmark results ({results['mode']})",
        "",
        f"Generated {results['generated_at']} by `{results['command'].strip()}` at commit "
        f"`{m.get('git_commit')}`. Medians of {st['repeats']} runs (backfill: "
        f"{st['backfill_repeats']}); every run is a fresh process. How to read these numbers: "
        "docs/benchmarks.md.",
        "",
        "| measure | median | notes |",
        "|---|---:|---|",
    ]
    out += [f"| {a} | {b} | {c} |" for a, b, c in headline_rows(results)]
    out += [
        "",
        "## Machine",
        "",
        f"- CPU: {m['cpu_model']}, {m['logical_cores']} logical cores "
        f"({m['physical_cores']} physical); memory {m['memory_gb']} GB; "
        f"load average at start {m['load_average_at_start']} (shared machine)",
        f"- {m['os']}; Python {m['python']}, dagster {m['dagster']}, duckdb {m['duckdb']}, "
        f"polars {m['polars']}, pyspark {m['pyspark']}",
        f"- DuckDB memory_limit {st['duckdb_memory_limit']}, {st['duckdb_threads']} threads; "
        f"Spark {st['spark_master']}, driver memory {st['spark_driver_memory']}"
        + (
            f"; Spark standalone cluster on localhost: {c['workers']} workers × "
            f"{c['cores_per_worker']} core × {c['memory_per_worker']}"
            if (c := st.get("spark_cluster"))
            else ""
        ),
        "",
        "## Data",
        "",
        "| data set | what | days | landed clicks | landed size |",
        "|---|---|---|---:|---:|",
    ]
    for name, d in results["datasets"].items():
        size = d.get("landed_click_bytes")
        out.append(
            f"| {name} | {d['about']} (profile `{d['profile']}`, seed {d['seed']}, "
            f"overrides {d['overrides'] or '{}'}) | {d['days']} | {_n(d.get('landed_click_rows'))} | "
            f"{_bytes(size)} |"
        )
    e = results["sections"].get("engagement")
    if e and "error" not in e:
        out += ["", "## Engagement run, time per step (median)", ""]
        out += ["| step | seconds |", "|---|---:|"]
        out += [f"| {k} | {v:.1f} |" for k, v in e["median_step_seconds"].items()]
        out += [
            f"| run total (execute_in_process) | {e['dagster_range_run']['median_run_seconds']:.1f} |",
            f"| of which outside the steps (orchestration) | {_s(e['orchestration_seconds'], '')} |",
            "",
            f"Output check (asset engagement_hours vs the query): {e.get('results_identical')}",
        ]
    sp = results["sections"].get("spark")
    if sp and "error" not in sp:
        names = _spark_sets(sp)
        tables = sorted({t for n in names for t in sp[n]["inputs"]})
        out += ["", f"## Spark rollup inputs (rows in month {sp['partition']})", ""]
        out += ["| input table | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
        out += [
            f"| {t} | " + " | ".join(_n(sp[n]["inputs"].get(t)) for n in names) + " |"
            for t in tables
        ]
    pl = results["sections"].get("planner")
    if pl and "error" not in pl and pl.get("sensors"):
        out += _planner_table(pl)
    measured = [(n, sec["measured"]) for n, sec in results["sections"].items() if "measured" in sec]
    if measured:
        out += ["", "## When each section was measured", ""]
        out += ["| section | started (UTC) | commit | load average at start |", "|---|---|---|---|"]
        out += [
            f"| {n} | {m['started_at']} | `{m['git_commit']}` | {m['load_average_at_start']} |"
            for n, m in measured
        ]
    skipped = results.get("skipped_sections") or []
    if skipped:
        out += ["", f"Sections not run this time: {', '.join(skipped)}."]
    out += ["", "Raw numbers, every run: `bench.json` next to this file.", ""]
    return "\n".join(out)
