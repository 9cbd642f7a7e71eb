-- ab_unit_daily for one chunk of days: each unit's engagement and revenue on the day itself.
-- (Its pre-period covariates are a unit-level fact, in ab_unit_covariates.)
-- Inputs: unit_days, pseudonyms, unit_engagement, account_revenue (unit_engagement.sql),
--         stg_directory_users, engagement_days / revenue_days (days that upstream has a partition for).
-- Variables: range_end (DATE, exclusive).

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
    END AS recognized_revenue_usd_null_reason
FROM unit_days AS ud
LEFT JOIN pseudonyms AS ps ON ud.unit_type = 'user' AND ps.user_id = ud.raw_unit_id
LEFT JOIN user_accounts AS ua ON ud.unit_type = 'user' AND ua.user_id = ud.raw_unit_id
LEFT JOIN engagement_days AS eo ON eo.date = ud.date
LEFT JOIN unit_engagement AS e
    ON e.date = ud.date AND e.unit_type = ud.unit_type AND e.raw_unit_id = ud.raw_unit_id
LEFT JOIN revenue_days AS ro ON ud.unit_type = 'account' AND ro.date = ud.date
LEFT JOIN account_revenue AS r
    ON ud.unit_type = 'account' AND r.date = ud.date AND r.account_id = ud.raw_unit_id;
