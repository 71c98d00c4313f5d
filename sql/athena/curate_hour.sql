-- Curate one raw hour into the run's staging folder: CTAS with external_location writes Parquet
-- there and registers the staging table that validation reads. Nothing readers see changes here.
-- Parameters, in order: year, month, day, hour, the manifest's files as a JSON array of s3:// URIs.
-- [[staging_location]] is a literal Athena does not accept as a parameter (table properties);
-- lake/aws/athenaStatements.ts fills it only with a location that matches a strict s3:// pattern.
CREATE TABLE {{database}}.{{staging_table}}
WITH (
  format = 'PARQUET',
  write_compression = 'SNAPPY',
  external_location = '[[staging_location]]'
) AS
WITH raw_lines AS (
  -- Exactly the manifest's files of one hour: the partition values prune, "$path" pins the files.
  SELECT "$path" AS source_file, line, year, month, day, hour
  FROM {{database}}.{{raw_lines_table}}
  WHERE year = ? AND month = ? AND day = ? AND hour = ?
    AND contains(CAST(json_parse(?) AS ARRAY(VARCHAR)), "$path")
),
-- classification:begin (this block is identical in curate_hour, validation_counts and create_rejected_lines_view; a unit test checks)
-- A UTF-8 byte-order mark and a trailing CR are transport noise, not part of the JSON.
cleaned AS (
  SELECT source_file, year, month, day, hour,
    regexp_replace(line, '^' || chr(65279) || '|' || chr(13) || '$', '') AS line
  FROM raw_lines
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
    ) AS event_ts
  FROM parsed
),
checked AS (
  SELECT *,
    CASE
      WHEN doc IS NULL THEN 'not valid JSON'
      WHEN NOT starts_with(json_format(doc), '{') THEN 'not a JSON object'
      WHEN coalesce(event_id, '') = '' THEN 'missing or empty event_id'
      WHEN coalesce(user_id, '') = '' THEN 'missing or empty user_id'
      WHEN event_ts IS NULL THEN 'missing or unparseable event_time'
    END AS reject_reason
  FROM fields
),
-- Duplicates: the earliest event_time wins, ties broken by the raw line text, so the choice never
-- depends on file names or read order.
ranked AS (
  SELECT *,
    CASE WHEN reject_reason IS NULL THEN
      row_number() OVER (
        PARTITION BY year, month, day, hour, CASE WHEN reject_reason IS NULL THEN event_id END
        ORDER BY event_ts, line
      )
    END AS occurrence
  FROM checked
),
classified_lines AS (
  SELECT *,
    CASE WHEN reject_reason IS NOT NULL THEN 'rejected' WHEN occurrence > 1 THEN 'duplicate' ELSE 'curated' END AS outcome,
    coalesce(reject_reason, CASE WHEN occurrence > 1 THEN 'duplicate event_id (an earlier copy was kept)' END) AS reason
  FROM ranked
)
-- classification:end
SELECT
  event_id,
  CAST(event_ts AT TIME ZONE 'UTC' AS timestamp(3)) AS event_time,
  user_id,
  json_extract_scalar(doc, '$.session_id') AS session_id,
  json_extract_scalar(doc, '$.event_type') AS event_type,
  json_extract_scalar(doc, '$.page_url') AS page_url,
  json_extract_scalar(doc, '$.referrer') AS referrer,
  json_extract_scalar(doc, '$.user_agent') AS user_agent,
  json_format(json_extract(doc, '$.properties')) AS properties
FROM classified_lines
WHERE outcome = 'curated'
ORDER BY event_time, event_id
