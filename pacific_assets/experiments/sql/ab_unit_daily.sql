-- ab_unit_daily for one chunk of days: engagement and revenue per unit and day, plus the
-- pre-period covariates (the 14 days before the assignment day).
-- Inputs: unit_days, pseudonyms, user_engagement_daily, recognized_revenue_daily,
--         stg_directory_users, engagement_days / revenue_days (days that upstream has a partition for).
-- Variables: range_end (DATE, exclusive).

-- Engagement per unit and day. A user unit is its own row of user_engagement_daily; an account
-- unit sums its users. Active = at least one event that day.
-- Floating-point sums are ordered aggregates (sum(x ORDER BY ...)): DuckDB adds in parallel, and
-- an unordered sum of doubles can differ in the last bit from run to run; ordered, a re-run of
-- a day reproduces every untouched value exactly.
CREATE OR REPLACE TEMP TABLE unit_engagement AS
SELECT
    date,
    'user' AS unit_type,
    user_id AS raw_unit_id,
    CAST(sum(events) > 0 AS BIGINT) AS active_users,
    CAST(sum(sessions) AS BIGINT) AS sessions,
    sum(hours ORDER BY account_id, hours) AS hours,
    CAST(sum(events) AS BIGINT) AS events,
    CAST(sum(late_events) AS BIGINT) AS late_events
FROM user_engagement_daily
WHERE user_id IN (SELECT raw_unit_id FROM unit_days WHERE unit_type = 'user')
GROUP BY date, user_id
UNION ALL
SELECT
    date,
    'account' AS unit_type,
    account_id AS raw_unit_id,
    count(DISTINCT user_id) FILTER (WHERE events > 0) AS active_users,
    CAST(sum(sessions) AS BIGINT) AS sessions,
    sum(hours ORDER BY user_id, hours) AS hours,
    CAST(sum(events) AS BIGINT) AS events,
    CAST(sum(late_events) AS BIGINT) AS late_events
FROM user_engagement_daily
WHERE account_id IN (SELECT raw_unit_id FROM unit_days WHERE unit_type = 'account')
GROUP BY date, account_id;

CREATE OR REPLACE TEMP TABLE account_revenue AS
SELECT
    date,
    account_id,
    sum(recognized_revenue_usd ORDER BY recognized_revenue_usd) AS recognized_revenue_usd
FROM recognized_revenue_daily
WHERE account_id IN (SELECT raw_unit_id FROM unit_days WHERE unit_type = 'account')
    AND date >= (SELECT min(assignment_date) - 14 FROM unit_days)
GROUP BY date, account_id;

-- The unit's metrics over the 14 days before its assignment day, over the days upstream has data
-- for (pre_period_days / pre_revenue_days say how many of the 14 that is).
CREATE OR REPLACE TEMP TABLE pre_period AS
WITH units AS (
    SELECT DISTINCT experiment_id, unit_type, raw_unit_id, assignment_date FROM unit_days
),
eng AS (
    SELECT
        u.experiment_id,
        u.raw_unit_id,
        count(*) AS pre_period_days,
        CAST(sum(coalesce(e.active_users, 0)) AS BIGINT) AS pre_active_users,
        CAST(sum(coalesce(e.sessions, 0)) AS BIGINT) AS pre_sessions,
        sum(coalesce(e.hours, 0.0) ORDER BY o.date) AS pre_hours,
        CAST(sum(coalesce(e.events, 0)) AS BIGINT) AS pre_events
    FROM units AS u
    JOIN engagement_days AS o
        ON o.date >= u.assignment_date - 14 AND o.date < u.assignment_date
    LEFT JOIN unit_engagement AS e
        ON e.unit_type = u.unit_type AND e.raw_unit_id = u.raw_unit_id AND e.date = o.date
    GROUP BY u.experiment_id, u.raw_unit_id
),
rev AS (
    SELECT
        u.experiment_id,
        u.raw_unit_id,
        count(*) AS pre_revenue_days,
        sum(coalesce(r.recognized_revenue_usd, 0.0) ORDER BY o.date) AS pre_recognized_revenue_usd
    FROM units AS u
    JOIN revenue_days AS o
        ON o.date >= u.assignment_date - 14 AND o.date < u.assignment_date
    LEFT JOIN account_revenue AS r ON r.account_id = u.raw_unit_id AND r.date = o.date
    WHERE u.unit_type = 'account'
    GROUP BY u.experiment_id, u.raw_unit_id
)
SELECT
    u.experiment_id,
    u.raw_unit_id,
    coalesce(eng.pre_period_days, 0) AS pre_period_days,
    eng.pre_active_users,
    eng.pre_sessions,
    eng.pre_hours,
    eng.pre_events,
    coalesce(rev.pre_revenue_days, 0) AS pre_revenue_days,
    rev.pre_recognized_revenue_usd
FROM units AS u
LEFT JOIN eng USING (experiment_id, raw_unit_id)
LEFT JOIN rev USING (experiment_id, raw_unit_id);

-- The user's account (latest directory row known by the range end), for user units.
CREATE OR REPLACE TEMP TABLE user_accounts AS
SELECT user_id, account_id
FROM stg_directory_users
WHERE export_date < getvariable('range_end')
    AND user_id IN (SELECT raw_unit_id FROM unit_days WHERE unit_type = 'user')
QUALIFY row_number() OVER (
    PARTITION BY user_id ORDER BY export_date DESC, _source_file DESC, _row_number DESC
) = 1;

CREATE OR REPLACE TEMP TABLE ab_unit_daily_chunk AS
SELECT
    ud.date,
    ud.experiment_id,
    ud.unit_type,
    CASE WHEN ud.unit_type = 'user' THEN ps.unit_pseudonym ELSE ud.raw_unit_id END AS unit_id,
    CASE WHEN ud.unit_type = 'user' THEN ua.account_id ELSE ud.raw_unit_id END AS account_id,
    ud.variant,
    ud.assigned_at,
    ud.assignment_date,
    CAST(ud.date - ud.assignment_date AS BIGINT) AS days_since_assignment,
    -- a day upstream has a partition for but no row for this unit = an inactive day (zeros)
    CASE WHEN eo.date IS NOT NULL THEN coalesce(e.active_users, 0) END AS active_users,
    CASE WHEN eo.date IS NOT NULL THEN coalesce(e.sessions, 0) END AS sessions,
    CASE WHEN eo.date IS NOT NULL THEN coalesce(e.hours, 0.0) END AS hours,
    CASE WHEN eo.date IS NOT NULL THEN coalesce(e.events, 0) END AS events,
    CASE WHEN eo.date IS NOT NULL THEN coalesce(e.late_events, 0) END AS late_events,
    CASE WHEN eo.date IS NULL THEN 'user_engagement_daily not materialized for this date' END
        AS engagement_null_reason,
    CASE
        WHEN ud.unit_type = 'account' AND ro.date IS NOT NULL
            THEN coalesce(r.recognized_revenue_usd, 0.0)
    END AS recognized_revenue_usd,
    CASE
        WHEN ud.unit_type = 'user' THEN 'user unit: revenue is recognized per account'
        WHEN ro.date IS NULL THEN 'recognized_revenue_daily not materialized for this date'
    END AS recognized_revenue_usd_null_reason,
    pp.pre_period_days,
    pp.pre_active_users,
    pp.pre_sessions,
    pp.pre_hours,
    pp.pre_events,
    CASE
        WHEN pp.pre_period_days = 0
            THEN 'no user_engagement_daily partition in the 14 days before assignment'
    END AS pre_period_null_reason,
    pp.pre_revenue_days,
    pp.pre_recognized_revenue_usd,
    CASE
        WHEN ud.unit_type = 'user' THEN 'user unit: revenue is recognized per account'
        WHEN pp.pre_revenue_days = 0
            THEN 'no recognized_revenue_daily data in the 14 days before assignment'
    END AS pre_recognized_revenue_usd_null_reason
FROM unit_days AS ud
LEFT JOIN pseudonyms AS ps ON ud.unit_type = 'user' AND ps.user_id = ud.raw_unit_id
LEFT JOIN user_accounts AS ua ON ud.unit_type = 'user' AND ua.user_id = ud.raw_unit_id
LEFT JOIN engagement_days AS eo ON eo.date = ud.date
LEFT JOIN unit_engagement AS e
    ON e.date = ud.date AND e.unit_type = ud.unit_type AND e.raw_unit_id = ud.raw_unit_id
LEFT JOIN revenue_days AS ro ON ud.unit_type = 'account' AND ro.date = ud.date
LEFT JOIN account_revenue AS r
    ON ud.unit_type = 'account' AND r.date = ud.date AND r.account_id = ud.raw_unit_id
LEFT JOIN pre_period AS pp
    ON pp.experiment_id = ud.experiment_id AND pp.raw_unit_id = ud.raw_unit_id;
