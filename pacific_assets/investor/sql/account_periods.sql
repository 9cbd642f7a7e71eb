-- One row per (period, account): contracted MRR at the start and at the end of the period, and
-- the MRR movements inside it, from day-over-day changes of the end-of-day status (§3b).
-- "Start" is the end of the day before the period; an account with no row that day starts at 0.
-- Only paying statuses carry MRR (is_paying from account_status_daily).
WITH day_mrr AS (
    SELECT
        p.period_start,
        p.period_end,
        s.account_id,
        s.date,
        s.status,
        COALESCE(s.is_paying, FALSE) AS is_paying,
        CASE WHEN s.is_paying THEN GREATEST(COALESCE(s.mrr_usd, 0D), 0D) ELSE 0D END AS mrr
    FROM status_daily AS s
    JOIN periods AS p
      ON s.date >= date_sub(p.period_start, 1) AND s.date < p.period_end
),
changes AS (
    SELECT
        *,
        COALESCE(LAG(mrr) OVER w, 0D) AS prev_mrr,
        LAG(status) OVER w AS prev_status,
        date >= period_start AS in_period
    FROM day_mrr
    WINDOW w AS (PARTITION BY period_start, account_id ORDER BY date)
)
SELECT
    period_start,
    account_id,
    SUM(CASE WHEN date = date_sub(period_start, 1) THEN mrr ELSE 0D END) AS start_mrr,
    BOOL_OR(date = date_sub(period_start, 1) AND is_paying) AS start_paying,
    SUM(CASE WHEN date = date_sub(period_end, 1) THEN mrr ELSE 0D END) AS end_mrr,
    BOOL_OR(date = date_sub(period_end, 1) AND is_paying) AS end_paying,
    -- not paying -> paying: new, or reactivation when the account was churned the day before
    SUM(CASE WHEN in_period AND prev_mrr = 0 AND mrr > 0
              AND COALESCE(prev_status, '') <> 'churned' THEN mrr ELSE 0D END) AS new_mrr,
    SUM(CASE WHEN in_period AND prev_mrr = 0 AND mrr > 0
              AND prev_status = 'churned' THEN mrr ELSE 0D END) AS reactivation_mrr,
    SUM(CASE WHEN in_period AND prev_mrr > 0 AND mrr > prev_mrr
             THEN mrr - prev_mrr ELSE 0D END) AS expansion_mrr,
    SUM(CASE WHEN in_period AND prev_mrr > 0 AND mrr > 0 AND mrr < prev_mrr
             THEN prev_mrr - mrr ELSE 0D END) AS contraction_mrr,
    SUM(CASE WHEN in_period AND prev_mrr > 0 AND mrr = 0 THEN prev_mrr ELSE 0D END) AS churned_mrr
FROM changes
GROUP BY period_start, account_id
