-- Recognized revenue, direct cost and contribution margin per period and segment, summed from
-- the per-account unit economics (company profit itself comes from unit_profit).
WITH facts AS (
    SELECT /*+ BROADCAST(d) */
        p.period_start,
        COALESCE(d.segment, 'unknown') AS segment,
        u.recognized_revenue_usd,
        u.direct_cost_usd,
        u.contribution_margin_usd
    FROM account_unit_economics AS u
    JOIN periods AS p
      ON u.month_start = p.period_start
    LEFT JOIN segments AS d
      ON d.period_start = p.period_start AND d.account_id = u.account_id
)
SELECT
    period_start,
    CASE WHEN GROUPING(segment) = 1 THEN 'all' ELSE segment END AS segment,
    SUM(recognized_revenue_usd) AS segment_recognized_revenue_usd,
    SUM(direct_cost_usd) AS direct_cost_usd,
    SUM(contribution_margin_usd) AS contribution_margin_usd
FROM facts
GROUP BY GROUPING SETS ((period_start, segment), (period_start))
