-- Every raw line curation did not keep, with its reason: the documented "rejected lines" view.
-- The _lines table projects its partitions, so queries must name the hour:
--   SELECT * FROM clickstream.clickstream_events_rejected
--   WHERE year = '2024' AND month = '03' AND day = '01' AND hour = '07'
-- Athena reads text files without line numbers; source_file and the line text identify a line.
CREATE OR REPLACE VIEW {{database}}.{{rejected_view}} AS
WITH raw_lines AS (
  SELECT "$path" AS source_file, line, year, month, day, hour
  FROM {{database}}.{{raw_lines_table}}
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
SELECT year, month, day, hour, source_file, outcome, reason, line
FROM classified_lines
WHERE outcome <> 'curated'
