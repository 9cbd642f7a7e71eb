-- One row per experiment × unit: its totals from assignment up to the as-of date, and its
-- pre-period covariates. Input: ab_unit_daily (days before as_of_end), experiments_in_scope.
-- Variables: as_of_end (DATE, exclusive).
CREATE OR REPLACE TEMP TABLE unit_outcomes AS
WITH rows AS (
    SELECT *
    FROM ab_unit_daily
    WHERE date < getvariable('as_of_end')
        AND experiment_id IN (SELECT experiment_id FROM experiments_in_scope)
),
-- The unit's most recently built row carries the variant and pre-period values it is analysed
-- with (a late assignment export or late pre-period clicks reach the newest rows first).
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
)
SELECT
    t.*,
    l.variant,
    l.unit_type,
    l.pre_period_days,
    CAST(l.pre_active_users AS DOUBLE) AS pre_active_users,
    CAST(l.pre_sessions AS DOUBLE) AS pre_sessions,
    l.pre_hours,
    CAST(l.pre_events AS DOUBLE) AS pre_events,
    l.pre_revenue_days,
    l.pre_recognized_revenue_usd
FROM totals AS t
JOIN latest AS l USING (experiment_id, unit_id)
ORDER BY experiment_id, unit_id;
