-- The company's engagement per day (the pack's engagement trend chart): hours and active users
-- from engagement_hours, daily active licensed users from user_engagement_daily (one row per
-- user and day, so a count per day; no segment join needed for the company series).
WITH hours AS (
    SELECT p.period_start, e.date,
           SUM(e.total_hours) AS total_hours,
           SUM(e.active_users) AS active_users
    FROM engagement_hours AS e
    JOIN periods AS p
      ON e.date >= p.period_start AND e.date < p.period_end
    GROUP BY p.period_start, e.date
),
dau AS (
    SELECT p.period_start, u.date, COUNT(*) AS daily_active_licensed_users
    FROM user_daily AS u
    JOIN periods AS p
      ON u.date >= p.period_start AND u.date < p.period_end
    WHERE u.licensed AND u.events > 0
    GROUP BY p.period_start, u.date
)
SELECT
    COALESCE(h.period_start, d.period_start) AS period_start,
    COALESCE(h.date, d.date) AS date,
    h.total_hours,
    h.active_users,
    d.daily_active_licensed_users
FROM hours AS h
FULL OUTER JOIN dau AS d
  ON h.period_start = d.period_start AND h.date = d.date
