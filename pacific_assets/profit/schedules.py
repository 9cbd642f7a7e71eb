"""When the profit assets run: the daily facts every night, the closed month on the 2nd.

A Dagster run holds one partition grid, so the pipeline runs as two jobs on two schedules:

- ``profit_daily_facts_schedule`` (every day, 02:00 UTC — after staging and growth's 01:00 status
  run): rebuilds ``invoice_lines_current`` and the daily revenue and cash facts for every day from
  the first of the previous month to yesterday, in one range run. Re-doing about two months each
  night picks up late voids, refunds and back-dated lines before the month is closed.
- ``profit_month_close_schedule`` (the 2nd, 04:00 UTC): ``profit_expenses``, ``unit_profit``,
  ``account_unit_economics`` and ``profit_reconciliation`` for the month that just closed, ready
  before the review deadline (3rd, 09:00 UTC).

The monthly assets refuse to run on stale daily facts (``month_inputs.require_fresh_facts``), so
if the nightly run failed or billing landed after it, the month close fails with what to re-run
instead of publishing numbers from an old snapshot of the books.

Whether the closed month is in and complete by the deadline is checked by the central
``newest_expected_partition`` check (operations), hourly, not by a profit schedule.
"""

import datetime as dt

import dagster as dg

from pacific_assets.profit.expenses import profit_expenses
from pacific_assets.profit.lakeio import add_months
from pacific_assets.profit.reconciliation import profit_reconciliation
from pacific_assets.profit.revenue import (
    cash_collected_daily,
    invoice_lines_current,
    recognized_revenue_daily,
)
from pacific_assets.profit.unit_economics import account_unit_economics
from pacific_assets.profit.unit_profit import unit_profit

RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"

profit_daily_facts_job = dg.define_asset_job(
    "profit_daily_facts_job",
    selection=dg.AssetSelection.assets(
        invoice_lines_current, recognized_revenue_daily, cash_collected_daily
    ),
    description="The latest state of every invoice line, then recognized revenue and cash per "
    "account per day for the selected days (one range run).",
)

profit_monthly_job = dg.define_asset_job(
    "profit_monthly_job",
    selection=dg.AssetSelection.assets(
        profit_expenses, unit_profit, account_unit_economics, profit_reconciliation
    ),
    description="Expense lines, unit profit, per-account unit economics and the reconciliation "
    "with the filings for the selected months (reads the daily facts of those months).",
)


def daily_facts_request(scheduled: dt.datetime) -> dg.RunRequest:
    """The nightly range: first day of the previous month through yesterday (UTC)."""
    yesterday = scheduled.astimezone(dt.UTC).date() - dt.timedelta(days=1)
    first = add_months(yesterday.replace(day=1), -1)
    return dg.RunRequest(
        run_key=f"profit-daily-facts-{yesterday.isoformat()}",
        tags={RANGE_START_TAG: first.isoformat(), RANGE_END_TAG: yesterday.isoformat()},
    )


@dg.schedule(
    name="profit_daily_facts_schedule",
    cron_schedule="0 2 * * *",
    execution_timezone="UTC",
    job=profit_daily_facts_job,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Nightly: the latest state of the books, then recognized revenue and cash per "
    "account per day from the first of the previous month to yesterday.",
)
def profit_daily_facts_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    return daily_facts_request(context.scheduled_execution_time)


profit_month_close_schedule = dg.build_schedule_from_partitioned_job(
    profit_monthly_job,
    name="profit_month_close_schedule",
    description="Month close (the 2nd, 04:00 UTC): the closed month's expenses, unit profit, "
    "per-account unit economics and reconciliation with the filing.",
    day_of_month=2,
    hour_of_day=4,
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
