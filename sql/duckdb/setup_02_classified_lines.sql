-- Each non-blank raw line with its outcome: 'curated', 'rejected' (with reject_reason) or
-- 'duplicate' (a later or tied copy of an event_id; the earliest event_time wins, ties broken
-- by the raw line text so the choice never depends on file names or read order).
-- Each line's JSON is parsed into its fields once: json_extract_string with a list of paths is
-- one parse for eight fields, where one `doc ->> 'x'` per use parsed a line ~16 times.
-- f[1..8] = event_id, user_id, event_time, session_id, event_type, page_url, referrer, user_agent;
-- properties stays JSON (json_extract, like `->`), so a string or null value keeps its JSON form.
-- ts is the parsed event_time (NULL when unparseable). doc is kept for the raw and rejected tables.
CREATE OR REPLACE MACRO clickstream_classified_lines(files) AS TABLE
WITH parsed AS (
  SELECT source_file, line_no, line, doc,
    CASE WHEN json_type(doc) = 'OBJECT' THEN
      json_extract_string(doc, ['$.event_id', '$.user_id', '$.event_time', '$.session_id', '$.event_type', '$.page_url', '$.referrer', '$.user_agent'])
    END AS f,
    CASE WHEN json_type(doc) = 'OBJECT' THEN CAST(json_extract(doc, '$.properties') AS VARCHAR) END AS properties
  FROM (SELECT source_file, line_no, line, try(json(line)) AS doc FROM clickstream_raw_lines(files))
),
checked AS (
  SELECT *,
    try_cast(f[3] AS TIMESTAMPTZ) AS ts,
    CASE
      WHEN doc IS NULL THEN 'not valid JSON'
      WHEN f IS NULL THEN 'not a JSON object'
      WHEN coalesce(f[1], '') = '' THEN 'missing or empty event_id'
      WHEN coalesce(f[2], '') = '' THEN 'missing or empty user_id'
      WHEN try_cast(f[3] AS TIMESTAMPTZ) IS NULL THEN 'missing or unparseable event_time'
    END AS reject_reason
  FROM parsed
),
ranked AS (
  SELECT *,
    CASE WHEN reject_reason IS NULL THEN
      row_number() OVER (PARTITION BY CASE WHEN reject_reason IS NULL THEN f[1] END ORDER BY ts, line)
    END AS occurrence
  FROM checked
)
SELECT
  source_file, line_no, line, doc, f, properties, ts,
  CASE WHEN reject_reason IS NOT NULL THEN 'rejected' WHEN occurrence > 1 THEN 'duplicate' ELSE 'curated' END AS outcome,
  coalesce(reject_reason, CASE WHEN occurrence > 1 THEN 'duplicate event_id (an earlier copy was kept)' END) AS reason
FROM ranked;
