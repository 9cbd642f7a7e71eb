-- The CRM events to replay: one row per event_id. stg_account_events is a change feed (one
-- partition per export day); if the CRM ever re-exports an event, the newest export wins.
-- $files: the live Parquet files of every stg_account_events partition.
SELECT
    event_id,
    account_id,
    event_type,
    effective_at,
    recorded_at,
    plan,
    seats,
    contract_end,
    mrr_usd
FROM read_parquet($files, hive_partitioning = false, union_by_name = true)
QUALIFY row_number() OVER (
    PARTITION BY event_id
    ORDER BY export_date DESC, _source_file DESC, _row_number DESC
) = 1
ORDER BY account_id, effective_at, recorded_at, event_id
