"""Month close: after a month ends, rebuild its profit numbers from the latest state of the books.

Two jobs, because one Dagster run covers one partition grid:

1. ``profit_daily_facts_job`` — ``invoice_lines_current`` (unpartitioned: the latest state of every
   line) and the month's days of ``recognized_revenue_daily`` / ``cash_collected_daily``, in one
   range run. Started by ``profit_month_close_schedule`` on the 2nd at 06:00 UTC, so billing
   exports of the month's last day (and a day of corrections) have landed and been staged.
2. ``profit_monthly_job`` — ``profit_expenses``, ``unit_profit``, ``account_unit_economics``,
   ``profit_reconciliation`` for the closed month, started by ``profit_month_close_monthly`` as
   soon as run 1 succeeds (a run-status sensor, so run 2 never reads half-built daily facts).

Both are done before the review deadline (3rd, 09:00 UTC), when ``profit_sla_check_schedule``
starts checking daily that the closed month exists and is complete.
"""

import datetime as dt

import dagster as dg

from pacific_assets.profit.checks import newest_closed_month, newest_closed_month_present
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

#: Tag carried by both month-close runs: the closed month's partition key.
CLOSE_MONTH_TAG = "pacific/profit_close_month"
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
    ).without_checks()
    | dg.AssetSelection.checks_for_assets(
        profit_expenses, unit_profit, account_unit_economics, profit_reconciliation
    )
    - dg.AssetSelection.checks(newest_closed_month_present),
    description="Expense lines, unit profit, per-account unit economics and the reconciliation "
    "with the filings for the selected months (reads the daily facts of those months).",
)

profit_sla_check_job = dg.define_asset_job(
    "profit_sla_check_job",
    selection=dg.AssetSelection.checks(newest_closed_month_present),
    description="Only the check that the newest closed month of unit_profit exists and is complete.",
)


def month_close_request(month: dt.date) -> dg.RunRequest:
    """Run 1 of the month close: the daily facts for every day of ``month``."""
    last_day = add_months(month, 1) - dt.timedelta(days=1)
    return dg.RunRequest(
        run_key=f"profit-close-{month.isoformat()}",
        tags={
            RANGE_START_TAG: month.isoformat(),
            RANGE_END_TAG: last_day.isoformat(),
            CLOSE_MONTH_TAG: month.isoformat(),
        },
    )


@dg.schedule(
    name="profit_month_close_schedule",
    cron_schedule="0 6 2 * *",
    execution_timezone="UTC",
    job=profit_daily_facts_job,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Month close, step 1 (2nd of the month, 06:00 UTC): rebuild the closed month's "
    "daily revenue and cash facts from the latest state of the books; step 2 follows "
    "automatically (profit_month_close_monthly).",
)
def profit_month_close_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    return month_close_request(newest_closed_month(context.scheduled_execution_time))


@dg.run_status_sensor(
    name="profit_month_close_monthly",
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[profit_daily_facts_job],
    request_job=profit_monthly_job,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Month close, step 2: when a month-close daily-facts run succeeds, materialize "
    "the monthly profit assets (and the reconciliation) for that month.",
)
def profit_month_close_monthly(
    context: dg.RunStatusSensorContext,
) -> dg.RunRequest | dg.SkipReason:
    month = context.dagster_run.tags.get(CLOSE_MONTH_TAG)
    if not month:
        return dg.SkipReason("not a month-close run (no profit close tag)")
    return dg.RunRequest(
        run_key=f"profit-close-monthly-{month}-{context.dagster_run.run_id}",
        partition_key=month,
        tags={CLOSE_MONTH_TAG: month},
    )


profit_sla_check_schedule = dg.ScheduleDefinition(
    name="profit_sla_check_schedule",
    cron_schedule="30 9 3-31 * *",
    execution_timezone="UTC",
    job=profit_sla_check_job,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="From the review deadline (3rd, 09:00 UTC) to month end, daily: is the closed "
    "month of unit_profit there and complete?",
)
