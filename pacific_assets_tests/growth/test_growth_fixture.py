"""Hand-computed growth numbers on a small CRM story, through the real assets (Dagster, DuckDB,
Parquet). Every expected number below is worked out by hand in the comments.

Accounts (2025; weeks start Monday; daily facts 09-01..10-31):
  N  new 09-02 (10 seats, $500) · +2 seats $600 09-09 · addon removed $550 09-16 ·
     -3 seats $400 09-30 (Tue, week of 09-29, September) · +2 seats $500 10-02 (same week, October)
  S  created 09-15, subscribed 09-16 ($75, 3 seats), cancelled mid-term 09-19: same-week sign-up+churn
  D  subscribed 09-23 09:00 ($40), churned 09-23 17:00: same-day sign-up and churn
  R  churned in May (before the range), reactivated 09-10 ($150, 3 seats)
  W  pre-existing, renewal window opened 07-17 at $300, +2 seats $400 09-03, renewed 10-15 at $420
  M  pre-existing $100 term ending 09-20, renewed 09-20 at $120 (3 seats) with NO renewal_opened
  T  trial 09-24, trial lapsed (churned) 10-08: never paid, no movement
  Q  trial 10-01, seats_changed 10-07 ($250, 5 seats) with NO subscribed
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from pacific_assets.resources import LakeResource
from pacific_assets.storage.lake import Lake
from pacific_assets_tests.growth.fixtures import event, materialize_growth, stage_events, terms

EVENTS = [
    # N
    event("N1", "N", "account_created", "2025-09-01"),
    event("N2", "N", "subscribed", "2025-09-02", **terms("growth", 10, "2026-09-02", 500.0)),
    event("N3", "N", "seats_changed", "2025-09-09", seats=12, mrr=600.0),
    event("N4", "N", "addon_removed", "2025-09-16", mrr=550.0),
    event("N5", "N", "seats_changed", "2025-09-30", seats=9, mrr=400.0),
    event("N6", "N", "seats_changed", "2025-10-02", seats=11, mrr=500.0),
    # S
    event("S1", "S", "account_created", "2025-09-15"),
    event("S2", "S", "subscribed", "2025-09-16", **terms("starter", 3, "2026-09-16", 75.0)),
    event("S3", "S", "churned", "2025-09-19", seats=0, mrr=0.0),
    # D
    event("D1", "D", "account_created", "2025-09-22"),
    event("D2", "D", "subscribed", "2025-09-23T09:00", **terms("starter", 2, "2026-09-23", 40.0)),
    event("D3", "D", "churned", "2025-09-23T17:00", seats=0, mrr=0.0),
    # R
    event("R1", "R", "account_created", "2024-05-01"),
    event("R2", "R", "subscribed", "2024-05-10", **terms("growth", 4, "2025-05-10", 200.0)),
    event("R3", "R", "renewal_opened", "2025-02-09", **terms("growth", 4, "2025-05-10", 200.0)),
    event("R4", "R", "churned", "2025-05-10", seats=0, mrr=0.0),
    event("R5", "R", "reactivated", "2025-09-10", **terms("growth", 3, "2026-09-10", 150.0)),
    # W
    event("W1", "W", "account_created", "2024-10-01"),
    event("W2", "W", "subscribed", "2024-10-15", **terms("growth", 6, "2025-10-15", 300.0)),
    event("W3", "W", "renewal_opened", "2025-07-17", **terms("growth", 6, "2025-10-15", 300.0)),
    event("W4", "W", "seats_changed", "2025-09-03", **terms("growth", 8, "2025-10-15", 400.0)),
    event("W5", "W", "renewed", "2025-10-15", **terms("growth", 8, "2026-10-15", 420.0)),
    # M
    event("M1", "M", "account_created", "2024-09-01"),
    event("M2", "M", "subscribed", "2024-09-20", **terms("growth", 2, "2025-09-20", 100.0)),
    event("M3", "M", "renewed", "2025-09-20", **terms("growth", 3, "2026-09-20", 120.0)),
    # T
    event("T1", "T", "account_created", "2025-09-24T08:00"),
    event("T2", "T", "trial_started", "2025-09-24T10:00", plan="starter", seats=2, mrr=0.0),
    event("T3", "T", "churned", "2025-10-08", seats=0, mrr=0.0),
    # Q
    event("Q1", "Q", "account_created", "2025-10-01T08:00"),
    event("Q2", "Q", "trial_started", "2025-10-01T10:00", plan="growth", seats=2, mrr=0.0),
    event("Q3", "Q", "seats_changed", "2025-10-07", **terms("growth", 5, "2026-10-07", 250.0)),
]

COLUMNS = [
    "new_accounts", "churned_accounts", "renewed_accounts", "reactivated_accounts",
    "net_change_accounts", "seats_added", "seats_removed", "new_mrr_usd", "expansion_mrr_usd",
    "contraction_mrr_usd", "churned_mrr_usd", "reactivation_mrr_usd", "net_new_mrr_usd",
    "renewing_accounts", "renewal_expansion_usd", "imputed_accounts", "paying_accounts_end",
    "mrr_end_usd",
]  # fmt: skip
# fmt: off
EXPECTED_WEEKS = {
    #             new chu ren rea net s+ s-  new$  exp$  con$  chu$ rea$   net$ renewing ren_exp$ imp pay  mrr_end
    # W1: N new $500; W +2 seats +$100. Renewing at 09-07: W (ce 10-15), M (ce 09-20).
    "2025-09-01": (1, 0, 0, 0, 1, 2, 0, 500, 100, 0, 0, 0, 600, 2, 0, 0, 3, 1000),
    # W2: N +2 seats +$100; R reactivated $150.
    "2025-09-08": (0, 0, 0, 1, 1, 2, 0, 0, 100, 0, 0, 150, 250, 2, 0, 0, 4, 1250),
    # W3: N -$50; S new $75 and churned $75; M renewed +1 seat +$20, window imputed -> 1 imputed.
    "2025-09-15": (1, 1, 1, 0, 0, 1, 0, 75, 20, 50, 75, 0, -30, 1, 20, 1, 4, 1220),
    # W4: D new $40 and churned $40 on the same day; T starts a trial.
    "2025-09-22": (1, 1, 0, 0, 0, 0, 0, 40, 0, 0, 40, 0, 0, 1, 0, 0, 4, 1220),
    # W5 (crosses the month): N -3 seats -$150 (Sep 30), +2 seats +$100 (Oct 2).
    "2025-09-29": (0, 0, 0, 0, 0, 2, 3, 0, 100, 150, 0, 0, -50, 1, 0, 0, 4, 1170),
    # W6: Q subscribed (imputed, at its seats_changed) $250; T's trial lapses: not a churn.
    "2025-10-06": (1, 0, 0, 0, 1, 0, 0, 250, 0, 0, 0, 0, 250, 1, 0, 1, 5, 1420),
    # W7: W renewed $400 -> $420; window opened at $300 -> renewal expansion $120.
    "2025-10-13": (0, 0, 1, 0, 0, 0, 0, 0, 20, 0, 0, 0, 20, 0, 120, 0, 5, 1440),
    "2025-10-20": (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 1440),
}
EXPECTED_MONTHS = {
    # Sep: new N,S,D; churned S,D; renewed M; reactivated R. Seats +2 (W) +2 (N) +1 (M), -3 (N).
    # MRR: new 500+75+40; expansion 100+100+20; contraction 50+150; churn 75+40; reactivation 150.
    "2025-09-01": (3, 2, 1, 1, 2, 5, 3, 615, 220, 200, 115, 150, 670, 1, 20, 1, 4, 1070),
    # Oct: new Q; renewed W. Seats +2 (N). MRR: new 250; expansion 100 (N) + 20 (W).
    "2025-10-01": (1, 0, 1, 0, 1, 2, 0, 250, 120, 0, 0, 0, 370, 0, 120, 1, 5, 1440),
}
# fmt: on


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    root = tmp_path_factory.mktemp("growth_fixture") / "data"
    lake = Lake(root)
    stage_events(lake, EVENTS)
    materialize_growth(LakeResource(data_root=str(root)), "2025-09-01", "2025-10-31")
    return lake


def as_rows(frame: pl.DataFrame, key: str) -> dict[str, tuple]:
    return {
        str(row[0]): tuple(round(v, 2) if isinstance(v, float) else v for v in row[1:])
        for row in frame.sort(key).select(key, *COLUMNS).iter_rows()
    }


def test_weekly_growth_matches_hand_computed_numbers(built: Lake) -> None:
    weeks = built.read("account_growth")
    assert as_rows(weeks, "week_start") == {k: tuple(v) for k, v in EXPECTED_WEEKS.items()}
    assert weeks.schema["week_start"] == pl.Date
    assert weeks.schema["new_accounts"] == pl.Int64
    assert weeks.schema["new_mrr_usd"] == pl.Float64


def test_monthly_growth_comes_from_days_not_weeks(built: Lake) -> None:
    """The week of 09-29 has a -$150 in September and a +$100 in October: months split it."""
    months = built.read("account_growth_monthly")
    assert as_rows(months, "month_start") == {k: tuple(v) for k, v in EXPECTED_MONTHS.items()}


@pytest.mark.parametrize(
    "table,key", [("account_growth", "week_start"), ("account_growth_monthly", "month_start")]
)
def test_movements_reconcile_the_stock(built: Lake, table: str, key: str) -> None:
    """End MRR = previous end MRR + net new MRR; paying accounts move by the net change.
    Opening stock on 08-31: W ($300) and M ($100) paying."""
    rows = built.read(table).sort(key)
    mrr, paying = 400.0, 2
    for r in rows.iter_rows(named=True):
        mrr, paying = mrr + r["net_new_mrr_usd"], paying + r["net_change_accounts"]
        assert r["mrr_end_usd"] == pytest.approx(mrr)
        assert r["paying_accounts_end"] == paying


def test_daily_facts_show_end_of_day_status_and_the_days_movements(built: Lake) -> None:
    daily = built.read("account_status_daily")
    day = {(r["account_id"], r["date"].isoformat()): r for r in daily.iter_rows(named=True)}
    # same-day sign-up and churn: churned at the end of the day, both movements counted
    d = day[("D", "2025-09-23")]
    assert (d["status"], d["is_paying"], d["new_account"], d["churned_account"]) == (
        "churned",
        False,
        True,
        True,
    )
    assert (d["new_mrr_usd"], d["churned_mrr_usd"]) == (40.0, 40.0)
    # M renewed without its window: the imputed step is flagged on its day, with evidence
    m = day[("M", "2025-09-20")]
    assert (m["status"], m["imputed"], m["imputed_steps"], m["renewed_account"]) == (
        "renewed",
        True,
        1,
        True,
    )
    assert (
        "renewed requires renewal_opened in the contract term ending 2025-09-20"
        in (m["imputed_evidence"])
    )
    assert not day[("M", "2025-09-21")]["imputed"]
    # accounts exist from their first step; before it there is no row
    assert ("T", "2025-09-23") not in day
    assert day[("T", "2025-09-24")]["status"] == "trial"
    # churned accounts keep a row every day (they still exist)
    assert day[("S", "2025-10-31")]["status"] == "churned"
    # about to renew = paying with the contract end within 90 days
    assert day[("W", "2025-10-14")]["is_renewing"] and not day[("W", "2025-10-15")]["is_renewing"]
    assert daily.group_by("date", "account_id").len()["len"].max() == 1
    assert daily.filter(pl.col("date") == dt.date(2025, 10, 31)).height == 8


def test_history_lists_every_step_with_validity(built: Lake) -> None:
    h = built.read("account_status_history")
    assert h.filter("imputed").select("account_id", "event_type").sort("account_id").rows() == [
        ("M", "renewal_opened"),
        ("Q", "subscribed"),
    ]
    open_rows = h.filter(pl.col("valid_to").is_null())
    assert sorted(open_rows["account_id"]) == sorted({e["account_id"] for e in EVENTS})


def test_imputed_steps_check_warns_and_names_the_accounts(tmp_path: Path) -> None:
    root = tmp_path / "data"
    lake = Lake(root)
    stage_events(lake, EVENTS)
    from pacific_assets.growth.assets import account_status_history

    result = dg.materialize(
        [account_status_history],
        resources={"lake": LakeResource(data_root=str(root))},
        instance=dg.DagsterInstance.ephemeral(),
    )
    (check,) = result.get_asset_check_evaluations()
    assert not check.passed
    assert check.severity == dg.AssetCheckSeverity.WARN
    assert check.metadata["accounts"].value == ["M", "Q"]
    assert "Accounts team" in check.description
