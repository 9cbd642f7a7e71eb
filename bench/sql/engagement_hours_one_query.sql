-- The benchmark's baseline: the engagement chain's work as ONE hand-written DuckDB statement.
-- Landed click batches -> exact de-duplication -> sessions -> per user and day -> per account and
-- day (engagement_hours), with the same rules as the assets (docs/semantic-contract.md,
-- docs/engagement.md):
--   * de-dup by event_id within its UTC event date, the copy in the lowest (batch, Kafka
--     partition, offset) wins; late = that copy landed > 48 h after event_ts;
--   * sessions split at UTC midnight and after > 30 min without an event; length = last - first;
--   * licensed users from the directory's latest row per user (stg_directory_users).
-- What it leaves out, on purpose: no intermediate tables are written (stg_clicks,
-- user_engagement_daily), unreadable lines are skipped rather than quarantined, and there is no
-- completeness verdict. Parameters: $files, $start, $end, $directory_glob.
-- Time arithmetic is on epoch microseconds, as in the assets' SQL (stg_clicks.sql): the same
-- instants, without DuckDB's ~3 us a row for TIMESTAMPTZ subtraction through ICU. Before
-- 2026-12-03 both sides used TIMESTAMPTZ arithmetic (docs/benchmarks.md).
CREATE OR REPLACE TEMP TABLE engagement_hours_baseline AS
WITH landed AS (
    SELECT
        event_id,
        user_id,
        account_id,
        event_ts,
        sent_at,
        landed_at,
        "partition",
        "offset",
        CAST(regexp_extract(filename, 'batch-([0-9]{8})\.jsonl$', 1) AS BIGINT) AS batch,
        DATE '1970-01-01' + CAST(epoch_us(event_ts) // 86400000000 AS INTEGER) AS event_date
    FROM read_json(
        $files,
        format = 'newline_delimited',
        columns = {
            event_id: 'VARCHAR', user_id: 'VARCHAR', account_id: 'VARCHAR',
            event_ts: 'TIMESTAMPTZ', sent_at: 'TIMESTAMPTZ', page: 'VARCHAR', action: 'VARCHAR',
            landed_at: 'TIMESTAMPTZ', "partition": 'BIGINT', "offset": 'BIGINT'
        },
        filename = true,
        ignore_errors = true
    )
    WHERE event_id IS NOT NULL AND user_id IS NOT NULL AND account_id IS NOT NULL
      AND event_ts IS NOT NULL AND landed_at IS NOT NULL
),
clicks AS (
    SELECT event_date, event_id, user_id, account_id, event_ts,
           epoch_us(landed_at) - epoch_us(event_ts) > 172800000000 AS is_late
    FROM landed
    WHERE event_date BETWEEN $start AND $end
    QUALIFY row_number() OVER (
        PARTITION BY event_date, event_id
        ORDER BY batch, "partition" NULLS LAST, "offset" NULLS LAST, landed_at, sent_at NULLS LAST
    ) = 1
),
numbered AS (
    SELECT
        *,
        sum(CASE WHEN gap_us IS NULL OR gap_us > 1800000000 THEN 1 ELSE 0 END) OVER (
            PARTITION BY event_date, user_id ORDER BY event_ts, event_id ROWS UNBOUNDED PRECEDING
        ) AS session_no
    FROM (
        SELECT *, epoch_us(event_ts) - lag(epoch_us(event_ts)) OVER (
            PARTITION BY event_date, user_id ORDER BY event_ts, event_id
        ) AS gap_us
        FROM clicks
    )
),
sessions AS (
    SELECT event_date, user_id, session_no,
           min(account_id) AS click_account_id,
           epoch_us(max(event_ts)) - epoch_us(min(event_ts)) AS session_us,
           count(*) AS events,
           count(*) FILTER (WHERE is_late) AS late_events
    FROM numbered
    GROUP BY ALL
),
user_activity AS (
    SELECT event_date AS date, user_id,
           min(click_account_id) AS click_account_id,
           count(*) AS sessions,
           sum(session_us) AS active_us,
           sum(events) AS events,
           sum(late_events) AS late_events
    FROM sessions
    GROUP BY ALL
),
directory_current AS (
    SELECT user_id, account_id, licensed, created_at, deactivated_at
    FROM read_parquet($directory_glob, hive_partitioning = false, union_by_name = true)
    QUALIFY row_number() OVER (
        PARTITION BY user_id ORDER BY export_date DESC, _source_file DESC, _row_number DESC
    ) = 1
),
licensed_user_days AS (
    SELECT CAST(d AS DATE) AS date, u.user_id, u.account_id
    FROM generate_series(CAST($start AS TIMESTAMP), CAST($end AS TIMESTAMP), INTERVAL 1 DAY) AS t(d)
    JOIN directory_current AS u
      ON u.licensed
     AND u.created_at < CAST(CAST(d AS DATE) + 1 AS TIMESTAMPTZ)
     AND (u.deactivated_at IS NULL OR u.deactivated_at > CAST(CAST(d AS DATE) AS TIMESTAMPTZ))
),
account_activity AS (
    SELECT a.date,
           coalesce(u.account_id, a.click_account_id) AS account_id,
           count(*) AS active_users,
           count(*) FILTER (WHERE l.user_id IS NOT NULL) AS active_licensed_users,
           sum(a.sessions) AS sessions,
           sum(a.active_us) AS active_us,
           sum(a.events) AS events,
           sum(a.late_events) AS late_events
    FROM user_activity AS a
    LEFT JOIN directory_current AS u USING (user_id)
    LEFT JOIN licensed_user_days AS l USING (date, user_id)
    GROUP BY ALL
),
licensed AS (
    SELECT date, account_id, count(*) AS licensed_users FROM licensed_user_days GROUP BY ALL
),
account_days AS (
    SELECT date, account_id FROM account_activity
    UNION
    SELECT date, account_id FROM licensed
)
SELECT
    k.date,
    k.account_id,
    coalesce(l.licensed_users, 0) AS licensed_users,
    coalesce(a.active_users, 0) AS active_users,
    coalesce(a.active_licensed_users, 0) AS active_licensed_users,
    coalesce(a.sessions, 0) AS sessions,
    coalesce(CAST(a.active_us AS DOUBLE) / 3600e6, 0.0) AS total_hours,
    CASE WHEN a.active_users > 0 THEN CAST(a.active_us AS DOUBLE) / 3600e6 / a.active_users END
        AS hours_per_active_user,
    coalesce(a.events, 0) AS events,
    coalesce(a.late_events, 0) AS late_events
FROM account_days AS k
LEFT JOIN account_activity AS a ON a.date = k.date AND a.account_id IS NOT DISTINCT FROM k.account_id
LEFT JOIN licensed AS l ON l.date = k.date AND l.account_id IS NOT DISTINCT FROM k.account_id
