-- The raw table as Athena's JSON SerDe shows it: one row per non-blank line, fields NULL where
-- a line is not a JSON object, partition columns from the Hive path. Loaded for ad-hoc queries.
CREATE OR REPLACE TEMP TABLE {{raw_table}} AS
SELECT
  doc ->> 'event_id' AS event_id,
  doc ->> 'event_time' AS event_time,
  doc ->> 'user_id' AS user_id,
  doc ->> 'session_id' AS session_id,
  doc ->> 'event_type' AS event_type,
  doc ->> 'page_url' AS page_url,
  doc ->> 'referrer' AS referrer,
  doc ->> 'user_agent' AS user_agent,
  CAST(doc -> 'properties' AS VARCHAR) AS properties,
  regexp_extract(source_file, 'year=([0-9]{4})/', 1) AS year,
  regexp_extract(source_file, 'month=([0-9]{2})/', 1) AS month,
  regexp_extract(source_file, 'day=([0-9]{2})/', 1) AS day,
  regexp_extract(source_file, 'hour=([0-9]{2})/', 1) AS hour
FROM (
  SELECT source_file, CASE WHEN json_type(doc) = 'OBJECT' THEN doc END AS doc
  FROM clickstream_classified_lines($raw_files)
);
