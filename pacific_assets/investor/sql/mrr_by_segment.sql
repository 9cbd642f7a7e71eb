-- MRR level, movements and the retention cohort (accounts paying at period start) per period
-- and segment; the grouping set without segment is the company total ('all').
WITH facts AS (
    SELECT /*+ BROADCAST(d) */
        a.*,
        COALESCE(d.segment, 'unknown') AS segment
    FROM account_periods AS a
    LEFT JOIN segments AS d
      ON d.period_start = a.period_start AND d.account_id = a.account_id
)
SELECT
    period_start,
    CASE WHEN GROUPING(segment) = 1 THEN 'all' ELSE segment END AS segment,
    SUM(end_mrr) AS mrr_usd,
    SUM(start_mrr) AS starting_mrr_usd,
    SUM(new_mrr) AS new_mrr_usd,
    SUM(expansion_mrr) AS expansion_mrr_usd,
    SUM(contraction_mrr) AS contraction_mrr_usd,
    SUM(churned_mrr) AS churned_mrr_usd,
    SUM(reactivation_mrr) AS reactivation_mrr_usd,
    SUM(end_mrr - start_mrr) AS net_new_mrr_usd,
    SUM(CASE WHEN start_paying THEN end_mrr ELSE 0D END) AS retained_mrr_usd,
    SUM(CASE WHEN start_paying THEN LEAST(end_mrr, start_mrr) ELSE 0D END) AS retained_capped_mrr_usd,
    SUM(CASE WHEN start_paying THEN start_mrr ELSE 0D END) AS cohort_starting_mrr_usd,
    COUNT_IF(start_paying) AS starting_paying_accounts,
    COUNT_IF(start_paying AND NOT end_paying) AS churned_paying_accounts,
    COUNT_IF(end_paying) AS paying_accounts
FROM facts
GROUP BY GROUPING SETS ((period_start, segment), (period_start))
