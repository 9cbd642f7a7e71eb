-- The current state of every invoice line.
-- Billing is a change feed: a line is exported when issued (status open) and again whenever it
-- is paid, voided or refunded. The latest row per line_id (by export date, then file, then row
-- in the file) is the line's state now; earlier rows are history.
WITH versions AS (
    SELECT
        *,
        min(export_date) OVER (PARTITION BY line_id) AS first_export_date,
        count(*) OVER (PARTITION BY line_id) AS versions,
        row_number() OVER (
            PARTITION BY line_id
            ORDER BY export_date DESC, _source_file DESC, _row_number DESC
        ) AS newest_first
    FROM stg_invoice_lines
)
SELECT
    invoice_id,
    line_id,
    account_id,
    issued_at,
    paid_at,
    service_start,
    service_end,
    product,
    quantity,
    unit_price_usd,
    amount_usd,
    status,
    -- Half-open service period [service_start, service_end): its length in days.
    datediff('day', service_start, service_end) AS service_days,
    CASE
        WHEN service_end > service_start
            THEN amount_usd / datediff('day', service_start, service_end)
    END AS daily_rate_usd,
    -- Void lines are ignored; a line with an empty or inverted period cannot be spread over days
    -- (the invoice_lines_current check lists those).
    status <> 'void' AND service_end > service_start AS is_recognized,
    first_export_date,
    export_date AS last_export_date,
    versions,
    _source_file,
    _row_number
FROM versions
WHERE newest_first = 1
ORDER BY line_id
