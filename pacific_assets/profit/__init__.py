"""Profit pipeline (DESIGN §3, §3b; docs/profit.md): revenue facts, expenses, unit profit,
per-account unit economics and the reconciliation with the accountant's filings.

Owners, freshness and the runbook are attached by group ("profit") in operations/policies.py.
"""

import dagster as dg

from pacific_assets.profit.checks import newest_closed_month_present
from pacific_assets.profit.expenses import profit_expenses
from pacific_assets.profit.reconciliation import profit_reconciliation
from pacific_assets.profit.revenue import (
    cash_collected_daily,
    invoice_lines_current,
    recognized_revenue_daily,
)
from pacific_assets.profit.schedules import (
    profit_daily_facts_job,
    profit_daily_facts_schedule,
    profit_month_close_schedule,
    profit_monthly_job,
    profit_sla_check_job,
    profit_sla_check_schedule,
)
from pacific_assets.profit.settings import ProfitSettings
from pacific_assets.profit.unit_economics import account_unit_economics
from pacific_assets.profit.unit_profit import unit_profit

PROFIT_ASSETS = [
    invoice_lines_current,
    recognized_revenue_daily,
    cash_collected_daily,
    profit_expenses,
    unit_profit,
    account_unit_economics,
    profit_reconciliation,
]

defs = dg.Definitions(
    assets=PROFIT_ASSETS,
    asset_checks=[newest_closed_month_present],
    jobs=[profit_daily_facts_job, profit_monthly_job, profit_sla_check_job],
    schedules=[profit_daily_facts_schedule, profit_month_close_schedule, profit_sla_check_schedule],
    resources={"profit_settings": ProfitSettings()},
)
