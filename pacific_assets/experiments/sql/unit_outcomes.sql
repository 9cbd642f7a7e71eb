-- One row per experiment × unit: its totals from assignment up to the as-of date, and its
-- pre-period covariates. Input: ab_unit_daily (days before as_of_end), ab_unit_covariates
-- (assignment days before as_of_end), experiments_in_scope. Variables: as_of_end (DATE, exclusive).
CREATE OR REPLACE TEMP TABLE unit_outcomes AS
WITH rows AS (
    SELECT *
    FROM ab_unit_daily
    WHERE date < getvariable('as_of_end')
        AND experiment_id IN (SELECT experiment_id FROM experiments_in_scope)
),
-- The unit's most recently built row carries the variant and assignment it is analysed with (a
-- late assignment export reaches the newest rows first).
latest AS (
    SELECT *
    FROM rows
    QUALIFY row_number() OVER (PARTITION BY experiment_id, unit_id ORDER BY date DESC) = 1
),
totals AS (
    SELECT
        experiment_id,
        unit_id,
        count(DISTINCT variant) AS variants_seen,
        count(*) FILTER (WHERE engagement_null_reason IS NULL) AS exposure_days,
        CAST(coalesce(sum(active_users), 0) AS DOUBLE) AS active_users,
        CAST(coalesce(sum(sessions), 0) AS DOUBLE) AS sessions,
        -- ordered sums of doubles: the same inputs give the same bits on every run
        coalesce(sum(hours ORDER BY date), 0.0) AS hours,
        CAST(coalesce(sum(events), 0) AS DOUBLE) AS events,
        count(recognized_revenue_usd) AS revenue_days,
        coalesce(sum(recognized_revenue_usd ORDER BY date), 0.0) AS recognized_revenue_usd
    FROM rows
    GROUP BY experiment_id, unit_id
),
-- The covariates of that assignment (a unit without them is analysed without adjustment).
covariates AS (
    SELECT *
    FROM ab_unit_covariates
    WHERE assignment_date < getvariable('as_of_end')
        AND experiment_id IN (SELECT experiment_id FROM experiments_in_scope)
)
SELECT
    t.*,
    l.variant,
    l.unit_type,
    coalesce(c.pre_period_days, 0) AS pre_period_days,
    CAST(c.pre_active_users AS DOUBLE) AS pre_active_users,
    CAST(c.pre_sessions AS DOUBLE) AS pre_sessions,
    c.pre_hours,
    CAST(c.pre_events AS DOUBLE) AS pre_events,
    coalesce(c.pre_revenue_days, 0) AS pre_revenue_days,
    c.pre_recognized_revenue_usd
FROM totals AS t
JOIN latest AS l USING (experiment_id, unit_id)
LEFT JOIN covariates AS c
    ON c.experiment_id = l.experiment_id
    AND c.unit_id = l.unit_id
    AND c.assignment_date = l.assignment_date
ORDER BY experiment_id, unit_id;
