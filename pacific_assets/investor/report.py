"""The pack: a self-contained HTML report per period, and a Markdown preview for the Dagster UI.

Charts are inline SVG drawn here (no JavaScript, no fonts or styles from the network), so the
file opens offline and can be mailed as is: MRR movements (a bridge from opening to closing MRR),
NRR/GRR trend, engagement trend (daily active licensed users and hours per active user per day,
incomplete days marked), and unit profit (monthly) or MRR trend (weekly).
"""

from __future__ import annotations

import datetime as dt
import html
import os
import uuid
from collections.abc import Sequence
from pathlib import Path

import polars as pl

from pacific_assets.investor.inputs import Grain
from pacific_assets.storage.lake import Lake

W, H = 560, 220
PAD_L, PAD_R, PAD_T, PAD_B = 64, 16, 24, 44
COLORS = {"up": "#2e7d32", "down": "#c62828", "level": "#455a64", "a": "#1565c0", "b": "#ef6c00"}


def _esc(x: object) -> str:
    return html.escape(str(x), quote=True)


def _fmt(v: float | None, kind: str = "num") -> str:
    if v is None:
        return "–"
    if kind == "usd":
        return f"-${-v:,.0f}" if v < 0 else f"${v:,.0f}"
    if kind == "pct":
        return f"{100 * v:.1f}%"
    if kind == "int":
        return f"{v:,.0f}"
    return f"{v:,.2f}"


def _scale(lo: float, hi: float) -> tuple[float, float]:
    if lo == hi:
        lo, hi = (lo - 1, hi + 1) if lo != 0 else (0.0, 1.0)
    pad = 0.08 * (hi - lo)
    return lo - (pad if lo < 0 else 0), hi + pad


def _frame(title: str, lo: float, hi: float, kind: str) -> list[str]:
    """SVG header, title, y axis with three gridlines."""
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" '
        f'role="img" aria-label="{_esc(title)}">',
        f'<text x="{PAD_L}" y="15" font-size="13" font-weight="bold">{_esc(title)}</text>',
    ]
    for i in range(3):
        v = lo + (hi - lo) * i / 2
        y = _y(v, lo, hi)
        parts.append(
            f'<line x1="{PAD_L}" x2="{W - PAD_R}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
            f'<text x="{PAD_L - 4}" y="{y + 4:.1f}" font-size="10" text-anchor="end">{_esc(_fmt(v, kind))}</text>'
        )
    return parts


def _y(v: float, lo: float, hi: float) -> float:
    return PAD_T + (H - PAD_T - PAD_B) * (1 - (v - lo) / (hi - lo))


def bridge_chart(title: str, steps: Sequence[tuple[str, float | None, str]]) -> str:
    """A waterfall: ("Opening", v, "level"), ("New", +v, "up"), ("Churn", -v, "down"), ... ("Closing", v, "level")."""
    running, bars = 0.0, []
    for label, value, kind in steps:
        v = value or 0.0
        if kind == "level":
            bars.append((label, 0.0, v, kind, value))
            running = v
        else:
            bars.append((label, running, running + v, "up" if v >= 0 else "down", value))
            running += v
    lo, hi = _scale(
        min(0.0, *(min(a, b) for _, a, b, _, _ in bars)),
        max(0.0, *(max(a, b) for _, a, b, _, _ in bars)),
    )
    parts = _frame(title, lo, hi, "usd")
    slot = (W - PAD_L - PAD_R) / max(len(bars), 1)
    for i, (label, a, b, kind, raw) in enumerate(bars):
        x = PAD_L + i * slot + slot * 0.15
        y0, y1 = sorted((_y(a, lo, hi), _y(b, lo, hi)))
        parts.append(
            f'<rect x="{x:.1f}" y="{y0:.1f}" width="{slot * 0.7:.1f}" height="{max(y1 - y0, 1):.1f}" '
            f'fill="{COLORS[kind]}"><title>{_esc(label)}: {_esc(_fmt(raw, "usd"))}</title></rect>'
            f'<text x="{x + slot * 0.35:.1f}" y="{H - PAD_B + 14}" font-size="10" text-anchor="middle">{_esc(label)}</text>'
            f'<text x="{x + slot * 0.35:.1f}" y="{y0 - 3:.1f}" font-size="9" text-anchor="middle">{_esc(_fmt(raw, "usd"))}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def line_chart(
    title: str,
    labels: Sequence[str],
    series: dict[str, Sequence[float | None]],
    kind: str = "num",
    marks: Sequence[bool] | None = None,
) -> str:
    """Lines over labelled points; None leaves a gap; ``marks`` flags points (red ring)."""
    values = [v for s in series.values() for v in s if v is not None]
    if not labels or not values:
        return f'<p class="nodata">{_esc(title)}: no data for this period.</p>'
    lo, hi = _scale(min(0.0, *values), max(values))
    parts = _frame(title, lo, hi, kind)
    n = len(labels)
    step = (W - PAD_L - PAD_R) / max(n - 1, 1)

    def x(i: int) -> float:
        return PAD_L + (i * step if n > 1 else (W - PAD_L - PAD_R) / 2)

    every = max(1, n // 8)
    for i, lab in enumerate(labels):
        if i % every == 0 or i == n - 1:
            parts.append(
                f'<text x="{x(i):.1f}" y="{H - PAD_B + 14}" font-size="9" text-anchor="middle">{_esc(lab)}</text>'
            )
    for j, (name, vals) in enumerate(series.items()):
        color = COLORS["a" if j == 0 else "b"]
        path, pen = [], "M"
        for i, v in enumerate(vals):
            if v is None:
                pen = "M"
                continue
            path.append(f"{pen}{x(i):.1f},{_y(v, lo, hi):.1f}")
            pen = "L"
            parts.append(
                f'<circle cx="{x(i):.1f}" cy="{_y(v, lo, hi):.1f}" r="2.5" fill="{color}">'
                f"<title>{_esc(labels[i])} {_esc(name)}: {_esc(_fmt(v, kind))}</title></circle>"
            )
        if path:
            parts.append(
                f'<path d="{" ".join(path)}" fill="none" stroke="{color}" stroke-width="2"/>'
            )
        parts.append(
            f'<rect x="{PAD_L + j * 170}" y="{H - 16}" width="10" height="10" fill="{color}"/>'
            f'<text x="{PAD_L + 14 + j * 170}" y="{H - 7}" font-size="10">{_esc(name)}</text>'
        )
    for i, flagged in enumerate(marks or []):
        if flagged:
            parts.append(
                f'<circle cx="{x(i):.1f}" cy="{PAD_T + 4}" r="4" fill="none" stroke="{COLORS["down"]}" stroke-width="2">'
                f"<title>{_esc(labels[i])}: incomplete input</title></circle>"
            )
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(
    title: str, labels: Sequence[str], values: Sequence[float | None], kind: str = "usd"
) -> str:
    vals = [v for v in values if v is not None]
    if not vals:
        return f'<p class="nodata">{_esc(title)}: no data.</p>'
    lo, hi = _scale(min(0.0, *vals), max(0.0, *vals))
    parts = _frame(title, lo, hi, kind)
    slot = min((W - PAD_L - PAD_R) / max(len(labels), 1), 80.0)
    for i, (lab, v) in enumerate(zip(labels, values, strict=True)):
        x = PAD_L + i * slot + slot * 0.2
        parts.append(
            f'<text x="{x + slot * 0.3:.1f}" y="{H - PAD_B + 14}" font-size="9" text-anchor="middle">{_esc(lab)}</text>'
        )
        if v is None:
            continue
        y0, y1 = sorted((_y(0.0, lo, hi), _y(v, lo, hi)))
        parts.append(
            f'<rect x="{x:.1f}" y="{y0:.1f}" width="{slot * 0.6:.1f}" height="{max(y1 - y0, 1):.1f}" '
            f'fill="{COLORS["up" if v >= 0 else "down"]}"><title>{_esc(lab)}: {_esc(_fmt(v, kind))}</title></rect>'
        )
    parts.append("</svg>")
    return "".join(parts)


# -- the pack ---------------------------------------------------------------------------------

#: (column, label, format) of the KPI table, in reading order.
KPI_TABLE = [
    ("mrr_usd", "MRR", "usd"),
    ("arr_usd", "ARR", "usd"),
    ("net_new_mrr_usd", "Net new MRR", "usd"),
    ("nrr", "NRR", "pct"),
    ("grr", "GRR", "pct"),
    ("logo_churn_rate", "Logo churn", "pct"),
    ("paying_accounts", "Paying accounts", "int"),
    ("arpa_usd", "ARPA", "usd"),
    ("active_users", "Active users", "int"),
    ("STICKY", "STICKY", "pct"),
    ("hours_per_active_user_per_day", "Hours / active user / day", "num"),
    ("profit_usd", "Profit", "usd"),
    ("profit_per_subscriber_usd", "Profit / subscriber", "usd"),
    ("contribution_margin_per_account_usd", "Contribution / account", "usd"),
]


def _kpi_rows(grain: Grain, df: pl.DataFrame) -> list[tuple[str, str, str]]:
    rows = []
    for col, label, kind in KPI_TABLE:
        if col == "STICKY":
            col, label = grain.stickiness_col, "DAU/MAU" if grain.name == "monthly" else "DAU/WAU"
        if col in df.columns:
            rows.append((col, label, kind))
    return rows


def _cell(row: dict, col: str, kind: str) -> str:
    v = row.get(col)
    reason = row.get(f"{col}_null_reason")
    if v is None and reason:
        return f'<span class="null" title="{_esc(reason)}">– ({_esc(reason)})</span>'
    return _esc(_fmt(v, kind))


def period_label(grain: Grain, period: dt.date) -> str:
    return f"{period:%B %Y}" if grain.name == "monthly" else f"week of {period:%Y-%m-%d}"


def render_html(
    grain: Grain,
    period: dt.date,
    kpis: pl.DataFrame,
    history: pl.DataFrame,
    engagement_daily: pl.DataFrame,
    input_status: pl.DataFrame,
    incomplete_days: Sequence[str],
    status_line: str,
    generated_at: dt.datetime,
) -> str:
    """The pack for one period. ``history``: 'all' rows of earlier periods (trend charts)."""
    pc = grain.period_col
    rows = kpis.filter(pl.col(pc) == period).to_dicts()
    company = next((r for r in rows if r["segment"] == "all"), {})
    title = f"Pacific — {'Investor rollup' if grain.name == 'monthly' else 'Executive weekly pack'}, {period_label(grain, period)}"

    bridge = bridge_chart(
        "MRR movements",
        [
            ("Opening", company.get("starting_mrr_usd"), "level"),
            ("New", company.get("new_mrr_usd"), "up"),
            ("Reactiv.", company.get("reactivation_mrr_usd"), "up"),
            ("Expansion", company.get("expansion_mrr_usd"), "up"),
            ("Contraction", -(company.get("contraction_mrr_usd") or 0.0), "down"),
            ("Churn", -(company.get("churned_mrr_usd") or 0.0), "down"),
            ("Closing", company.get("mrr_usd"), "level"),
        ],
    )
    trend = history.filter((pl.col("segment") == "all") & (pl.col(pc) <= period)).sort(pc).tail(12)
    labels = [f"{d:%Y-%m}" if grain.name == "monthly" else f"{d:%m-%d}" for d in trend[pc]]
    retention = line_chart(
        "NRR / GRR trend",
        labels,
        {"NRR": trend["nrr"].to_list(), "GRR": trend["grr"].to_list()},
        kind="pct",
    )
    days = (
        engagement_daily.filter(pl.col("period_start") == period).sort("date")
        if engagement_daily.height
        else engagement_daily
    )
    if days.height:
        day_labels = [f"{d:%m-%d}" for d in days["date"]]
        hpu = [
            (h / a) if (h is not None and a) else None
            for h, a in zip(days["total_hours"], days["active_users"], strict=True)
        ]
        marks = [d.isoformat() in set(incomplete_days) for d in days["date"]]
        dau_chart = line_chart(
            "Daily active licensed users",
            day_labels,
            {
                "DAU (licensed)": [
                    None if v is None else float(v) for v in days["daily_active_licensed_users"]
                ]
            },
            kind="int",
            marks=marks,
        )
        hours_chart = line_chart(
            "Hours per active user per day", day_labels, {"hours / active user": hpu}, marks=marks
        )
    else:
        dau_chart = hours_chart = '<p class="nodata">Engagement: no data for this period.</p>'
    if grain.with_profit:
        last = (
            trend.filter(pl.col("profit_per_subscriber_usd").is_not_null())
            if "profit_per_subscriber_usd" in trend.columns
            else trend.clear()
        )
        unit = bar_chart(
            "Unit profit: profit per subscriber",
            [f"{d:%Y-%m}" for d in last[pc]],
            last["profit_per_subscriber_usd"].to_list() if last.height else [],
        )
    else:
        unit = line_chart("MRR trend", labels, {"MRR": trend["mrr_usd"].to_list()}, kind="usd")

    segs = rows
    cols = _kpi_rows(grain, kpis)
    table = [
        "<table><tr><th>KPI</th>"
        + "".join(f"<th>{_esc(r['segment'])}</th>" for r in segs)
        + "</tr>"
    ]
    for col, label, kind in cols:
        table.append(
            f"<tr><td>{_esc(label)}</td>"
            + "".join(f"<td>{_cell(r, col, kind)}</td>" for r in segs)
            + "</tr>"
        )
    table.append("</table>")

    status_rows = ['<table class="text"><tr><th>input</th><th>status</th><th>why</th></tr>']
    for r in input_status.filter(pl.col("period_start") == period).iter_rows(named=True):
        cls = "ok" if r["is_ok"] else "bad"
        status_rows.append(
            f'<tr class="{cls}"><td>{_esc(r["input"])}</td><td>{_esc(r["status"])}</td>'
            f"<td>{_esc(r['reason'] or '')}</td></tr>"
        )
    status_rows.append("</table>")
    banner_cls = (
        "ok"
        if company.get("is_complete") and company.get("publication_status") == "published"
        else "warn"
    )

    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{_esc(title)}</title>
<style>
body {{ font-family: -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; margin: 24px; color: #222; max-width: 1200px; }}
h1 {{ font-size: 22px; }} h2 {{ font-size: 16px; margin-top: 28px; }}
.banner {{ padding: 10px 14px; border-radius: 4px; }} .banner.ok {{ background: #e8f5e9; }} .banner.warn {{ background: #fff3e0; }}
.charts {{ display: flex; flex-wrap: wrap; gap: 12px; }}
table {{ border-collapse: collapse; font-size: 13px; }} td, th {{ border: 1px solid #ddd; padding: 4px 8px; text-align: right; }}
td:first-child, th:first-child, table.text td, table.text th {{ text-align: left; }} tr.bad td {{ background: #ffebee; }} .null {{ color: #888; }}
footer {{ margin-top: 24px; font-size: 11px; color: #666; }}
</style></head><body>
<h1>{_esc(title)}</h1>
<p class="banner {banner_cls}">{_esc(status_line)}</p>
<h2>Key figures by segment</h2>
{"".join(table)}
<h2>Charts</h2>
<div class="charts">{bridge}{retention}{dau_chart}{hours_chart}{unit}</div>
<h2>Inputs (completeness record)</h2>
{"".join(status_rows)}
<footer>Generated {generated_at:%Y-%m-%d %H:%M} UTC by the {_esc(grain.asset)} asset. Definitions: docs/investor.md.
A dash means the figure cannot be computed; the reason is given next to it (never NaN or infinity).</footer>
</body></html>
"""


def status_line(row: dict) -> str:
    status = row.get("publication_status")
    if status == "published":
        return f"Published (v{row.get('published_version')}): every input complete."
    if status == "restatement_pending":
        return (
            f"RESTATEMENT PENDING: figures differ from published v{row.get('published_version')}; "
            "see the investor_restatements table. The published snapshot is unchanged."
        )
    if status == "open_period":
        extra = (
            f" Inputs so far incomplete: {row.get('incomplete_reason')}"
            if not row.get("is_complete")
            else ""
        )
        return "DRAFT — the period has not ended yet." + extra
    if status == "complete":
        return "Complete: every input present, fresh, complete and checked."
    return f"DRAFT — NOT COMPLETE. {row.get('incomplete_reason') or ''}".strip()


def report_path(lake: Lake, grain: Grain, period: dt.date) -> Path:
    if grain.name == "monthly":
        return lake.reports / "investor" / f"investor_rollup_{period:%Y-%m}.html"
    return lake.reports / "executive" / f"executive_weekly_{period.isoformat()}.html"


def write_report(path: Path, text: str) -> Path:
    """Atomic: a reader never sees half a report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path


def markdown_preview(
    grain: Grain, period: dt.date, kpis: pl.DataFrame, status: str, path: Path | None
) -> str:
    """The pack's key figures as a Markdown table (shown in the Dagster UI)."""
    rows = kpis.filter(pl.col(grain.period_col) == period).to_dicts()
    cols = _kpi_rows(grain, kpis)
    lines = [f"**{period_label(grain, period)}** — {status}", ""]
    lines.append("| KPI | " + " | ".join(r["segment"] for r in rows) + " |")
    lines.append("|---|" + "---:|" * len(rows))
    for col, label, kind in cols:
        cells = []
        for r in rows:
            v, reason = r.get(col), r.get(f"{col}_null_reason")
            cells.append(f"– ({reason})" if v is None and reason else _fmt(v, kind))
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    if path is not None:
        lines += ["", f"Full pack: `{path}`"]
    return "\n".join(lines)
