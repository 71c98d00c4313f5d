-- The accounting behind the invariant raw_lines = curated_rows + rejected + duplicates, plus the
-- hour's schema drift (top-level fields outside the data contract). One scan of the raw hour,
-- through the classified-lines view (create_classified_lines_view.sql); curated_rows is a
-- count(*) of the staging table, which Athena answers from the Parquet footers without reading
-- the data. unknown_fields is JSON so it comes back as a list, not as text.
-- duplicates is every valid line beyond the first of its event_id, counted without curation's
-- ranking: whichever copy curation kept, it must have kept exactly one per event_id.
-- Parameters, in order: year, month, day, hour, the manifest's files as a JSON array of s3:// URIs.
WITH hour_lines AS (
  -- Exactly the manifest's files of one hour: the partition values prune, source_file ("$path") pins the files.
  SELECT reject_reason, event_id, top_level_fields
  FROM {{database}}.{{classified_view}}
  WHERE year = ? AND month = ? AND day = ? AND hour = ?
    AND contains(CAST(json_parse(?) AS ARRAY(VARCHAR)), source_file)
),
counts AS (
  SELECT
    count(*) AS raw_lines,
    count_if(reject_reason IS NOT NULL) AS rejected,
    count_if(reject_reason IS NULL) - count(DISTINCT CASE WHEN reject_reason IS NULL THEN event_id END) AS duplicates
  FROM hour_lines
),
drift AS (
  SELECT CAST(coalesce(array_sort(array_agg(DISTINCT field)), CAST(ARRAY[] AS ARRAY(VARCHAR))) AS JSON) AS unknown_fields
  FROM hour_lines
  -- A line that is not a JSON object has no fields, and UNNEST of NULL yields no rows.
  CROSS JOIN UNNEST(top_level_fields) AS k (field)
  WHERE field NOT IN ('event_id', 'event_time', 'user_id', 'session_id', 'event_type', 'page_url', 'referrer', 'user_agent', 'properties')
)
SELECT
  counts.raw_lines,
  (SELECT count(*) FROM {{database}}.{{staging_table}}) AS curated_rows,
  counts.rejected,
  counts.duplicates,
  drift.unknown_fields
FROM counts
CROSS JOIN drift
