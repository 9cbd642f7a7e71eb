"""When the profit assets run: the daily facts every night, the closed month on the 2nd.

- ``profit_daily_facts_schedule`` (every day, 02:00 UTC — after staging at 01:00): the latest
  state of every invoice line, then yesterday's recognized revenue and cash per account.
- ``profit_month_close_schedule`` (the 2nd, 04:00 UTC): ``profit_expenses``, ``unit_profit``,
  ``account_unit_economics`` and ``profit_reconciliation`` for the month that just closed, ready
  before the review deadline (3rd, 09:00 UTC).
- ``profit_late_billing`` (sensor): a late export, a void, a refund or a corrected export changes
  the current state of some invoice lines; the days those lines touch (their service period for
  revenue, the payment day for cash) become stale and are rebuilt, then the months holding them
  (a closed month is re-closed, and its reconciliation with the filing re-done). When the
  accountant's filing lands, the month's reconciliation is redone.

Whether the closed month is in and complete by the deadline is checked by the central
``newest_expected_partition`` check (operations, run by ``sla_checks_sensor`` when its verdict changes), not by a profit
schedule.
"""

from pacific_assets.orchestration import cadence_schedule, keeper_sensor

DAILY_FACTS = ["invoice_lines_current", "recognized_revenue_daily", "cash_collected_daily"]
MONTH_CLOSE = ["profit_expenses", "unit_profit", "account_unit_economics", "profit_reconciliation"]

profit_daily_facts_schedule = cadence_schedule(
    "profit_daily_facts_schedule",
    DAILY_FACTS,
    "0 2 * * *",
    "Nightly 02:00 UTC: the latest state of the books, then yesterday's recognized revenue and "
    "cash per account (and any earlier day the books changed).",
)
profit_month_close_schedule = cadence_schedule(
    "profit_month_close_schedule",
    MONTH_CLOSE,
    "0 4 2 * *",
    "Month close (the 2nd, 04:00 UTC): the closed month's expenses, unit profit, per-account "
    "unit economics and reconciliation with the filing.",
)
profit_late_billing = keeper_sensor(
    "profit_late_billing",
    DAILY_FACTS + MONTH_CLOSE,
    "Late, voided, refunded or corrected invoice lines, late ops/HR files and filings: rebuilds "
    "exactly the days and months whose inputs changed, daily facts before months.",
    minimum_interval_seconds=120,
)

SCHEDULES = [profit_daily_facts_schedule, profit_month_close_schedule]
SENSORS = [profit_late_billing]
