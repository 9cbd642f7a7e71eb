-- Directory users licensed on each day of [start, end] (docs/semantic-contract.md: "Licensed
-- users"). The directory is a change feed: the latest row per user_id (by export date, then file
-- and row order) is the user's current state. Licensed on day d = licensed, created before the end
-- of d, and not deactivated before the start of d.
CREATE OR REPLACE TEMP TABLE directory_current AS
SELECT user_id, account_id, team, licensed, created_at, deactivated_at
FROM read_parquet($directory_glob, hive_partitioning = false, union_by_name = true)
QUALIFY row_number() OVER (
    PARTITION BY user_id ORDER BY export_date DESC, _source_file DESC, _row_number DESC
) = 1;

-- A view, not a table: users x days is big (1 M users x 31 days), and every reader aggregates
-- it right away, so it streams. The dates are validated partition keys, inlined because a view
-- cannot hold parameters.
CREATE OR REPLACE TEMP VIEW licensed_user_days AS
WITH days AS (
    SELECT CAST(d AS DATE) AS date
    FROM generate_series(TIMESTAMP '{start}', TIMESTAMP '{end}', INTERVAL 1 DAY) AS t(d)
)
SELECT days.date, u.user_id, u.account_id, u.team
FROM days
JOIN directory_current AS u
  ON u.licensed
 AND u.created_at < CAST(days.date + 1 AS TIMESTAMPTZ)
 AND (u.deactivated_at IS NULL OR u.deactivated_at > CAST(days.date AS TIMESTAMPTZ));
