-- Cash collected per account per UTC day of payment, for the days in [$start, $end).
-- Paid lines count on the day they were paid; refund lines (negative amount) on the day the
-- money went back. Open lines have not been paid; void lines are ignored.
SELECT
    CAST(paid_at AS DATE) AS date,
    account_id,
    sum(amount_usd) AS cash_collected_usd,
    coalesce(sum(amount_usd) FILTER (WHERE amount_usd < 0), 0.0) AS refunded_usd,
    count(*) AS payments
FROM invoice_lines_current
WHERE paid_at IS NOT NULL
  AND status IN ('paid', 'refunded')
  AND CAST(paid_at AS DATE) >= $start
  AND CAST(paid_at AS DATE) < $end
GROUP BY ALL
ORDER BY date, account_id
