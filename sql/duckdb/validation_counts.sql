-- The accounting behind the invariant raw_lines = curated_rows + rejected + duplicates, plus the
-- hour's schema drift, in one pass over raw, read as curation read it ($line_reader); the curated
-- side comes from Parquet footers, counted independently of curation. Duplicates are the kept
-- lines less their distinct event_ids: the number curation's ranking drops, without a window.
-- Drift: the distinct key sets of the JSON objects (few per hour), flattened, less the known fields.
SELECT
  count(*) AS raw_lines,
  count(*) FILTER (WHERE reject_reason IS NOT NULL) AS rejected,
  count(*) FILTER (WHERE reject_reason IS NULL) - count(DISTINCT f[1]) FILTER (WHERE reject_reason IS NULL) AS duplicates,
  list_sort(list_filter(
    list_distinct(flatten(coalesce(list(DISTINCT json_keys(doc)) FILTER (WHERE f IS NOT NULL), []))),
    lambda field: field NOT IN ('event_id', 'event_time', 'user_id', 'session_id', 'event_type', 'page_url', 'referrer', 'user_agent', 'properties')
  )) AS unknown_fields,
  (SELECT coalesce(sum(num_rows), 0) FROM parquet_file_metadata($staging_glob)) AS curated_rows
FROM clickstream_checked_lines($raw_files, $line_reader);
