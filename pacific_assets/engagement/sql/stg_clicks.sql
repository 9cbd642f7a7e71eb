-- stg_clicks for the event dates [$start, $end] (DESIGN §3b).
-- Every landed copy of an event is read from the batches the manifest lists for these dates;
-- events are routed by their UTC event date, and of all copies of one event_id in that date the
-- one in the lowest (batch, Kafka partition, offset) is kept. `copies` says how many landed;
-- duplicates are never late, because only the kept copy's landed_at is looked at.
CREATE OR REPLACE TEMP TABLE stg_clicks_range AS
WITH landed AS (
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
        CAST(regexp_extract(filename, 'batch-([0-9]{8})\.jsonl$', 1) AS BIGINT) AS batch,
        CAST(event_ts AS DATE) AS event_date
    FROM read_json(
        $files,
        format = 'newline_delimited',
        columns = $columns,
        filename = true,
        ignore_errors = $ignore_errors
    )
),
valid AS (
    -- Lines the JSON reader could not fully read come back with nulls: they were quarantined
    -- at ingestion (Kafka) or registration (simulator files) and are left out here.
    SELECT *
    FROM landed
    WHERE event_id IS NOT NULL
      AND user_id IS NOT NULL
      AND account_id IS NOT NULL
      AND event_ts IS NOT NULL
      AND landed_at IS NOT NULL
      AND event_date BETWEEN $start AND $end
),
ranked AS (
    SELECT
        *,
        row_number() OVER copies_of_event AS copy_rank,
        count(*) OVER (PARTITION BY event_date, event_id) AS copies
    FROM valid
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
