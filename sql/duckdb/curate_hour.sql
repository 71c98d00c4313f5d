-- Curate one raw hour into one Parquet file in the run's staging folder (replaced if it exists,
-- so a retried attempt overwrites its own partial output). Sorted for deterministic files.
COPY (
  SELECT * FROM clickstream_curated_events($raw_files) ORDER BY event_time, event_id
) TO $output_file (FORMAT parquet, COMPRESSION zstd);
