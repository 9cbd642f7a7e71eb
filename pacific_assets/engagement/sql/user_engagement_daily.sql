-- user_engagement_daily for [$start, $end]: one row per user and day with at least one event.
-- Sessions (docs/semantic-contract.md: Clicks): split at UTC midnight (each day stands alone), a
-- new session starts after more than 30 minutes without an event, and a session lasts last - first
-- event (one event = 0). Durations are summed in integer microseconds, so hours are exact and
-- order-independent; gaps are microseconds too (30 min = 1,800,000,000 us), because DuckDB
-- subtracts TIMESTAMPTZ through ICU at ~3 us a row (stg_clicks.sql). Reads view clicks_in
-- (stg_clicks of the range) and table directory_current (licensed_users.sql); `licensed` is the
-- same rule as licensed_user_days, for the active user on that day.
-- The window orders by event_ts alone: events at the same instant have a gap of 0 whichever comes
-- first, so the gaps (and every measure) do not depend on how ties are broken, and the sort
-- needs neither the event_id column nor its text comparisons (~12% of this statement's CPU).
CREATE OR REPLACE TEMP TABLE user_days AS
WITH clicks AS (
    SELECT event_date, user_id, account_id, event_ts, is_late
    FROM clicks_in
    WHERE event_date BETWEEN $start AND $end
),
gaps AS (
    SELECT
        *,
        epoch_us(event_ts) - lag(epoch_us(event_ts)) OVER (
            PARTITION BY event_date, user_id ORDER BY event_ts
        ) AS gap_us
    FROM clicks
),
-- A session lasts last - first event, which is the sum of the gaps between its consecutive
-- events; a gap of more than 30 minutes (or the day's first event: no gap) starts a session
-- and belongs to none. So one window and one grouping give exactly what numbering the sessions
-- and summing per session gives, in integer microseconds.
activity AS (
    SELECT
        event_date AS date,
        user_id,
        min(account_id) AS click_account_id,
        count(*) FILTER (WHERE gap_us IS NULL OR gap_us > 1800000000) AS sessions,
        coalesce(sum(gap_us) FILTER (WHERE gap_us <= 1800000000), 0) AS active_us,
        count(*) AS events,
        count(*) FILTER (WHERE is_late) AS late_events
    FROM gaps
    GROUP BY event_date, user_id
)
SELECT
    a.date,
    a.user_id,
    -- the directory says which account and team a user belongs to; a user unknown to the
    -- directory keeps the account its clicks carry and has no team
    coalesce(u.account_id, a.click_account_id) AS account_id,
    u.team,
    coalesce(
        u.licensed
        AND u.created_at < CAST(a.date + 1 AS TIMESTAMPTZ)
        AND (u.deactivated_at IS NULL OR u.deactivated_at > CAST(a.date AS TIMESTAMPTZ)),
        false
    ) AS licensed,
    CAST(a.sessions AS BIGINT) AS sessions,
    CAST(a.active_us AS DOUBLE) / 3600e6 AS hours,
    CAST(a.events AS BIGINT) AS events,
    CAST(a.late_events AS BIGINT) AS late_events
FROM activity AS a
LEFT JOIN directory_current AS u USING (user_id)
ORDER BY a.date
