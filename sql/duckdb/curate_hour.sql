-- Curate one raw hour into one Parquet file in the run's staging folder (replaced if it exists,
-- so a retried attempt overwrites its own partial output). Sorted for deterministic files.
-- $line_reader: 'plain' (parallel, streaming) when the engine proved the files plain, else 'exact'.
COPY (
  SELECT * FROM clickstream_curated_events($raw_files, $line_reader) ORDER BY event_time, event_id
) TO $output_file (FORMAT parquet, COMPRESSION zstd);
