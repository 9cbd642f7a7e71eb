"""Ground truth per docs/semantic-contract.md, computed from the fault-free company (see
docs/simulator.md).

Every function takes the complete, un-faulted source data (all CRM steps, every invoice, every
click) and returns one TRUTH_TABLES frame: the contract columns first, documented extras after.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from pacific_tools.simulate.company import PAID_STATUSES, Company
from pacific_tools.simulate.config import SimConfig

UTC = pl.Datetime("us", "UTC")


def events_frame(company: Company) -> pl.DataFrame:
    """Every CRM event with the state after it (status, plan, seats, MRR, contract end)."""
    ids = company.account_ids
    return pl.DataFrame(
        {
            "event_id": [e.event_id for e in company.events],
            "account_id": [ids[e.account] for e in company.events],
            "event_type": [e.event_type for e in company.events],
            "effective_at": [e.at for e in company.events],
            "recorded_at": [e.recorded_at for e in company.events],
            "status": [e.status for e in company.events],
            "plan": [e.plan for e in company.events],
            "seats": [e.seats for e in company.events],
            "contract_end": [e.contract_end for e in company.events],
            "mrr_usd": [e.mrr for e in company.events],
        },
        schema={
            "event_id": pl.String,
            "account_id": pl.String,
            "event_type": pl.String,
            "effective_at": pl.Datetime("us"),
            "recorded_at": pl.Datetime("us"),
            "status": pl.String,
            "plan": pl.String,
            "seats": pl.Int64,
            "contract_end": pl.Date,
            "mrr_usd": pl.Float64,
        },
    ).sort(["account_id", "effective_at"])


def lines_frame(company: Company) -> pl.DataFrame:
    """Every invoice line in its final state (as of the end of the horizon)."""
    ids = company.account_ids
    cols = {
        "invoice_id": [x.invoice_id for x in company.lines],
        "line_id": [x.line_id for x in company.lines],
        "account_id": [ids[x.account] for x in company.lines],
        "issued_at": [x.issued_at for x in company.lines],
        "paid_at": [x.paid_at for x in company.lines],
        "voided_at": [x.voided_at for x in company.lines],
        "service_start": [x.service_start for x in company.lines],
        "service_end": [x.service_end for x in company.lines],
        "product": [x.product for x in company.lines],
        "quantity": [x.quantity for x in company.lines],
        "unit_price_usd": [x.unit_price for x in company.lines],
        "amount_usd": [x.amount for x in company.lines],
        "status": [x.status for x in company.lines],
        "billing": [x.billing for x in company.lines],
        "kind": [x.kind for x in company.lines],
    }
    return pl.DataFrame(
        cols,
        schema_overrides={
            "issued_at": pl.Datetime("us"),
            "paid_at": pl.Datetime("us"),
            "voided_at": pl.Datetime("us"),
        },
    )


def days(cfg: SimConfig) -> pl.Series:
    return pl.date_range(cfg.start, cfg.end - dt.timedelta(days=1), "1d", eager=True)


def account_status_daily(cfg: SimConfig, company: Company, events: pl.DataFrame) -> pl.DataFrame:
    """Status at the end of each UTC day (events effective before the next midnight), per account
    that exists by then (created on or before that day)."""
    accounts = pl.DataFrame(
        {
            "account_id": company.account_ids,
            "created": [a["created_at"].date() for a in company.accounts],
        }
    )
    grid = (
        accounts.join(days(cfg).alias("date").to_frame(), how="cross")
        .filter(pl.col("created") <= pl.col("date"))
        .with_columns(
            (
                pl.col("date").cast(pl.Datetime("us"))
                + pl.duration(days=1)
                - pl.duration(microseconds=1)
            ).alias("eod")
        )
        .sort("eod")
    )
    ev = events.select(
        "account_id", "effective_at", "status", "plan", "seats", "mrr_usd", "contract_end"
    ).sort("effective_at")
    out = grid.join_asof(
        ev,
        left_on="eod",
        right_on="effective_at",
        by="account_id",
        strategy="backward",
        check_sortedness=False,
    )
    return out.select(
        "date",
        "account_id",
        "status",
        "plan",
        "seats",
        "mrr_usd",
        "contract_end",
        pl.col("status").is_in(PAID_STATUSES).alias("is_paying"),
    ).sort(["date", "account_id"])


MEASURES = (
    "new_accounts",
    "churned_accounts",
    "renewed_accounts",
    "reactivated_accounts",
    "seats_added",
    "seats_removed",
    "new_mrr_usd",
    "expansion_mrr_usd",
    "contraction_mrr_usd",
    "churned_mrr_usd",
    "reactivation_mrr_usd",
)


def movements(cfg: SimConfig, events: pl.DataFrame) -> pl.DataFrame:
    """One row per CRM event effective in range, classified into growth movements."""
    ev = events.sort(["account_id", "effective_at"]).with_columns(
        pl.col("status").shift(1).over("account_id").fill_null("none").alias("prev_status"),
        pl.col("mrr_usd").shift(1).over("account_id").fill_null(0.0).alias("prev_mrr"),
        pl.col("seats").shift(1).over("account_id").fill_null(0).alias("prev_seats"),
        # MRR when the current renewal window opened (for renewal expansion)
        pl.when(pl.col("event_type") == "renewal_opened")
        .then(pl.col("mrr_usd"))
        .forward_fill()
        .over("account_id")
        .alias("window_mrr"),
    )
    was_paid = pl.col("prev_status").is_in(PAID_STATUSES)
    is_paid = pl.col("status").is_in(PAID_STATUSES)
    both = was_paid & is_paid
    d_mrr = pl.col("mrr_usd") - pl.col("prev_mrr")
    d_seats = pl.col("seats") - pl.col("prev_seats")
    et = pl.col("event_type")
    start = dt.datetime(cfg.start.year, cfg.start.month, cfg.start.day)
    return ev.filter(pl.col("effective_at") >= start).select(
        "account_id",
        "event_type",
        pl.col("effective_at").dt.date().alias("day"),
        (et == "subscribed").cast(pl.Int64).alias("new_accounts"),
        ((et == "churned") & was_paid).cast(pl.Int64).alias("churned_accounts"),
        (et == "renewed").cast(pl.Int64).alias("renewed_accounts"),
        (et == "reactivated").cast(pl.Int64).alias("reactivated_accounts"),
        pl.when(both & (d_seats > 0))
        .then(d_seats)
        .otherwise(0)
        .cast(pl.Int64)
        .alias("seats_added"),
        pl.when(both & (d_seats < 0))
        .then(-d_seats)
        .otherwise(0)
        .cast(pl.Int64)
        .alias("seats_removed"),
        pl.when(et == "subscribed").then(pl.col("mrr_usd")).otherwise(0.0).alias("new_mrr_usd"),
        pl.when(both & (d_mrr > 0)).then(d_mrr).otherwise(0.0).alias("expansion_mrr_usd"),
        pl.when(both & (d_mrr < 0)).then(-d_mrr).otherwise(0.0).alias("contraction_mrr_usd"),
        pl.when((et == "churned") & was_paid)
        .then(pl.col("prev_mrr"))
        .otherwise(0.0)
        .alias("churned_mrr_usd"),
        pl.when(et == "reactivated")
        .then(pl.col("mrr_usd"))
        .otherwise(0.0)
        .alias("reactivation_mrr_usd"),
        # extras
        (et == "account_created").cast(pl.Int64).alias("created_accounts"),
        (et == "trial_started").cast(pl.Int64).alias("trials_started"),
        ((et == "churned") & (pl.col("prev_status") == "trial"))
        .cast(pl.Int64)
        .alias("trials_lapsed"),
        pl.when(et == "renewed")
        .then(pl.col("mrr_usd") - pl.col("window_mrr").fill_null(pl.col("prev_mrr")))
        .otherwise(0.0)
        .alias("renewal_expansion_usd"),
    )


def account_growth(
    cfg: SimConfig, events: pl.DataFrame, status: pl.DataFrame, grain: str
) -> pl.DataFrame:
    """Weekly (Monday) or monthly movements; every period in range gets a row (zeros included).

    ``renewing_accounts`` = accounts in the renewal window (status renewal_opened) at the end of
    the period's last simulated day."""
    key = "week_start" if grain == "week" else "month_start"
    trunc = "1w" if grain == "week" else "1mo"
    mv = movements(cfg, events).with_columns(pl.col("day").dt.truncate(trunc).alias(key))
    extras = ("created_accounts", "trials_started", "trials_lapsed", "renewal_expansion_usd")
    agg = mv.group_by(key).agg(pl.col(c).sum() for c in (*MEASURES, *extras))
    periods = days(cfg).dt.truncate(trunc).unique().sort().alias(key).to_frame()
    last_day = (
        status.select("date")
        .unique()
        .with_columns(pl.col("date").dt.truncate(trunc).alias(key))
        .group_by(key)
        .agg(pl.col("date").max().alias("last_day"))
    )
    renewing = (
        status.filter(pl.col("status") == "renewal_opened")
        .join(last_day, left_on="date", right_on="last_day")
        .group_by(key)
        .agg(pl.len().cast(pl.Int64).alias("renewing_accounts"))
    )
    out = (
        periods.join(agg, on=key, how="left")
        .join(renewing, on=key, how="left")
        .with_columns(pl.col(pl.Int64, pl.UInt32).fill_null(0), pl.col(pl.Float64).fill_null(0.0))
        .with_columns(pl.col("renewing_accounts").fill_null(0).cast(pl.Int64))
    )
    money = [c for c in out.columns if c.endswith("_usd")]
    out = out.with_columns(pl.col(money).round(2)).with_columns(
        (
            pl.col("new_accounts") + pl.col("reactivated_accounts") - pl.col("churned_accounts")
        ).alias("net_change_accounts"),
        (
            pl.col("new_mrr_usd")
            + pl.col("expansion_mrr_usd")
            + pl.col("reactivation_mrr_usd")
            - pl.col("contraction_mrr_usd")
            - pl.col("churned_mrr_usd")
        )
        .round(2)
        .alias("net_new_mrr_usd"),
    )
    return out.select(
        key, *MEASURES, "net_change_accounts", "net_new_mrr_usd", "renewing_accounts", *extras
    ).sort(key)


def recognized_revenue_daily(cfg: SimConfig, lines: pl.DataFrame) -> pl.DataFrame:
    """Accrual per account and day: every non-void line (refunds included, negative) contributes
    amount / days-in-period on each day of ``[service_start, service_end)`` inside the range."""
    live = lines.filter(
        (pl.col("status") != "void")
        & (pl.col("service_end") > cfg.start)
        & (pl.col("service_start") < cfg.end)
    ).with_columns(
        (
            pl.col("amount_usd") / (pl.col("service_end") - pl.col("service_start")).dt.total_days()
        ).alias("rate"),
        pl.max_horizontal(pl.col("service_start"), pl.lit(cfg.start)).alias("s"),
        (pl.min_horizontal(pl.col("service_end"), pl.lit(cfg.end)) - pl.duration(days=1)).alias(
            "e"
        ),
    )
    daily = live.select("account_id", "rate", pl.date_ranges("s", "e", "1d").alias("date")).explode(
        "date"
    )
    return (
        daily.group_by("date", "account_id")
        .agg(pl.col("rate").sum().alias("recognized_revenue_usd"))
        .sort(["date", "account_id"])
    )


def month_starts(cfg: SimConfig) -> list[dt.date]:
    out, m = [], dt.date(cfg.start.year, cfg.start.month, 1)
    while m < cfg.end:
        out.append(m)
        m = dt.date(m.year + (m.month == 12), m.month % 12 + 1, 1)
    return out


def next_month(m: dt.date) -> dt.date:
    return dt.date(m.year + (m.month == 12), m.month % 12 + 1, 1)


def unit_profit_monthly(
    cfg: SimConfig,
    lines: pl.DataFrame,
    revenue_daily: pl.DataFrame,
    status: pl.DataFrame,
    ops: pl.DataFrame,
    salaries: pl.DataFrame,
    capex_life_months: int,
) -> pl.DataFrame:
    """Monthly profit per docs/semantic-contract.md. Capex is amortized straight line from the
    month it is booked."""
    rows = []
    paid = lines.filter(pl.col("paid_at").is_not_null() & (pl.col("status") != "void"))
    for m in month_starts(cfg):
        nm = next_month(m)
        ms, me = dt.datetime(m.year, m.month, 1), dt.datetime(nm.year, nm.month, 1)
        cash = paid.filter((pl.col("paid_at") >= ms) & (pl.col("paid_at") < me))["amount_usd"].sum()
        rev = revenue_daily.filter((pl.col("date") >= m) & (pl.col("date") < nm))[
            "recognized_revenue_usd"
        ].sum()
        mkey = m.strftime("%Y-%m")
        opex = ops.filter((pl.col("month") == mkey) & ~pl.col("capex"))["amount_usd"].sum()
        capex_rows = ops.filter(pl.col("capex"))
        amort = 0.0
        for booked, amount in zip(capex_rows["month"], capex_rows["amount_usd"], strict=True):
            b = dt.date.fromisoformat(booked + "-01")
            age = (m.year - b.year) * 12 + m.month - b.month
            if 0 <= age < capex_life_months:
                amort += amount / capex_life_months
        sal = salaries.filter(pl.col("month") == mkey)["salary_cost_usd"].sum()
        last = min(nm - dt.timedelta(days=1), cfg.end - dt.timedelta(days=1))
        eom = status.filter((pl.col("date") == last) & pl.col("is_paying"))
        rows.append(
            dict(
                month_start=m,
                cash_collected_usd=float(cash or 0.0),
                recognized_revenue_usd=float(rev or 0.0),
                opex_usd=float(opex or 0.0),
                capex_amortization_usd=amort,
                salaries_usd=float(sal or 0.0),
                profit_usd=float(rev or 0.0) - float(opex or 0.0) - amort - float(sal or 0.0),
                paying_subscribers=eom.height,
                licensed_seats=int(eom["seats"].sum() or 0),
                total_expenses_usd=float(opex or 0.0) + amort + float(sal or 0.0),
                is_complete_month=nm <= cfg.end,
                status_as_of=last,
            )
        )
    return pl.DataFrame(rows).with_columns(
        pl.col("paying_subscribers").cast(pl.Int64), pl.col("licensed_seats").cast(pl.Int64)
    )
