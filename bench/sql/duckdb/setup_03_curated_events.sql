-- PROPOSED (B4): as sql/duckdb/setup_03_curated_events.sql, reading the fields parsed once by
-- clickstream_classified_lines (f, ts) instead of parsing each line's JSON again per column.
CREATE OR REPLACE MACRO clickstream_curated_events(files) AS TABLE
SELECT
  f[1] AS event_id,
  ts AT TIME ZONE 'UTC' AS event_time,
  f[2] AS user_id,
  f[4] AS session_id,
  f[5] AS event_type,
  f[6] AS page_url,
  f[7] AS referrer,
  f[8] AS user_agent,
  properties
FROM clickstream_classified_lines(files)
WHERE outcome = 'curated';
