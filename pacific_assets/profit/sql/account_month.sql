-- One row per (month, account) for the months in profit_months: every account that was paying on
-- some day of the month, had recognized revenue, carried a direct cost, or (usage driver) used
-- the product. The facts both unit_profit and account_unit_economics are built from.
WITH status AS (
    SELECT
        m.month_start,
        s.account_id,
        count(*) FILTER (WHERE s.is_paying) AS paying_days,
        coalesce(sum(s.seats) FILTER (WHERE s.is_paying), 0) AS paying_seat_days,
        coalesce(bool_or(s.is_paying AND s.date = m.last_day), false) AS paying_at_month_end,
        max(s.seats) FILTER (WHERE s.is_paying AND s.date = m.last_day) AS seats_at_month_end
    FROM profit_months AS m
    JOIN account_status_daily AS s ON s.date >= m.month_start AND s.date < m.month_end
    GROUP BY m.month_start, s.account_id
),
revenue AS (
    SELECT
        m.month_start,
        r.account_id,
        sum(r.recognized_revenue_usd) AS recognized_revenue_usd,
        count(DISTINCT r.date) AS invoiced_days
    FROM profit_months AS m
    JOIN recognized_revenue_daily AS r ON r.date >= m.month_start AND r.date < m.month_end
    GROUP BY m.month_start, r.account_id
),
-- Paying days no invoice line covers: a subscription that was not billed. The estimate values
-- those days at the contracted MRR's daily rate (MRR x 12 / 365), for the accountant only.
uninvoiced AS (
    SELECT
        m.month_start,
        s.account_id,
        count(*) AS uninvoiced_paying_days,
        sum(coalesce(s.mrr_usd, 0.0) * 12 / 365.0) AS estimated_unbilled_revenue_usd
    FROM profit_months AS m
    JOIN account_status_daily AS s ON s.date >= m.month_start AND s.date < m.month_end
    WHERE s.is_paying
      AND NOT EXISTS (
          SELECT 1 FROM recognized_revenue_daily AS r
          WHERE r.date = s.date AND r.account_id = s.account_id
      )
    GROUP BY m.month_start, s.account_id
),
direct AS (
    SELECT month_start, account_id, sum(amount_usd) AS direct_cost_usd
    FROM profit_expenses
    WHERE account_id IS NOT NULL
    GROUP BY month_start, account_id
),
usage AS (
    SELECT m.month_start, e.account_id, sum(e.total_hours) AS usage_hours
    FROM profit_months AS m
    JOIN engagement_hours AS e ON e.date >= m.month_start AND e.date < m.month_end
    GROUP BY m.month_start, e.account_id
),
accounts AS (
    SELECT month_start, account_id FROM status WHERE paying_days > 0
    UNION
    SELECT month_start, account_id FROM revenue
    UNION
    SELECT month_start, account_id FROM direct
    UNION
    SELECT month_start, account_id FROM usage WHERE usage_hours > 0
)
SELECT
    a.month_start,
    a.account_id,
    coalesce(status.paying_days, 0) AS paying_days,
    coalesce(status.paying_seat_days, 0) AS paying_seat_days,
    coalesce(status.paying_at_month_end, false) AS paying_at_month_end,
    status.seats_at_month_end,
    coalesce(revenue.recognized_revenue_usd, 0.0) AS recognized_revenue_usd,
    coalesce(revenue.invoiced_days, 0) AS invoiced_days,
    coalesce(uninvoiced.uninvoiced_paying_days, 0) AS uninvoiced_paying_days,
    coalesce(uninvoiced.estimated_unbilled_revenue_usd, 0.0) AS estimated_unbilled_revenue_usd,
    coalesce(direct.direct_cost_usd, 0.0) AS direct_cost_usd,
    coalesce(usage.usage_hours, 0.0) AS usage_hours
FROM accounts AS a
LEFT JOIN status USING (month_start, account_id)
LEFT JOIN revenue USING (month_start, account_id)
LEFT JOIN uninvoiced USING (month_start, account_id)
LEFT JOIN direct USING (month_start, account_id)
LEFT JOIN usage USING (month_start, account_id)
ORDER BY a.month_start, a.account_id
