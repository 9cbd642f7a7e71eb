"""Small hand-made inputs for the experiment pipeline, written straight into a lake.

The frames follow the interfaces other pipelines publish (docs/experiments.md, "Inputs"), with
the publishers' own schemas (staging_columns, USER_DAILY_SCHEMA), so the tests exercise the real
read path (Parquet files, DuckDB) without running staging or engagement.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from pacific_assets.contracts import SOURCES
from pacific_assets.engagement.assets import USER_DAILY_SCHEMA
from pacific_assets.staging.assets import staging_columns
from pacific_assets.storage.lake import Lake

D = dt.date


def ts(s: str) -> dt.datetime:
    return dt.datetime.fromisoformat(s.replace("Z", "+00:00"))


def day_keys(start: dt.date, end: dt.date) -> list[str]:
    """Keys of the days in [start, end)."""
    return [(start + dt.timedelta(days=i)).isoformat() for i in range((end - start).days)]


def experiment(
    experiment_id: str,
    unit_type: str,
    variants: str,
    weights: str,
    start_date: dt.date,
    end_date: dt.date | None,
    primary_metric: str,
) -> dict:
    """One registry row (the CSV's columns, in its order): a registry reads as a table."""
    return dict(
        experiment_id=experiment_id,
        unit_type=unit_type,
        variants=variants,
        weights=weights,
        start_date=start_date,
        end_date=end_date,
        primary_metric=primary_metric,
    )


def assignment(
    experiment_id: str,
    unit_type: str,
    unit_id: str,
    variant: str,
    assigned_at: str,
    export_date: dt.date | None = None,
) -> dict:
    """One assignment row for ``write_assignments``; exported on its UTC day unless told."""
    row = dict(
        experiment_id=experiment_id,
        unit_type=unit_type,
        unit_id=unit_id,
        variant=variant,
        assigned_at=assigned_at,
    )
    return row if export_date is None else {**row, "export_date": export_date}


def write_registry(lake: Lake, rows: list[dict]) -> None:
    df = pl.DataFrame(
        [
            {**r, "_source_file": "experiments/registry.csv", "_row_number": i + 1}
            for i, r in enumerate(rows)
        ],
        schema=staging_columns(SOURCES["experiment_registry"]),
    )
    lake.write_table("stg_experiment_registry", df)


def write_assignments(lake: Lake, rows: list[dict], keys: list[str] | None = None) -> None:
    """rows: experiment_id, unit_type, unit_id, variant, assigned_at (ISO str), export_date."""
    out = []
    for i, r in enumerate(rows):
        exported = r.get("export_date") or ts(r["assigned_at"]).date()
        out.append(
            {
                "experiment_id": r["experiment_id"],
                "unit_type": r["unit_type"],
                "unit_id": r["unit_id"],
                "variant": r["variant"],
                "assigned_at": ts(r["assigned_at"]),
                "export_date": exported,
                "_source_file": f"experiments/assignments/date={exported}/part.csv",
                "_row_number": i + 1,
            }
        )
    df = pl.DataFrame(
        out,
        schema=staging_columns(SOURCES["experiment_assignments"]),
    )
    keys = keys or sorted({str(d) for d in df["export_date"].to_list()})
    lake.write_partitions("stg_experiment_assignments", "export_date", keys, df)


def engagement_row(
    date: dt.date,
    user_id: str,
    account_id: str,
    sessions: int,
    hours: float,
    events: int,
    late_events: int = 0,
) -> dict:
    """One user's day of ``user_engagement_daily`` (team and licence: engagement_frame's)."""
    return dict(
        date=date,
        user_id=user_id,
        account_id=account_id,
        sessions=sessions,
        hours=hours,
        events=events,
        late_events=late_events,
    )


def engagement_frame(rows: list[dict]) -> pl.DataFrame:
    """rows: date, user_id, account_id, sessions, hours, events (+ late_events, team, licensed)."""
    full = [{"team": "sales", "licensed": True, "late_events": 0, **r} for r in rows]
    return pl.DataFrame(full, schema=USER_DAILY_SCHEMA)


def write_engagement(lake: Lake, keys: list[str], rows: list[dict]) -> None:
    lake.write_partitions("user_engagement_daily", "date", keys, engagement_frame(rows))


#: The columns of recognized_revenue_daily the experiment pipeline reads.
REVENUE_SCHEMA = {"date": pl.Date, "account_id": pl.String, "recognized_revenue_usd": pl.Float64}


def write_revenue(lake: Lake, keys: list[str], rows: list[dict]) -> pl.DataFrame:
    """Write recognized_revenue_daily partitions ``keys``; returns the frame written."""
    df = pl.DataFrame(rows, schema=REVENUE_SCHEMA)
    lake.write_partitions("recognized_revenue_daily", "date", keys, df)
    return df


def write_directory(lake: Lake, rows: list[dict]) -> None:
    """rows: user_id, account_id, export_date."""
    df = pl.DataFrame(
        [
            {
                "user_id": r["user_id"],
                "account_id": r["account_id"],
                "team": "sales",
                "licensed": True,
                "created_at": dt.datetime(2025, 8, 1, tzinfo=dt.UTC),
                "deactivated_at": None,
                "export_date": r["export_date"],
                "_source_file": f"directory/users/date={r['export_date']}/part.csv",
                "_row_number": i + 1,
            }
            for i, r in enumerate(rows)
        ],
        schema=staging_columns(SOURCES["directory_users"]),
    )
    keys = sorted({str(d) for d in df["export_date"].to_list()})
    lake.write_partitions("stg_directory_users", "export_date", keys, df)


def synthetic_experiments(
    lake: Lake,
    seed: int = 1,
    n_accounts: int = 16,
    users_per_account: int = 5,
    effect: float = 0.3,
) -> dict:
    """A small company with three experiments, engagement generated from a known model.

    - ``exp_effect`` (user units, 50/50): treatment multiplies a user's daily session rate by
      (1 + effect) from the assignment day on;
    - ``exp_srm`` (user units, registered 50/50, allocated 75/25): a broken allocation;
    - ``exp_accounts`` (account units, 50/50, no effect): accounts with revenue.
    Engagement exists for 2025-09-01..2025-10-05, experiments run [2025-09-15, 2025-09-29).
    Returns the frames written (engagement, assignments) for independent recomputation.
    """
    rng = np.random.default_rng(seed)
    start, end = D(2025, 9, 1), D(2025, 10, 6)
    days = [start + dt.timedelta(days=i) for i in range((end - start).days)]
    accounts = [f"acct-{i:03d}" for i in range(n_accounts)]
    users = [f"user-{i:04d}" for i in range(n_accounts * users_per_account)]
    user_account = [accounts[i // users_per_account] for i in range(len(users))]
    exp_start, exp_end = D(2025, 9, 15), D(2025, 9, 29)

    def assign(exp: str, unit_type: str, ids: list[str], control_share: float) -> list[dict]:
        order = rng.permutation(len(ids))
        n_control = round(len(ids) * control_share)
        out = []
        for rank, i in enumerate(order):
            offset_s = int(rng.integers(0, 3 * 86_400))
            at = dt.datetime(2025, 9, 15, tzinfo=dt.UTC) + dt.timedelta(seconds=offset_s)
            variant = "control" if rank < n_control else "treatment"
            out.append(
                assignment(exp, unit_type, ids[i], variant, at.isoformat().replace("+00:00", "Z"))
            )
        return out

    assignments = (
        assign("exp_effect", "user", users, 0.5)
        + assign("exp_srm", "user", users, 0.75)
        + assign("exp_accounts", "account", accounts, 0.5)
    )
    write_registry(
        lake,
        [
            experiment(e, t, "control|treatment", "0.5|0.5", exp_start, exp_end, m)
            for e, t, m in (
                ("exp_effect", "user", "sessions"),
                ("exp_srm", "user", "sessions"),
                ("exp_accounts", "account", "hours"),
            )
        ],
    )
    write_assignments(lake, assignments)
    write_directory(
        lake,
        [
            {"user_id": u, "account_id": a, "export_date": start}
            for u, a in zip(users, user_account, strict=True)
        ],
    )

    treated_from = {
        a["unit_id"]: ts(a["assigned_at"]).date()
        for a in assignments
        if a["experiment_id"] == "exp_effect" and a["variant"] == "treatment"
    }
    propensity = rng.lognormal(0.3, 0.5, len(users))
    rows = []
    for d in days:
        for i, u in enumerate(users):
            boosted = u in treated_from and treated_from[u] <= d < exp_end
            sessions = int(rng.poisson(propensity[i] * (1 + effect if boosted else 1.0)))
            if sessions == 0:
                continue
            hours = float(sessions * rng.gamma(4.0, 0.15))
            events = sessions * 3 + int(rng.poisson(2))
            rows.append(engagement_row(d, u, user_account[i], sessions, hours, events))
    engagement = engagement_frame(rows)
    write_engagement(lake, [d.isoformat() for d in days], rows)
    revenue = write_revenue(
        lake,
        [d.isoformat() for d in days],
        [
            {"date": d, "account_id": a, "recognized_revenue_usd": 100.0 + 10 * j}
            for d in days
            for j, a in enumerate(accounts)
        ],
    )
    return {
        "engagement": engagement,
        "assignments": pl.DataFrame(assignments),
        "revenue": revenue,
        "exp_end": exp_end,
    }
