-- The units first exposed on a day of the chunk: one row per experiment × unit, on its
-- assignment day (first_exposure.sql decides which assignment counts).
-- Variables: chunk_start, chunk_end (DATE, end exclusive).
CREATE OR REPLACE TEMP TABLE assigned_units AS
SELECT
    experiment_id,
    unit_type,
    unit_id AS raw_unit_id,
    variant,
    assigned_at,
    CAST(assigned_at AS DATE) AS assignment_date
FROM first_exposure
WHERE CAST(assigned_at AS DATE) >= getvariable('chunk_start')
    AND CAST(assigned_at AS DATE) < getvariable('chunk_end');

-- The units whose metrics the chunk needs (unit_engagement.sql).
CREATE OR REPLACE TEMP TABLE units_in_scope AS
SELECT DISTINCT unit_type, raw_unit_id FROM assigned_units;
