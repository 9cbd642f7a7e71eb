-- Account -> segment as of each period's end: the latest CRM accounts row exported before the
-- period ended (stg_accounts is a change feed). Small: one row per account and period, broadcast.
SELECT period_start, account_id, segment
FROM (
    SELECT
        p.period_start,
        a.account_id,
        COALESCE(a.segment, 'unknown') AS segment,
        ROW_NUMBER() OVER (
            PARTITION BY p.period_start, a.account_id
            ORDER BY a.export_date DESC, a._row_number DESC
        ) AS rn
    FROM stg_accounts AS a
    JOIN periods AS p
      ON a.export_date < p.period_end
    WHERE a.account_id IS NOT NULL
)
WHERE rn = 1
