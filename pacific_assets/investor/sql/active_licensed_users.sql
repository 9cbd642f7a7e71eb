-- Active licensed user-days: one row per (period, day, user) with at least one event that day,
-- for users licensed that day (docs/semantic-contract.md: DAU/MAU counts licensed users).
-- user_engagement_daily holds one row per user and day, so no DISTINCT (a full shuffle of the
-- largest input) is needed. Registered as the view active_licensed_users; the per-segment and
-- per-day queries read it.
SELECT /*+ BROADCAST(d) */
    p.period_start,
    u.date,
    u.user_id,
    COALESCE(d.segment, 'unknown') AS segment
FROM user_daily AS u
JOIN periods AS p
  ON u.date >= p.period_start AND u.date < p.period_end
LEFT JOIN segments AS d
  ON d.period_start = p.period_start AND d.account_id = u.account_id
WHERE u.licensed AND u.events > 0
