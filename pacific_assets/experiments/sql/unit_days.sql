-- One row per experiment × first-exposed unit × day of the chunk, from the assignment day on and
-- while the experiment runs (end_date exclusive).
-- Variables: chunk_start, chunk_end (DATE, end exclusive).
CREATE OR REPLACE TEMP TABLE unit_days AS
WITH days AS (
    SELECT CAST(unnest(generate_series(
        getvariable('chunk_start'), getvariable('chunk_end') - 1, INTERVAL 1 DAY
    )) AS DATE) AS date
)
SELECT
    d.date,
    f.experiment_id,
    f.unit_type,
    f.unit_id AS raw_unit_id,
    f.variant,
    f.assigned_at,
    CAST(f.assigned_at AS DATE) AS assignment_date
FROM first_exposure AS f
JOIN registry AS r USING (experiment_id)
JOIN days AS d
    ON d.date >= CAST(f.assigned_at AS DATE)
    AND (r.end_date IS NULL OR d.date < r.end_date);

-- The units whose metrics the chunk needs (unit_engagement.sql).
CREATE OR REPLACE TEMP TABLE units_in_scope AS
SELECT DISTINCT unit_type, raw_unit_id FROM unit_days;
