-- The accounting behind the invariant raw_lines = curated_rows + rejected + duplicates.
-- One scan of raw; the curated side comes from Parquet footers, counted independently of curation.
SELECT
  count(*) AS raw_lines,
  count(*) FILTER (WHERE outcome = 'rejected') AS rejected,
  count(*) FILTER (WHERE outcome = 'duplicate') AS duplicates,
  (SELECT coalesce(sum(num_rows), 0) FROM parquet_file_metadata($staging_glob)) AS curated_rows
FROM clickstream_classified_lines($raw_files);
