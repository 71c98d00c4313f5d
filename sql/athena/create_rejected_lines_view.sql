-- Every raw line curation did not keep, with its reason: the documented "rejected lines" view,
-- over the classified-lines view (create_classified_lines_view.sql), which it needs to exist.
-- The _lines table projects its partitions, so queries must name the hour:
--   SELECT * FROM clickstream.clickstream_events_rejected
--   WHERE year = '2024' AND month = '03' AND day = '01' AND hour = '07'
-- Athena reads text files without line numbers; source_file and the line text identify a line.
CREATE OR REPLACE VIEW {{database}}.{{rejected_view}} AS
WITH ranked AS (
  SELECT *,
    -- Duplicates ranked as curate_hour ranks them, per hour and among valid lines only: the
    -- earliest event_time wins, ties broken by the raw line text (a unit test keeps the two equal).
    CASE WHEN reject_reason IS NULL THEN
      row_number() OVER (PARTITION BY year, month, day, hour, reject_reason IS NULL, event_id ORDER BY event_ts, line)
    END AS occurrence
  FROM {{database}}.{{classified_view}}
)
SELECT
  year, month, day, hour, source_file,
  CASE WHEN reject_reason IS NOT NULL THEN 'rejected' ELSE 'duplicate' END AS outcome,
  coalesce(reject_reason, 'duplicate event_id (an earlier copy was kept)') AS reason,
  -- As the raw table shows them, so raw = curated + this view for any grouping (the local
  -- rejected table has the same two columns).
  event_id, user_id,
  line
FROM ranked
WHERE reject_reason IS NOT NULL OR occurrence > 1
