-- Curate one raw hour into the run's staging folder: CTAS with external_location writes Parquet
-- there and registers the staging table that validation reads. Nothing readers see changes here.
-- What a line's fields are and why it is rejected: the classified-lines view
-- (create_classified_lines_view.sql). Here: pin the hour's files, keep one copy per event_id.
-- Parameters, in order: year, month, day, hour, the manifest's files as a JSON array of s3:// URIs.
-- [[staging_location]] is a literal Athena does not accept as a parameter (table properties);
-- lake/aws/athenaStatements.ts fills it only with a location that matches a strict s3:// pattern.
-- Runs on Athena and on Trino alike; the dialect_ctas_properties placeholder is the one difference, how Snappy
-- compression is asked for (lake/aws/athenaSql.ts ENGINE_DIALECTS: a table property on Athena,
-- a session property on Trino, whose Hive connector refuses write_compression).
CREATE TABLE {{database}}.{{staging_table}}
WITH (
  format = 'PARQUET',<<dialect_ctas_properties>>
  external_location = '[[staging_location]]'
) AS
WITH valid_lines AS (
  -- Exactly the manifest's files of one hour: the partition values prune, source_file ("$path") pins the files.
  SELECT *
  FROM {{database}}.{{classified_view}}
  WHERE year = ? AND month = ? AND day = ? AND hour = ?
    AND contains(CAST(json_parse(?) AS ARRAY(VARCHAR)), source_file)
    AND reject_reason IS NULL
),
ranked AS (
  SELECT *,
    -- Of the copies of an event_id the earliest event_time wins, ties broken by the raw line text,
    -- so the choice never depends on file names or read order (the rejected-lines view ranks alike).
    row_number() OVER (PARTITION BY event_id ORDER BY event_ts, line) AS occurrence
  FROM valid_lines
)
SELECT
  event_id,
  -- Stored to the millisecond, truncated (a bare CAST rounds: 07:59:59.9996 would become 08:00),
  -- as DuckDB stores it; Athena's Hive timestamp holds milliseconds.
  CAST(date_trunc('millisecond', event_ts) AS timestamp(3)) AS event_time,
  user_id,
  session_id,
  event_type,
  page_url,
  referrer,
  user_agent,
  properties
FROM ranked
WHERE occurrence = 1
ORDER BY event_time, event_id
