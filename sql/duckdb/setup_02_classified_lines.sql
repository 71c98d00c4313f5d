-- Each non-blank raw line with its outcome: 'curated', 'rejected' (with reject_reason) or
-- 'duplicate' (a later or tied copy of an event_id; the earliest event_time wins, ties broken
-- by the raw line text so the choice never depends on file names or read order).
CREATE OR REPLACE MACRO clickstream_classified_lines(files) AS TABLE
WITH parsed AS (
  SELECT source_file, line_no, line, try(json(line)) AS doc
  FROM clickstream_raw_lines(files)
),
checked AS (
  SELECT *,
    CASE
      WHEN doc IS NULL THEN 'not valid JSON'
      WHEN json_type(doc) <> 'OBJECT' THEN 'not a JSON object'
      WHEN coalesce(doc ->> 'event_id', '') = '' THEN 'missing or empty event_id'
      WHEN coalesce(doc ->> 'user_id', '') = '' THEN 'missing or empty user_id'
      WHEN try_cast(doc ->> 'event_time' AS TIMESTAMPTZ) IS NULL THEN 'missing or unparseable event_time'
    END AS reject_reason
  FROM parsed
),
ranked AS (
  SELECT *,
    CASE WHEN reject_reason IS NULL THEN
      row_number() OVER (
        PARTITION BY CASE WHEN reject_reason IS NULL THEN doc ->> 'event_id' END
        ORDER BY try_cast(doc ->> 'event_time' AS TIMESTAMPTZ), line
      )
    END AS occurrence
  FROM checked
)
SELECT
  source_file,
  line_no,
  line,
  doc,
  CASE WHEN reject_reason IS NOT NULL THEN 'rejected' WHEN occurrence > 1 THEN 'duplicate' ELSE 'curated' END AS outcome,
  coalesce(reject_reason, CASE WHEN occurrence > 1 THEN 'duplicate event_id (an earlier copy was kept)' END) AS reason
FROM ranked;
