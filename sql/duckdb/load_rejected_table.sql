-- Every raw line curation did not keep, with its reason, where it came from, and the columns
-- the raw table shows for it (user_id, partition), so raw = curated + this table, per any group.
CREATE OR REPLACE TEMP TABLE {{raw_table}}_rejected AS
SELECT
  source_file,
  line_no,
  outcome,
  reason,
  CASE WHEN json_type(doc) = 'OBJECT' THEN doc ->> 'event_id' END AS event_id,
  CASE WHEN json_type(doc) = 'OBJECT' THEN doc ->> 'user_id' END AS user_id,
  regexp_extract(source_file, 'year=([0-9]{4})/', 1) AS year,
  regexp_extract(source_file, 'month=([0-9]{2})/', 1) AS month,
  regexp_extract(source_file, 'day=([0-9]{2})/', 1) AS day,
  regexp_extract(source_file, 'hour=([0-9]{2})/', 1) AS hour,
  line
FROM clickstream_classified_lines($raw_files)
WHERE outcome <> 'curated';
