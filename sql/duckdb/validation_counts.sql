-- The accounting behind the invariant raw_lines = curated_rows + rejected + duplicates, plus the
-- hour's schema drift. One scan of raw; the curated side comes from Parquet footers, counted
-- independently of curation.
WITH lines AS (
  SELECT outcome, doc FROM clickstream_classified_lines($raw_files)
),
counts AS (
  SELECT
    count(*) AS raw_lines,
    count(*) FILTER (WHERE outcome = 'rejected') AS rejected,
    count(*) FILTER (WHERE outcome = 'duplicate') AS duplicates
  FROM lines
),
drift AS (
  SELECT coalesce(list(DISTINCT field ORDER BY field), []) AS unknown_fields
  FROM (SELECT unnest(json_keys(doc)) AS field FROM lines WHERE json_type(doc) = 'OBJECT')
  WHERE field NOT IN ('event_id', 'event_time', 'user_id', 'session_id', 'event_type', 'page_url', 'referrer', 'user_agent', 'properties')
)
SELECT
  counts.raw_lines,
  counts.rejected,
  counts.duplicates,
  drift.unknown_fields,
  (SELECT coalesce(sum(num_rows), 0) FROM parquet_file_metadata($staging_glob)) AS curated_rows
FROM counts, drift;
