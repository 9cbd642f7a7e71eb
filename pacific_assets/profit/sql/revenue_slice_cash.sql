-- Lineage slice "cash" of invoice_lines_current: what day d of cash_collected_daily reads — the
-- lines paid or refunded on d (docs/profit.md). Reads the table as view `t`; returns (key, h).
SELECT CAST(paid_at AS DATE) AS key, hash(account_id, amount_usd, status) AS h
FROM t
WHERE paid_at IS NOT NULL AND status IN ('paid', 'refunded')
