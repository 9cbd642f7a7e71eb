-- ab_unit_covariates for one chunk of assignment days: each unit's metrics over the 14 days
-- before its assignment day, over the days upstream has data for (pre_period_days /
-- pre_revenue_days say how many of the 14 that is).
-- Inputs: assigned_units (assigned_units.sql), pseudonyms, unit_engagement, account_revenue
--         (unit_engagement.sql), engagement_days / revenue_days (days upstream has a partition for).
CREATE OR REPLACE TEMP TABLE pre_period AS
WITH eng AS (
    SELECT
        u.experiment_id,
        u.raw_unit_id,
        count(*) AS pre_period_days,
        CAST(sum(coalesce(e.active_users, 0)) AS BIGINT) AS pre_active_users,
        CAST(sum(coalesce(e.sessions, 0)) AS BIGINT) AS pre_sessions,
        sum(coalesce(e.hours, 0.0) ORDER BY o.date) AS pre_hours,
        CAST(sum(coalesce(e.events, 0)) AS BIGINT) AS pre_events
    FROM assigned_units AS u
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
    FROM assigned_units AS u
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
FROM assigned_units AS u
LEFT JOIN eng USING (experiment_id, raw_unit_id)
LEFT JOIN rev USING (experiment_id, raw_unit_id);

CREATE OR REPLACE TEMP TABLE ab_unit_covariates_chunk AS
SELECT
    u.assignment_date,
    u.experiment_id,
    u.unit_type,
    CASE WHEN u.unit_type = 'user' THEN ps.unit_pseudonym ELSE u.raw_unit_id END AS unit_id,
    u.variant,
    u.assigned_at,
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
        WHEN u.unit_type = 'user' THEN 'user unit: revenue is recognized per account'
        WHEN pp.pre_revenue_days = 0
            THEN 'no recognized_revenue_daily data in the 14 days before assignment'
    END AS pre_recognized_revenue_usd_null_reason
FROM assigned_units AS u
LEFT JOIN pseudonyms AS ps ON u.unit_type = 'user' AND ps.user_id = u.raw_unit_id
LEFT JOIN pre_period AS pp
    ON pp.experiment_id = u.experiment_id AND pp.raw_unit_id = u.raw_unit_id;
