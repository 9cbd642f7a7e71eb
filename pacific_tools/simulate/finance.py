"""Ops spend (opex, capex, per-account direct costs) and salaries by team, sized to the business.

Costs scale with the company's contracted MRR at the start of each month, so the tiny test
company and the 20k-account bench company both run at a plausible margin.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from pacific_tools.simulate import catalog as C
from pacific_tools.simulate.config import SimConfig
from pacific_tools.simulate.truth import month_starts

SHARED_OPEX = (  # category, vendor, share of company MRR
    ("cloud_hosting", "Nimbus Cloud", 0.08),
    ("software_tools", "ToolStack", 0.03),
    ("office_rent", "Harbor Properties", 0.05),
    ("marketing", "Brightline Media", 0.10),
    ("contractors", "Ridge Consulting", 0.03),
)
CAPEX = (("laptops", "Summit Hardware", 0.02), ("servers", "Vertex Systems", 0.12))


def ops_and_salaries(
    cfg: SimConfig, rng: np.random.Generator, status: pl.DataFrame, segments: dict[str, str]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    ops_rows, sal_rows = [], []
    for m in month_starts(cfg):
        mkey = m.strftime("%Y-%m")
        day = max(m, cfg.start)
        at = status.filter((pl.col("date") == day) & pl.col("is_paying"))
        mrr = float(at["mrr_usd"].sum() or 0.0) or 1000.0
        n = 0

        def add(
            category: str,
            vendor: str,
            amount: float,
            capex: bool,
            account: str | None = None,
            m: dt.date = m,
            mkey: str = mkey,
        ) -> None:
            nonlocal n
            n += 1
            ops_rows.append(
                dict(
                    expense_id=f"EXP-{m:%Y%m}-{n:05d}",
                    month=mkey,
                    category=category,
                    capex=capex,
                    vendor=vendor,
                    amount_usd=round(amount, 2),
                    account_id=account,
                )
            )

        for category, vendor, share in SHARED_OPEX:
            seasonal = 1.25 if category == "marketing" and m.month in (1, 9, 10) else 1.0
            add(category, vendor, mrr * share * seasonal * rng.uniform(0.85, 1.15), False)
        add("laptops", CAPEX[0][1], mrr * CAPEX[0][2] * rng.uniform(0.5, 1.5), True)
        if m.month % 3 == 0:
            add("servers", CAPEX[1][1], mrr * CAPEX[1][2] * rng.uniform(0.8, 1.2), True)
        # direct costs: dedicated hosting for mid-market/enterprise, premium support staffing
        for account_id, acc_mrr in zip(at["account_id"], at["mrr_usd"], strict=True):
            seg = segments[account_id]
            if seg in ("mid_market", "enterprise"):
                add("dedicated_hosting", "Nimbus Cloud", acc_mrr * 0.12, False, account_id)
            if seg == "enterprise":
                add("customer_success_direct", "Pacific CS", acc_mrr * 0.05, False, account_id)
        for team, share in C.PAYROLL_TEAMS.items():
            cost = mrr * 0.40 * share * rng.uniform(0.95, 1.05)
            sal_rows.append(
                dict(
                    month=mkey,
                    team=team,
                    headcount=max(1, round(cost / C.MONTHLY_SALARY_PER_HEAD)),
                    salary_cost_usd=round(cost, 2),
                )
            )
    ops = pl.DataFrame(
        ops_rows,
        schema={
            "expense_id": pl.String,
            "month": pl.String,
            "category": pl.String,
            "capex": pl.Boolean,
            "vendor": pl.String,
            "amount_usd": pl.Float64,
            "account_id": pl.String,
        },
    )
    salaries = pl.DataFrame(
        sal_rows,
        schema={
            "month": pl.String,
            "team": pl.String,
            "headcount": pl.Int64,
            "salary_cost_usd": pl.Float64,
        },
    )
    return ops, salaries


def month_key(d: dt.date) -> str:
    return d.strftime("%Y-%m")
