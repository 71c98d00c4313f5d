-- The curated, typed rows of the given raw files: one per event_id, event_time in UTC, stored to
-- the millisecond (truncated, never rounded: an event never moves into the next second or hour),
-- the precision Athena's Hive timestamp holds; duplicates were ranked on the microsecond.
-- Reads the fields clickstream_classified_lines parsed once (f, ts, properties): no second parse.
CREATE OR REPLACE MACRO clickstream_curated_events(files) AS TABLE
SELECT
  f[1] AS event_id,
  date_trunc('millisecond', ts AT TIME ZONE 'UTC') AS event_time,
  f[2] AS user_id,
  f[4] AS session_id,
  f[5] AS event_type,
  f[6] AS page_url,
  f[7] AS referrer,
  f[8] AS user_agent,
  properties
FROM clickstream_classified_lines(files)
WHERE outcome = 'curated';
