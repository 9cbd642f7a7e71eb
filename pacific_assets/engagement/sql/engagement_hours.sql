-- Per account (and optionally team) and day, from user_engagement_daily + the licensed users.
-- Reads view user_days_in (user_engagement_daily of the range) and table licensed_user_days.
-- Placeholder keys is "account_id" or "account_id, team"; join_a/join_l match them null-safely.
-- Licensed users count even on a day without any activity. Hours are summed as integer
-- microseconds (hours x 3.6e9 is exact up to rounding), so the result never depends on order.
CREATE OR REPLACE TEMP TABLE hours_range AS
WITH activity AS (
    SELECT
        date,
        {keys},
        count(*) AS active_users,
        count(*) FILTER (WHERE licensed) AS active_licensed_users,
        sum(sessions) AS sessions,
        sum(CAST(round(hours * 3600e6) AS BIGINT)) AS active_us,
        sum(events) AS events,
        sum(late_events) AS late_events
    FROM user_days_in
    WHERE date BETWEEN $start AND $end
    GROUP BY ALL
),
licensed AS (
    SELECT date, {keys}, count(*) AS licensed_users
    FROM licensed_user_days
    GROUP BY ALL
),
all_keys AS (
    SELECT date, {keys} FROM activity
    UNION
    SELECT date, {keys} FROM licensed
)
SELECT
    k.*,
    coalesce(l.licensed_users, 0) AS licensed_users,
    coalesce(a.active_users, 0) AS active_users,
    coalesce(a.active_licensed_users, 0) AS active_licensed_users,
    coalesce(a.sessions, 0) AS sessions,
    coalesce(CAST(a.active_us AS DOUBLE) / 3600e6, 0.0) AS total_hours,
    coalesce(a.events, 0) AS events,
    coalesce(a.late_events, 0) AS late_events
FROM all_keys AS k
LEFT JOIN activity AS a ON {join_a}
LEFT JOIN licensed AS l ON {join_l}
ORDER BY k.date
