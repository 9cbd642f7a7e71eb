-- The books of each month in profit_months, summed from the daily facts and the expense lines.
SELECT
    m.month_start,
    coalesce((
        SELECT sum(c.cash_collected_usd) FROM cash_collected_daily AS c
        WHERE c.date >= m.month_start AND c.date < m.month_end
    ), 0.0) AS cash_collected_usd,
    coalesce((
        SELECT sum(r.recognized_revenue_usd) FROM recognized_revenue_daily AS r
        WHERE r.date >= m.month_start AND r.date < m.month_end
    ), 0.0) AS recognized_revenue_usd,
    coalesce(sum(e.amount_usd) FILTER (WHERE e.expense_type = 'opex'), 0.0) AS opex_usd,
    coalesce(sum(e.amount_usd) FILTER (WHERE e.expense_type = 'capex_amortization'), 0.0)
        AS capex_amortization_usd,
    coalesce(sum(e.amount_usd) FILTER (WHERE e.expense_type = 'salaries'), 0.0) AS salaries_usd,
    -- Direct: ops cost attributed to one account; shared: everything else (incl. salaries).
    coalesce(sum(e.amount_usd) FILTER (WHERE e.account_id IS NOT NULL), 0.0) AS direct_cost_usd,
    coalesce(sum(e.amount_usd) FILTER (WHERE e.account_id IS NULL), 0.0) AS shared_cost_usd
FROM profit_months AS m
LEFT JOIN profit_expenses AS e ON e.month_start = m.month_start
GROUP BY m.month_start, m.month_end
ORDER BY m.month_start
