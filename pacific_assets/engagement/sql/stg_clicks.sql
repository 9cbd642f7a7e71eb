-- stg_clicks for the event dates [$start, $end] (docs/semantic-contract.md: Clicks), in one pass
-- over the batch files the manifest lists for these dates.
--
-- Time arithmetic is on epoch microseconds, not TIMESTAMPTZ: the same instants and the same
-- UTC dates, but DuckDB does TIMESTAMPTZ subtraction through ICU at ~3 us a row, which was
-- most of this asset's time at 30 M clicks (docs/benchmarks.md, "The engagement chain at the
-- engine's speed").
--
-- 1. clicks_landed: every landed line. The JSON reader runs with ignore_errors, so a line it
--    cannot read comes back with nulls; such lines, and lines whose event_ts cannot be the
--    event's time (after it landed beyond the clock allowance, or before the first day of the
--    grids: landing.event_time_problem), are marked `refused` (the asset quarantines them by
--    file and line with the reason, reading only the affected files) and never reach stg_clicks.
--    `file_index` is the line's position in $files; $batches holds each file's batch number.
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
        file_index,
        CAST($batches[CAST(file_index AS BIGINT) + 1] AS BIGINT) AS batch,
        DATE '1970-01-01' + CAST(epoch_us(event_ts) // 86400000000 AS INTEGER) AS event_date
    FROM read_json(
        $files,
        format = 'newline_delimited',
        columns = $columns,
        ignore_errors = true
    )
),
checked AS (
    SELECT
        *,
        event_id IS NULL OR user_id IS NULL OR account_id IS NULL
            OR event_ts IS NULL OR landed_at IS NULL
            OR epoch_us(event_ts) > epoch_us(landed_at) + $clock_allowance_us
            OR event_date < $first_day AS refused
    FROM lines
)
SELECT *
FROM checked
WHERE refused OR event_date BETWEEN $start AND $end;

-- 2. De-duplication, exact, without sorting 30 M rows: an event_id that landed once per event
--    date (nearly all) is kept as it is; only ids that may have landed twice go through the
--    window. `repeated_ids` groups by a 64-bit hash of the id: a collision only sends two
--    different ids through the window, which then keeps both, since it partitions by the id.
CREATE OR REPLACE TEMP TABLE repeated_ids AS
SELECT event_date, hash(event_id) AS id_hash
FROM clicks_landed
WHERE NOT refused
GROUP BY ALL
HAVING count(*) > 1;

--    Of all copies of one event_id in one date the one in the lowest (batch, Kafka partition,
--    offset) is kept. `copies` says how many landed; duplicates are never late, because only
--    the kept copy's landed_at is looked at.
CREATE OR REPLACE TEMP TABLE kept_repeats AS
WITH ranked AS (
    SELECT
        l.*,
        row_number() OVER copies_of_event AS copy_rank,
        count(*) OVER (PARTITION BY l.event_date, l.event_id) AS copies
    FROM clicks_landed AS l
    SEMI JOIN repeated_ids AS r
        ON l.event_date = r.event_date AND hash(l.event_id) = r.id_hash
    WHERE NOT l.refused
    WINDOW copies_of_event AS (
        PARTITION BY l.event_date, l.event_id
        ORDER BY batch, "partition" NULLS LAST, "offset" NULLS LAST, landed_at, sent_at NULLS LAST
    )
)
SELECT * EXCLUDE (copy_rank)
FROM ranked
WHERE copy_rank = 1;

-- 3. stg_clicks_range: the kept copy of every event, routed by UTC event date. A view, so
--    writing one day reads that day's rows of clicks_landed and nothing is copied twice.
CREATE OR REPLACE TEMP VIEW stg_clicks_range AS
WITH kept AS (
    SELECT l.* EXCLUDE (refused, file_index), 1 AS copies
    FROM clicks_landed AS l
    ANTI JOIN repeated_ids AS r
        ON l.event_date = r.event_date AND hash(l.event_id) = r.id_hash
    WHERE NOT l.refused
    UNION ALL
    SELECT * EXCLUDE (refused, file_index)
    FROM kept_repeats
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
    -- late: landed more than 48 h (172,800,000,000 us) after it happened
    epoch_us(landed_at) - epoch_us(event_ts) > 172800000000 AS is_late,
    copies
FROM kept;
