-- What day d of account_status_daily reads from the status history (lineage slice "through_day",
-- cumulative): every step that started on or before d, and every step that ended on or before d
-- (a step's end changes the status from that day on). A late CRM event effective on day E
-- changes the slice from E on, so exactly the days from E are stale (docs/growth.md).
SELECT CAST(valid_from AS DATE) AS key,
       hash(account_id, step, valid_from, status, plan, seats, mrr_usd, contract_end, is_paying,
            imputed, imputed_evidence, event_id, event_type, recorded_at, ever_paid,
            window_opened_mrr_usd, renewal_expansion_usd) AS h
FROM t
UNION ALL
SELECT CAST(valid_to AS DATE) AS key, hash(account_id, step, 'ends', valid_to) AS h
FROM t
WHERE valid_to IS NOT NULL
