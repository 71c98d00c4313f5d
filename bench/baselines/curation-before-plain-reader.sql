-- B4's in-run baseline: the DuckDB curation as it was before the plain line reader (commit 4c213b0's
-- parent), macros renamed before_*. Not used by the pipeline; bench/b4-curation.ts runs it beside
-- today's statement on the same bytes so the before/after comes from one run.
-- Every non-blank line of the given raw files, with its file and 1-based line number.
-- read_text + split (not read_json) so that no line, however malformed, is dropped unseen.
-- Lines end at LF, CRLF or a lone CR, as Hadoop's text reader (Athena's, Trino's) splits them,
-- so no CR is ever part of a line. One UTF-8 byte-order mark at the start of a line is transport
-- noise, not JSON, and is stripped, as sql/athena/create_classified_lines_view.sql strips it (a
-- line's text breaks duplicate ties and is what the rejected-lines table lists).
-- Invalid UTF-8 fails the whole query in read_text. A raw U+FFFD fails it too: Athena's reader
-- turns invalid bytes into U+FFFD, so that character is the only trace it leaves, and both
-- engines must fail the same hours (a \ufffd escape inside a JSON string is fine).
CREATE OR REPLACE MACRO before_raw_lines(files) AS TABLE
SELECT source_file, line_no, line
FROM (
  SELECT source_file, line_no,
    CASE WHEN contains(unmarked, chr(65533))
      THEN error(printf('could not read content of file ''%s'' as valid UTF-8 encoded text: line %d holds U+FFFD, the mark of bytes a decoder could not read', source_file, line_no))
      ELSE unmarked
    END AS line
  FROM (
    SELECT source_file, line_no, CASE WHEN starts_with(part, chr(65279)) THEN part[2:] ELSE part END AS unmarked
    FROM (
      SELECT source_file, unnest(range(1, len(parts) + 1)) AS line_no, unnest(parts) AS part
      FROM (
        SELECT filename AS source_file, string_split(regexp_replace(content, '\r\n?', chr(10), 'g'), chr(10)) AS parts
        FROM read_text(files)
      )
    )
  )
)
-- Blank means nothing but whitespace (spaces, tabs, ...): a line is kept when it has one
-- non-space character. regexp_matches stops at the first one (a '{'), where proving the whole
-- line blank (regexp_full_match) scanned every byte of every line.
WHERE regexp_matches(line, '[^[:space:]]');

-- Each non-blank raw line with its outcome: 'curated', 'rejected' (with reject_reason) or
-- 'duplicate' (a later or tied copy of an event_id; the earliest event_time wins, ties broken
-- by the raw line text so the choice never depends on file names or read order).
-- Each line's JSON is parsed into its fields once: json_extract_string with a list of paths is
-- one parse for eight fields, where one `doc ->> 'x'` per use parsed a line ~16 times.
-- f[1..8] = event_id, user_id, event_time, session_id, event_type, page_url, referrer, user_agent;
-- properties stays JSON (json_extract, like `->`), so a string or null value keeps its JSON form.
-- ts is the parsed event_time (NULL when unparseable). doc is kept for the raw and rejected tables.
-- What the rules are, and why both engines agree on them, is in the README's data contract;
-- sql/athena/create_classified_lines_view.sql is the twin, and
-- test/integration/trino/engineEquivalence.test.ts runs both over test/fixtures/trickyHours.ts.
CREATE OR REPLACE MACRO before_classified_lines(files) AS TABLE
WITH parsed AS (
  SELECT source_file, line_no, line, doc,
    CASE WHEN json_type(doc) = 'OBJECT' THEN
      json_extract_string(doc, ['$.event_id', '$.user_id', '$.event_time', '$.session_id', '$.event_type', '$.page_url', '$.referrer', '$.user_agent'])
    END AS f,
    CASE WHEN json_type(doc) = 'OBJECT' THEN CAST(json_extract(doc, '$.properties') AS VARCHAR) END AS properties
  FROM (
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
      THEN NULL ELSE try(json(line)) END AS doc
    FROM before_raw_lines(files)
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
),
checked AS (
  SELECT *,
    CASE
      WHEN doc IS NULL THEN 'not valid JSON'
      WHEN f IS NULL THEN 'not a JSON object'
      WHEN coalesce(f[1], '') = '' THEN 'missing or empty event_id'
      WHEN coalesce(f[2], '') = '' THEN 'missing or empty user_id'
      WHEN ts IS NULL THEN 'missing or unparseable event_time'
    END AS reject_reason
  FROM timed
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

-- The curated, typed rows of the given raw files: one per event_id, event_time in UTC, stored to
-- the millisecond (truncated, never rounded: an event never moves into the next second or hour),
-- the precision Athena's Hive timestamp holds; duplicates were ranked on the microsecond.
-- Reads the fields before_classified_lines parsed once (f, ts, properties): no second parse.
CREATE OR REPLACE MACRO before_curated_events(files) AS TABLE
SELECT
  f[1] AS event_id,
  date_trunc('millisecond', ts AT TIME ZONE 'UTC') AS event_time,
  f[2] AS user_id,
  f[4] AS session_id,
  f[5] AS event_type,
  f[6] AS page_url,
  f[7] AS referrer,
  f[8] AS user_agent,
  properties
FROM before_classified_lines(files)
WHERE outcome = 'curated';

