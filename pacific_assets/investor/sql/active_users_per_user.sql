-- One row per (period, segment, user) with the user's active days in the period: the largest
-- input reduced once, whatever the click volume (at most one row per user). Materialized
-- (memory and disk) because both the per-segment and the company counts read it.
SELECT period_start, segment, user_id, COUNT(*) AS active_days
FROM active_licensed_users
GROUP BY period_start, segment, user_id
