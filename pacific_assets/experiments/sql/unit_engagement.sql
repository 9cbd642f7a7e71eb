-- Engagement per unit and day, and recognized revenue per account unit and day, for the units in
-- scope over the upstream days opened (both assets of the pipeline read them this way).
-- Inputs: units_in_scope (unit_type, raw_unit_id), user_engagement_daily (the days needed),
--         recognized_revenue_daily.
-- Variables: metrics_from, metrics_to (DATE, end exclusive): the days needed.

-- A user unit is its own row of user_engagement_daily; an account unit sums its users.
-- Active = at least one event that day.
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
WHERE user_id IN (SELECT raw_unit_id FROM units_in_scope WHERE unit_type = 'user')
    AND date >= getvariable('metrics_from') AND date < getvariable('metrics_to')
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
WHERE account_id IN (SELECT raw_unit_id FROM units_in_scope WHERE unit_type = 'account')
    AND date >= getvariable('metrics_from') AND date < getvariable('metrics_to')
GROUP BY date, account_id;

CREATE OR REPLACE TEMP TABLE account_revenue AS
SELECT
    date,
    account_id,
    sum(recognized_revenue_usd ORDER BY recognized_revenue_usd) AS recognized_revenue_usd
FROM recognized_revenue_daily
WHERE account_id IN (SELECT raw_unit_id FROM units_in_scope WHERE unit_type = 'account')
    AND date >= getvariable('metrics_from') AND date < getvariable('metrics_to')
GROUP BY date, account_id;
