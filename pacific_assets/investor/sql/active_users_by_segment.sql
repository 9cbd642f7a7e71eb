-- Distinct active licensed users over the period (MAU / WAU) and the sum over days of daily
-- active licensed users (÷ days observed = average DAU), per period and segment, plus the
-- company ('all'). First reduced to one row per (period, segment, user): at most one row per
-- user, whatever the click volume, so the distinct count for 'all' is cheap.
WITH per_user AS (
    SELECT period_start, segment, user_id, COUNT(*) AS active_days
    FROM active_licensed_users
    GROUP BY period_start, segment, user_id
)
SELECT
    period_start,
    segment,
    COUNT(*) AS active_users,
    SUM(active_days) AS licensed_active_user_days
FROM per_user
GROUP BY period_start, segment
UNION ALL
SELECT
    period_start,
    'all' AS segment,
    COUNT(DISTINCT user_id) AS active_users,
    SUM(active_days) AS licensed_active_user_days
FROM per_user
GROUP BY period_start
