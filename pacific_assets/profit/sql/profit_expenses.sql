-- The expense lines that make up each month in profit_months:
--   opex                the month's non-capex ops spend, expensed in its month;
--   capex_amortization  every capex purchase from the last $capex_life_months months, straight
--                       line: amount / life in each month from the purchase month on;
--   salaries            the month's salary cost per team (HR exports team aggregates only).
-- The accounting month is the row's `month` column (YYYY-MM); the landing month is the fallback.
-- A row exported twice (same expense_id, or same month and team) counts once, newest version.
WITH ops AS (
    SELECT
        * REPLACE (nullif(trim(account_id), '') AS account_id),
        coalesce(CAST(try_strptime(month, '%Y-%m') AS DATE), month_start) AS expense_month
    FROM (
        SELECT
            *,
            row_number() OVER (
                PARTITION BY expense_id
                ORDER BY month_start DESC, _source_file DESC, _row_number DESC
            ) AS newest_first
        FROM stg_ops_expenses
    )
    WHERE newest_first = 1
),
salaries AS (
    SELECT
        *,
        coalesce(CAST(try_strptime(month, '%Y-%m') AS DATE), month_start) AS salary_month
    FROM (
        SELECT
            *,
            row_number() OVER (
                PARTITION BY coalesce(month, CAST(month_start AS VARCHAR)), team
                ORDER BY month_start DESC, _source_file DESC, _row_number DESC
            ) AS newest_first
        FROM stg_salaries
    )
    WHERE newest_first = 1
)
SELECT
    m.month_start,
    'opex' AS expense_type,
    ops.category,
    ops.account_id,
    ops.expense_id,
    ops.vendor,
    ops.amount_usd,
    ops.expense_month AS incurred_month,
    ops.amount_usd AS original_amount_usd,
    CAST(NULL AS BIGINT) AS amortization_months,
    CAST(NULL AS BIGINT) AS headcount
FROM profit_months AS m
JOIN ops ON ops.expense_month = m.month_start AND NOT ops.capex

UNION ALL

SELECT
    m.month_start,
    'capex_amortization' AS expense_type,
    ops.category,
    ops.account_id,
    ops.expense_id,
    ops.vendor,
    ops.amount_usd / $capex_life_months AS amount_usd,
    ops.expense_month AS incurred_month,
    ops.amount_usd AS original_amount_usd,
    CAST($capex_life_months AS BIGINT) AS amortization_months,
    CAST(NULL AS BIGINT) AS headcount
FROM profit_months AS m
JOIN ops
    ON ops.capex
    AND m.month_start >= ops.expense_month
    AND m.month_start < CAST(ops.expense_month + to_months(CAST($capex_life_months AS INTEGER)) AS DATE)

UNION ALL

SELECT
    m.month_start,
    'salaries' AS expense_type,
    s.team AS category,
    CAST(NULL AS VARCHAR) AS account_id,
    CAST(NULL AS VARCHAR) AS expense_id,
    CAST(NULL AS VARCHAR) AS vendor,
    s.salary_cost_usd AS amount_usd,
    s.salary_month AS incurred_month,
    s.salary_cost_usd AS original_amount_usd,
    CAST(NULL AS BIGINT) AS amortization_months,
    s.headcount
FROM profit_months AS m
JOIN salaries AS s ON s.salary_month = m.month_start

ORDER BY month_start, expense_type, category, expense_id
