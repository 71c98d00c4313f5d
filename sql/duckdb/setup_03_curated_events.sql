-- The curated, typed rows of the given raw files: one per event_id, event_time in UTC.
CREATE OR REPLACE MACRO clickstream_curated_events(files) AS TABLE
SELECT
  doc ->> 'event_id' AS event_id,
  try_cast(doc ->> 'event_time' AS TIMESTAMPTZ) AT TIME ZONE 'UTC' AS event_time,
  doc ->> 'user_id' AS user_id,
  doc ->> 'session_id' AS session_id,
  doc ->> 'event_type' AS event_type,
  doc ->> 'page_url' AS page_url,
  doc ->> 'referrer' AS referrer,
  doc ->> 'user_agent' AS user_agent,
  CAST(doc -> 'properties' AS VARCHAR) AS properties
FROM clickstream_classified_lines(files)
WHERE outcome = 'curated';
