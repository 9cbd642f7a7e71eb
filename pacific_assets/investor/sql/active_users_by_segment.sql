-- Distinct active licensed users over the period (MAU / WAU) and the sum over days of daily
-- distinct active licensed users (÷ days in period = average DAU), per period and segment.
WITH period_users AS (
    SELECT
        period_start,
        CASE WHEN GROUPING(segment) = 1 THEN 'all' ELSE segment END AS segment,
        COUNT(DISTINCT user_id) AS active_users
    FROM active_licensed_users
    GROUP BY GROUPING SETS ((period_start, segment), (period_start))
),
user_days AS (
    -- a user belongs to one account, so user-day rows are already distinct per day
    SELECT
        period_start,
        CASE WHEN GROUPING(segment) = 1 THEN 'all' ELSE segment END AS segment,
        COUNT(*) AS licensed_active_user_days
    FROM active_licensed_users
    GROUP BY GROUPING SETS ((period_start, segment), (period_start))
)
SELECT period_start, segment, u.active_users, d.licensed_active_user_days
FROM period_users AS u
JOIN user_days AS d USING (period_start, segment)
