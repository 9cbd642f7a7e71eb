-- Events per UTC hour for the days that have a stg_clicks partition in [$history_start, $end]
-- (a day with a partition but no events counts 0 in every hour; a day with no partition is
-- unknown and is left out of every baseline).
WITH days AS (
    SELECT CAST(unnest($present_days) AS DATE) AS date
),
grid AS (
    SELECT days.date, h.hour
    FROM days
    CROSS JOIN (SELECT CAST(range AS INTEGER) AS hour FROM range(24)) AS h
),
counts AS (
    SELECT event_date AS date, CAST(hour(event_ts) AS INTEGER) AS hour, count(*) AS events
    FROM read_parquet($click_files, hive_partitioning = false, union_by_name = true)
    GROUP BY ALL
)
SELECT grid.date, grid.hour, coalesce(counts.events, 0) AS events
FROM grid
LEFT JOIN counts USING (date, hour)
ORDER BY grid.date, grid.hour
