-- Each non-blank raw line, checked: its fields parsed and, when curation must not keep it, its
-- reject_reason. No duplicate ranking here (clickstream_classified_lines adds it), so the
-- validation counts need no window: duplicates are the valid lines less their distinct event_ids.
-- reader: 'exact' or 'plain', see clickstream_lines in setup_01_raw_lines.sql.
-- Each line's JSON is parsed into its fields once: json_extract_string with a list of paths is
-- one parse for eight fields, where one `doc ->> 'x'` per use parsed a line ~16 times.
-- f[1..8] = event_id, user_id, event_time, session_id, event_type, page_url, referrer, user_agent;
-- properties stays JSON (json_extract, like `->`), so a string or null value keeps its JSON form.
-- doc is the line when it is valid JSON (json_valid parses without writing a copy, as json(line)
-- did), kept for the raw and rejected tables; ts is the parsed event_time (NULL when unparseable).
-- What the rules are, and why both engines agree on them, is in the README's data contract;
-- sql/athena/create_classified_lines_view.sql is the twin, and
-- test/integration/trino/engineEquivalence.test.ts runs both over test/fixtures/trickyHours.ts.
CREATE OR REPLACE MACRO clickstream_checked_lines(files, reader := 'exact') AS TABLE
WITH documents AS (
  -- doc: the line when it is strict JSON, else NULL.
  SELECT source_file, line_no, line,
    -- Strict JSON (RFC 8259), as Trino's json_parse reads it: DuckDB's parser also takes
    -- trailing commas and NaN/Infinity (any case), so a line that may hold one is checked with
    -- its strings blanked out: a comma before a closing bracket, or a letter outside
    -- true/false/null and exponents, makes it not valid JSON. The first test is four patterns
    -- that each start with one literal byte, which RE2 finds by memchr (one pattern with the
    -- same alternatives cost two thirds of a JSON parse per line).
    CASE WHEN (regexp_matches(line, ',[[:space:]]*([]}]|-?[NnIi])') OR regexp_matches(line, ':[[:space:]]*-?[NnIi]')
        OR regexp_matches(line, '\[[[:space:]]*-?[NnIi]') OR regexp_matches(line, '^[[:space:]]*-?[NnIi]'))
      AND regexp_matches(
        regexp_replace(regexp_replace(line, '"(?:[^"\\]|\\.)*"', '""', 'g'), 'true|false|null', '', 'g'),
        ',[[:space:]]*[]}]|[A-DF-Za-df-z]')
    THEN NULL WHEN json_valid(line) THEN line END AS doc
  FROM clickstream_lines(files, reader)
),
parsed AS (
  SELECT source_file, line_no, line, doc,
    CASE WHEN is_object THEN
      json_extract_string(doc, ['$.event_id', '$.user_id', '$.event_time', '$.session_id', '$.event_type', '$.page_url', '$.referrer', '$.user_agent'])
    END AS f,
    CASE WHEN is_object THEN CAST(json_extract(doc, '$.properties') AS VARCHAR) END AS properties
  FROM (
    -- A valid JSON text is an object exactly when its first character after JSON whitespace (a
    -- line holds no CR or LF) is '{': one anchored match instead of a parse (json_type).
    SELECT *, regexp_matches(doc, '^[ \t]*[{]') AS is_object FROM documents
  )
),
timed AS (
  SELECT *,
    -- event_time: YYYY-MM-DD, T or a space, HH:MM:SS (valid ranges), an optional fraction of up
    -- to 9 digits (kept to the microsecond, truncated), an optional zone Z or +-HH[[:]MM] within
    -- +-18:00; zone-less is UTC (the engine's TimeZone). Anything else is unparseable, on both
    -- engines alike: the same pattern is in sql/athena/create_classified_lines_view.sql.
    -- The pattern goes first also because of DuckDB itself: after a value with a named zone
    -- ('... Europe/Paris') a vectorized cast reads the zone-less values that follow in that zone.
    CASE WHEN regexp_full_match(f[3], '^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?(Z|[+-](0[0-9]|1[0-7])(:?[0-5][0-9])?|[+-]18(:?00)?)?$')
      THEN try_cast(f[3] AS TIMESTAMPTZ)
    END AS ts
  FROM parsed
)
SELECT *,
  CASE
    WHEN doc IS NULL THEN 'not valid JSON'
    WHEN f IS NULL THEN 'not a JSON object'
    WHEN coalesce(f[1], '') = '' THEN 'missing or empty event_id'
    WHEN coalesce(f[2], '') = '' THEN 'missing or empty user_id'
    WHEN ts IS NULL THEN 'missing or unparseable event_time'
  END AS reject_reason
FROM timed;

-- Each non-blank raw line with its outcome: 'curated', 'rejected' (with reject_reason) or
-- 'duplicate' (a later or tied copy of an event_id; the earliest event_time wins, ties broken
-- by the raw line text so the choice never depends on file names or read order; among copies
-- with the same text, the first in file and line order is the one called curated, so the
-- rejected table lists the same line numbers every time). For the raw and rejected tables and for
-- tests; curation ranks only the lines it keeps (setup_03).
CREATE OR REPLACE MACRO clickstream_classified_lines(files, reader := 'exact') AS TABLE
SELECT
  source_file, line_no, line, doc, f, properties, ts,
  CASE WHEN reject_reason IS NOT NULL THEN 'rejected' WHEN occurrence > 1 THEN 'duplicate' ELSE 'curated' END AS outcome,
  coalesce(reject_reason, CASE WHEN occurrence > 1 THEN 'duplicate event_id (an earlier copy was kept)' END) AS reason
FROM (
  SELECT *,
    CASE WHEN reject_reason IS NULL THEN
      row_number() OVER (PARTITION BY CASE WHEN reject_reason IS NULL THEN f[1] END ORDER BY ts, line, source_file, line_no)
    END AS occurrence
  FROM clickstream_checked_lines(files, reader)
);
