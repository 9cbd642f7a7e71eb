-- Hours, sessions and events per period and segment from the per-account daily engagement.
WITH facts AS (
    SELECT /*+ BROADCAST(d) */
        p.period_start,
        COALESCE(d.segment, 'unknown') AS segment,
        e.total_hours,
        e.active_users,
        e.sessions,
        e.events,
        e.late_events
    FROM engagement_hours AS e
    JOIN periods AS p
      ON e.date >= p.period_start AND e.date < p.period_end
    LEFT JOIN segments AS d
      ON d.period_start = p.period_start AND d.account_id = e.account_id
)
SELECT
    period_start,
    CASE WHEN GROUPING(segment) = 1 THEN 'all' ELSE segment END AS segment,
    SUM(total_hours) AS total_hours,
    SUM(active_users) AS active_user_days,
    SUM(sessions) AS sessions,
    SUM(events) AS events,
    SUM(late_events) AS late_events
FROM facts
GROUP BY GROUPING SETS ((period_start, segment), (period_start))
