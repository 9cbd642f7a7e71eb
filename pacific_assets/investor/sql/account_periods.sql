-- One row per (period, account): contracted MRR at the start and at the end of the period and the
-- MRR movements inside it, from the growth pipeline's daily account facts (account_status_daily:
-- end-of-day status plus that day's movements against the day before, ChartMogul/Stripe style).
-- Only paying statuses carry MRR. The opening balance is the account's first in-period day with
-- that day's movement undone, so no day outside the period is needed (not even for the first
-- period of the grid, whose day before is not a partition). The closing balance is read on the
-- period's last day, or on the last day due (yesterday) while the period is still open.
WITH facts AS (
    SELECT
        p.period_start,
        p.last_day,
        s.account_id,
        s.date,
        COALESCE(s.is_paying, FALSE) AS is_paying,
        CASE WHEN s.is_paying THEN COALESCE(s.mrr_usd, 0D) ELSE 0D END AS mrr,
        COALESCE(s.new_mrr_usd, 0D) AS new_mrr,
        COALESCE(s.reactivation_mrr_usd, 0D) AS reactivation_mrr,
        COALESCE(s.expansion_mrr_usd, 0D) AS expansion_mrr,
        COALESCE(s.contraction_mrr_usd, 0D) AS contraction_mrr,
        COALESCE(s.churned_mrr_usd, 0D) AS churned_mrr,
        -- paying at the end of the day before: paying today unless it (re)started today, or it
        -- churned today
        (COALESCE(s.is_paying, FALSE)
            AND NOT COALESCE(s.new_account, FALSE)
            AND NOT COALESCE(s.reactivated_account, FALSE))
            OR COALESCE(s.churned_account, FALSE) AS was_paying,
        ROW_NUMBER() OVER (PARTITION BY p.period_start, s.account_id ORDER BY s.date) AS day_no
    FROM status_daily AS s
    JOIN periods AS p
      ON s.date >= p.period_start AND s.date < p.period_end
)
SELECT
    period_start,
    account_id,
    GREATEST(
        SUM(CASE WHEN day_no = 1
                 THEN mrr - new_mrr - reactivation_mrr - expansion_mrr + contraction_mrr + churned_mrr
                 ELSE 0D END),
        0D
    ) AS start_mrr,
    BOOL_OR(day_no = 1 AND was_paying) AS start_paying,
    SUM(CASE WHEN date = last_day THEN mrr ELSE 0D END) AS end_mrr,
    BOOL_OR(date = last_day AND is_paying) AS end_paying,
    SUM(new_mrr) AS new_mrr,
    SUM(reactivation_mrr) AS reactivation_mrr,
    SUM(expansion_mrr) AS expansion_mrr,
    SUM(contraction_mrr) AS contraction_mrr,
    SUM(churned_mrr) AS churned_mrr
FROM facts
GROUP BY period_start, account_id
