-- Lineage slice "recognized" of invoice_lines_current: what day d of recognized_revenue_daily
-- reads — the recognized lines in service on d, with the columns the day's sum uses. A new,
-- voided, corrected or refunded line changes exactly the days of its service period
-- (docs/profit.md). Reads the table as view `t`; returns (key, h).
SELECT CAST(d AS DATE) AS key, hash(account_id, daily_rate_usd, amount_usd < 0) AS h
FROM (
    SELECT account_id, daily_rate_usd, amount_usd,
           unnest(generate_series(CAST(service_start AS TIMESTAMP),
                                  CAST(service_end AS TIMESTAMP) - INTERVAL 1 DAY,
                                  INTERVAL 1 DAY)) AS d
    FROM t
    WHERE is_recognized AND service_end > service_start
)
