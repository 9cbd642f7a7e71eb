-- First exposure per experiment × unit, as known at the end of the range being built.
-- Inputs (temp views/tables): registry (parsed), stg_experiment_assignments.
-- Variables: range_end (DATE, exclusive).

-- Every assignment row that happened before the range end, with why it cannot be used (if so).
CREATE OR REPLACE TEMP TABLE assignment_rows AS
SELECT
    a.*,
    CASE
        WHEN r.experiment_id IS NULL THEN 'experiment not in registry'
        WHEN a.unit_type IS DISTINCT FROM r.unit_type THEN 'unit_type differs from registry'
        WHEN NOT list_contains(r.variants, a.variant) THEN 'variant not in registry'
        WHEN CAST(a.assigned_at AS DATE) < r.start_date THEN 'assigned before experiment start'
        WHEN r.end_date IS NOT NULL AND CAST(a.assigned_at AS DATE) >= r.end_date
            THEN 'assigned on or after experiment end'
    END AS invalid_reason
FROM stg_experiment_assignments AS a
LEFT JOIN registry AS r USING (experiment_id)
WHERE a.assigned_at < CAST(getvariable('range_end') AS TIMESTAMPTZ);

-- First exposure wins: the earliest valid assignment (ties: earliest export, file, row).
CREATE OR REPLACE TEMP TABLE first_exposure AS
SELECT experiment_id, unit_type, unit_id, variant, assigned_at
FROM (
    SELECT
        *,
        row_number() OVER (
            PARTITION BY experiment_id, unit_id
            ORDER BY assigned_at, export_date, _source_file, _row_number
        ) AS exposure_rank
    FROM assignment_rows
    WHERE invalid_reason IS NULL
)
WHERE exposure_rank = 1;

-- Units assigned more than once. An exact re-export of the same assignment (same variant and
-- time) is a duplicate row, not a second assignment.
CREATE OR REPLACE TEMP TABLE reassignments AS
SELECT
    experiment_id,
    count(*) FILTER (WHERE n_assignments > 1) AS units_assigned_more_than_once,
    count(*) FILTER (WHERE n_variants > 1) AS units_with_conflicting_variants,
    CAST(sum(n_rows - n_assignments) AS BIGINT) AS duplicate_assignment_rows
FROM (
    SELECT
        experiment_id,
        unit_id,
        count(*) AS n_rows,
        count(DISTINCT (variant, assigned_at)) AS n_assignments,
        count(DISTINCT variant) AS n_variants
    FROM assignment_rows
    WHERE invalid_reason IS NULL
    GROUP BY experiment_id, unit_id
)
GROUP BY experiment_id;
