-- stg_clicks for the event dates [$start, $end] (docs/semantic-contract.md: Clicks), in one pass
-- over the batch files the manifest lists for these dates.
--
-- 1. clicks_landed: every landed line. The JSON reader runs with ignore_errors, so a line it
--    cannot read comes back with nulls; such lines, and lines whose event_ts cannot be the
--    event's time (after it landed beyond the clock allowance, or before the first day of the
--    grids: landing.event_time_problem), are marked `refused` (the asset quarantines them by
--    file and line with the reason, reading only the affected files) and never reach stg_clicks.
CREATE OR REPLACE TEMP TABLE clicks_landed AS
WITH lines AS (
    SELECT
        event_id,
        user_id,
        account_id,
        event_ts,
        sent_at,
        page,
        action,
        landed_at,
        "partition",
        "offset",
        filename AS file,
        CAST(regexp_extract(filename, 'batch-([0-9]{8})\.jsonl$', 1) AS BIGINT) AS batch,
        CAST(event_ts AS DATE) AS event_date,
        event_id IS NULL OR user_id IS NULL OR account_id IS NULL
            OR event_ts IS NULL OR landed_at IS NULL
            OR event_ts > landed_at + to_seconds($clock_allowance_seconds)
            OR CAST(event_ts AS DATE) < $first_day AS refused
    FROM read_json(
        $files,
        format = 'newline_delimited',
        columns = $columns,
        filename = true,
        ignore_errors = true
    )
)
SELECT *
FROM lines
WHERE refused OR event_date BETWEEN $start AND $end;

-- 2. stg_clicks_range: routed by UTC event date; of all copies of one event_id in that date the
--    one in the lowest (batch, Kafka partition, offset) is kept. `copies` says how many landed;
--    duplicates are never late, because only the kept copy's landed_at is looked at. Sorted by
--    day, so writing one day at a time reads only that day's row groups.
CREATE OR REPLACE TEMP TABLE stg_clicks_range AS
WITH ranked AS (
    SELECT
        *,
        row_number() OVER copies_of_event AS copy_rank,
        count(*) OVER (PARTITION BY event_date, event_id) AS copies
    FROM clicks_landed
    WHERE NOT refused
    WINDOW copies_of_event AS (
        PARTITION BY event_date, event_id
        ORDER BY batch, "partition" NULLS LAST, "offset" NULLS LAST, landed_at, sent_at NULLS LAST
    )
)
SELECT
    event_id,
    user_id,
    account_id,
    event_ts,
    sent_at,
    page,
    action,
    landed_at,
    "partition",
    "offset",
    event_date,
    batch,
    landed_at - event_ts > INTERVAL 48 HOUR AS is_late,
    copies
FROM ranked
WHERE copy_rank = 1
ORDER BY event_date, event_ts, event_id;
