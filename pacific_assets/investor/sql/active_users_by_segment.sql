-- Distinct active licensed users over the period (MAU / WAU) and the sum over days of daily
-- active licensed users (÷ days observed = average DAU), per period and segment, plus the
-- company ('all': a distinct count, exact even for a user seen in two segments). Reads the
-- view active_users_per_user (one row per period, segment and user).
SELECT
    period_start,
    segment,
    COUNT(*) AS active_users,
    SUM(active_days) AS licensed_active_user_days
FROM active_users_per_user
GROUP BY period_start, segment
UNION ALL
SELECT
    period_start,
    'all' AS segment,
    COUNT(DISTINCT user_id) AS active_users,
    SUM(active_days) AS licensed_active_user_days
FROM active_users_per_user
GROUP BY period_start
