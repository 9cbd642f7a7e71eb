-- Daily account facts for every day in [$start, $end]:
--   * the status at the end of each UTC day, for every account that exists
--     (docs/semantic-contract.md: Subscriber), and
--   * the day's movements: each lifecycle step compared with the step before it (ChartMogul /
--     Stripe count every change, so a sign-up and a churn on the same day are both counted).
-- Reads the table `history` (account_status_history, loaded by the asset). Every day is
-- computed from the history alone, so any range can be rebuilt in one pass and in any order.
WITH days AS (
    SELECT
        CAST(d AS DATE) AS date,
        -- the instant the day ends: the next midnight, UTC
        CAST(CAST(d AS DATE) + 1 AS TIMESTAMP) AT TIME ZONE 'UTC' AS day_end
    FROM range(CAST($start AS DATE), CAST($end AS DATE) + 1, INTERVAL 1 DAY) AS t(d)
),

-- Steps that last: imputed steps (and events at the same instant) have valid_to = valid_from
-- and never hold at the end of a day.
end_of_day AS (
    SELECT
        days.date,
        h.account_id,
        h.status,
        h.plan,
        h.seats,
        h.mrr_usd,
        h.contract_end,
        h.is_paying
    FROM days
    JOIN history AS h
      ON h.valid_from < days.day_end
     AND (h.valid_to IS NULL OR h.valid_to >= days.day_end)
     AND (h.valid_to IS NULL OR h.valid_to > h.valid_from)
),

-- Every step (imputed ones included) next to the step before it.
steps AS (
    SELECT
        account_id,
        CAST(valid_from AT TIME ZONE 'UTC' AS DATE) AS date,
        event_type,
        imputed,
        imputed_evidence,
        renewal_expansion_usd,
        is_paying,
        mrr_usd,
        seats,
        COALESCE(LAG(is_paying) OVER w, FALSE) AS was_paying,
        COALESCE(LAG(ever_paid) OVER w, FALSE) AS had_paid,
        COALESCE(LAG(mrr_usd) OVER w, 0) AS mrr_before,
        COALESCE(LAG(seats) OVER w, 0) AS seats_before
    FROM history
    WINDOW w AS (PARTITION BY account_id ORDER BY step)
),

moves AS (
    SELECT
        account_id,
        date,
        BOOL_OR(NOT was_paying AND is_paying AND NOT had_paid) AS new_account,
        BOOL_OR(NOT was_paying AND is_paying AND had_paid) AS reactivated_account,
        BOOL_OR(was_paying AND NOT is_paying) AS churned_account,
        BOOL_OR(event_type = 'renewed') AS renewed_account,
        -- seats: changes on an account that pays before and after the step
        SUM(CASE WHEN was_paying AND is_paying AND seats > seats_before
                 THEN seats - seats_before ELSE 0 END) AS seats_added,
        SUM(CASE WHEN was_paying AND is_paying AND seats < seats_before
                 THEN seats_before - seats ELSE 0 END) AS seats_removed,
        -- MRR movements, all as positive amounts
        SUM(CASE WHEN NOT was_paying AND is_paying AND NOT had_paid
                 THEN mrr_usd ELSE 0 END) AS new_mrr_usd,
        SUM(CASE WHEN was_paying AND is_paying AND mrr_usd > mrr_before
                 THEN mrr_usd - mrr_before ELSE 0 END) AS expansion_mrr_usd,
        SUM(CASE WHEN was_paying AND is_paying AND mrr_usd < mrr_before
                 THEN mrr_before - mrr_usd ELSE 0 END) AS contraction_mrr_usd,
        -- a cancellation is churn only when no subscription remains: paying -> not paying
        SUM(CASE WHEN was_paying AND NOT is_paying THEN mrr_before ELSE 0 END) AS churned_mrr_usd,
        SUM(CASE WHEN NOT was_paying AND is_paying AND had_paid
                 THEN mrr_usd ELSE 0 END) AS reactivation_mrr_usd,
        SUM(COALESCE(renewal_expansion_usd, 0)) AS renewal_expansion_usd,
        COUNT(*) FILTER (WHERE imputed) AS imputed_steps,
        STRING_AGG(DISTINCT imputed_evidence, ' | ' ORDER BY imputed_evidence)
            FILTER (WHERE imputed) AS imputed_evidence
    FROM steps
    WHERE date BETWEEN CAST($start AS DATE) AND CAST($end AS DATE)
    GROUP BY account_id, date
)

SELECT
    f.date,
    f.account_id,
    f.status,
    f.plan,
    f.seats,
    f.mrr_usd,
    f.contract_end,
    f.is_paying,
    COALESCE(m.imputed_steps, 0) > 0 AS imputed,
    COALESCE(m.imputed_steps, 0) AS imputed_steps,
    m.imputed_evidence,
    COALESCE(m.new_account, FALSE) AS new_account,
    COALESCE(m.reactivated_account, FALSE) AS reactivated_account,
    COALESCE(m.churned_account, FALSE) AS churned_account,
    COALESCE(m.renewed_account, FALSE) AS renewed_account,
    COALESCE(m.seats_added, 0) AS seats_added,
    COALESCE(m.seats_removed, 0) AS seats_removed,
    COALESCE(m.new_mrr_usd, 0) AS new_mrr_usd,
    COALESCE(m.expansion_mrr_usd, 0) AS expansion_mrr_usd,
    COALESCE(m.contraction_mrr_usd, 0) AS contraction_mrr_usd,
    COALESCE(m.churned_mrr_usd, 0) AS churned_mrr_usd,
    COALESCE(m.reactivation_mrr_usd, 0) AS reactivation_mrr_usd,
    -- about to renew (docs/semantic-contract.md): paying, and the contract ends within the next 90
    -- days
    f.is_paying AND f.contract_end IS NOT NULL
        AND f.contract_end - f.date BETWEEN 1 AND $window_days AS is_renewing,
    COALESCE(m.renewal_expansion_usd, 0) AS renewal_expansion_usd
FROM end_of_day AS f
LEFT JOIN moves AS m USING (account_id, date)
ORDER BY f.date, f.account_id
