-- Every non-blank raw line, its fields, and why curation rejects it (reject_reason, NULL for a
-- valid line): the one definition that curate_hour, validation_counts and the rejected-lines
-- view select from. sql/duckdb/setup_02_classified_lines.sql is its local twin (a unit test keeps
-- the reasons equal). Created at worker start-up by lake/aws/createAwsBackend.ts ensureAthenaViews.
-- It works line by line, so a caller's filters on the hour and on source_file ("$path") reach
-- the scan: curation and validation read exactly the manifest's files. Which copy of a repeated
-- event_id is kept depends on the lines read, so ranking duplicates is left to the caller.
-- Columns have Hive types (no JSON, no time zone) because Glue describes a view's columns.
CREATE OR REPLACE VIEW {{database}}.{{classified_view}} AS
-- A UTF-8 byte-order mark and a trailing CR are transport noise, not part of the JSON.
WITH cleaned AS (
  SELECT "$path" AS source_file, year, month, day, hour,
    regexp_replace(line, '^' || chr(65279) || '|' || chr(13) || '$', '') AS line
  FROM {{database}}.{{raw_lines_table}}
),
parsed AS (
  SELECT *, try(json_parse(line)) AS doc
  FROM cleaned
  -- Blank means nothing but whitespace (spaces, tabs, ...).
  WHERE NOT regexp_like(line, '^\s*$')
),
fields AS (
  SELECT *,
    json_extract_scalar(doc, '$.event_id') AS event_id,
    json_extract_scalar(doc, '$.user_id') AS user_id,
    -- ISO 8601 with or without a zone, or 'YYYY-MM-DD HH:MM:SS[+zone]'; zone-less times are UTC (the session zone).
    coalesce(
      try(from_iso8601_timestamp(json_extract_scalar(doc, '$.event_time'))),
      try(CAST(json_extract_scalar(doc, '$.event_time') AS timestamp(6) with time zone))
    ) AS event_tz
  FROM parsed
)
SELECT
  source_file, year, month, day, hour, line,
  CASE
    WHEN doc IS NULL THEN 'not valid JSON'
    WHEN NOT starts_with(json_format(doc), '{') THEN 'not a JSON object'
    WHEN coalesce(event_id, '') = '' THEN 'missing or empty event_id'
    WHEN coalesce(user_id, '') = '' THEN 'missing or empty user_id'
    WHEN event_tz IS NULL THEN 'missing or unparseable event_time'
  END AS reject_reason,
  event_id,
  -- The instant in UTC, to the microsecond: duplicates are ranked on it, curation stores milliseconds.
  CAST(event_tz AT TIME ZONE 'UTC' AS timestamp(6)) AS event_ts,
  user_id,
  json_extract_scalar(doc, '$.session_id') AS session_id,
  json_extract_scalar(doc, '$.event_type') AS event_type,
  json_extract_scalar(doc, '$.page_url') AS page_url,
  json_extract_scalar(doc, '$.referrer') AS referrer,
  json_extract_scalar(doc, '$.user_agent') AS user_agent,
  json_format(json_extract(doc, '$.properties')) AS properties,
  -- The object's top-level keys, for schema drift; NULL when the line is not a JSON object.
  map_keys(try(CAST(doc AS MAP(VARCHAR, JSON)))) AS top_level_fields
FROM fields
