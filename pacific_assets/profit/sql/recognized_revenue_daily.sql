-- Recognized (accrual) revenue per account per day, for the days in [$start, $end).
-- Each recognized line contributes its daily rate (amount / days in the period) to every day of
-- its half-open service period. Refund lines carry a negative amount over the original line's
-- remaining days, so they reduce those days; void lines are not recognized at all.
WITH days AS (
    SELECT CAST(d AS DATE) AS date
    FROM generate_series(
        CAST($start AS TIMESTAMP), CAST($end AS TIMESTAMP) - INTERVAL 1 DAY, INTERVAL 1 DAY
    ) AS t(d)
)
SELECT
    days.date,
    lines.account_id,
    sum(lines.daily_rate_usd) AS recognized_revenue_usd,
    count(*) AS invoice_lines,
    count(*) FILTER (WHERE lines.amount_usd < 0) AS refund_lines
FROM days
JOIN invoice_lines_current AS lines
    ON days.date >= lines.service_start AND days.date < lines.service_end
WHERE lines.is_recognized
GROUP BY days.date, lines.account_id
ORDER BY days.date, lines.account_id
