-- Growth measures per period (week or month) from the daily account facts. Reads the relations
-- `periods` (period_start, period_end exclusive) and `daily` (account_status_daily rows
-- for every day of those periods). Flows are sums of daily movements; "imputed" counts distinct
-- accounts over the period; stocks (renewing, paying, MRR) are read on the period's last day.
SELECT
    p.period_start,
    COUNT(*) FILTER (WHERE d.new_account) AS new_accounts,
    COUNT(*) FILTER (WHERE d.churned_account) AS churned_accounts,
    COUNT(*) FILTER (WHERE d.renewed_account) AS renewed_accounts,
    COUNT(*) FILTER (WHERE d.reactivated_account) AS reactivated_accounts,
    COALESCE(SUM(d.seats_added), 0) AS seats_added,
    COALESCE(SUM(d.seats_removed), 0) AS seats_removed,
    ROUND(COALESCE(SUM(d.new_mrr_usd), 0), 2) AS new_mrr_usd,
    ROUND(COALESCE(SUM(d.expansion_mrr_usd), 0), 2) AS expansion_mrr_usd,
    ROUND(COALESCE(SUM(d.contraction_mrr_usd), 0), 2) AS contraction_mrr_usd,
    ROUND(COALESCE(SUM(d.churned_mrr_usd), 0), 2) AS churned_mrr_usd,
    ROUND(COALESCE(SUM(d.reactivation_mrr_usd), 0), 2) AS reactivation_mrr_usd,
    COUNT(*) FILTER (WHERE d.date = p.period_end - 1 AND d.is_renewing) AS renewing_accounts,
    ROUND(COALESCE(SUM(d.renewal_expansion_usd), 0), 2) AS renewal_expansion_usd,
    COUNT(DISTINCT d.account_id) FILTER (WHERE d.imputed) AS imputed_accounts,
    COUNT(*) FILTER (WHERE d.date = p.period_end - 1 AND d.is_paying) AS paying_accounts_end,
    ROUND(COALESCE(SUM(d.mrr_usd) FILTER (WHERE d.date = p.period_end - 1 AND d.is_paying), 0), 2)
        AS mrr_end_usd
FROM periods AS p
LEFT JOIN daily AS d
  ON d.date >= p.period_start AND d.date < p.period_end
GROUP BY p.period_start
ORDER BY p.period_start
