-- Every non-blank raw line, its fields, and why curation rejects it (reject_reason, NULL for a
-- valid line): the one definition that curate_hour, validation_counts and the rejected-lines
-- view select from. sql/duckdb/setup_02_classified_lines.sql is its local twin (a unit test keeps
-- the reasons equal; test/integration/trino/engineEquivalence.test.ts runs both on Trino and
-- DuckDB over test/fixtures/trickyHours.ts and requires identical results). Created at worker
-- start-up by lake/aws/createAwsBackend.ts ensureAthenaViews.
-- It works line by line, so a caller's filters on the hour and on source_file ("$path") reach
-- the scan: curation and validation read exactly the manifest's files. Which copy of a repeated
-- event_id is kept depends on the lines read, so ranking duplicates is left to the caller.
-- Columns have Hive types (no JSON, no time zone) because Glue describes a view's columns.
-- Only long-standing Presto/Trino functions are used (Athena's docs defer to Trino's list):
-- not from_iso8601_timestamp_nanos or json_query, which Athena's own docs never name.
CREATE OR REPLACE VIEW {{database}}.{{classified_view}} AS
-- The text reader ends lines at LF, CRLF or a lone CR (sql/duckdb splits alike), so no CR
-- reaches here. One UTF-8 byte-order mark at the start of a line is transport noise, not JSON.
-- The reader turns bytes that are not UTF-8 into U+FFFD; DuckDB fails the whole hour on them,
-- so a raw U+FFFD fails every query of the hour here too, naming the file (CAST of a message to
-- integer is the portable way to raise an error: INVALID_CAST_ARGUMENT, a user error).
WITH cleaned AS (
  SELECT "$path" AS source_file, year, month, day, hour,
    CASE
      WHEN strpos(line, chr(65533)) > 0 THEN CAST(CAST(
        'could not read content of file ''' || "$path" || ''' as valid UTF-8 encoded text: a line holds U+FFFD, the mark of bytes a decoder could not read'
        AS integer) AS varchar)
      WHEN starts_with(line, chr(65279)) THEN substr(line, 2)
      ELSE line
    END AS line
  FROM {{database}}.{{raw_lines_table}}
),
parsed AS (
  SELECT *,
    -- A \u escape of a lone UTF-16 surrogate is no character (DuckDB refuses the line, and no
    -- UTF-8 text can hold it), so such a line is not valid JSON here either.
    CASE WHEN NOT (strpos(line, '\u') > 0
      AND regexp_like(line, '(?i)(?<!\\)(?:\\\\)*(?:\\ud[89ab][0-9a-f]{2}(?!\\ud[c-f][0-9a-f]{2})|(?<!\\ud[89ab][0-9a-f]{2})\\ud[c-f][0-9a-f]{2})'))
    THEN try(json_parse(line)) END AS doc
  FROM cleaned
  -- Blank means nothing but whitespace (spaces, tabs, ...).
  WHERE NOT regexp_like(line, '^\s*$')
),
fields AS (
  SELECT *,
    -- f[1..8] = event_id, user_id, event_time, session_id, event_type, page_url, referrer,
    -- user_agent, as DuckDB renders them, then properties. json_extract on the line's text (not
    -- on doc: json_parse sorts keys) copies the value as written: key order, the first of
    -- repeated keys. A JSON string is its text; another scalar, object or array is its minified
    -- JSON with numbers re-spelled (1e2 -> 100.0) and \uD83D\uDE80 pairs turned back into the
    -- character; JSON null or missing is NULL. properties keeps its JSON form (a string stays
    -- quoted, null is 'null'). Only a value holding \uD is searched for pairs.
    CASE WHEN doc IS NOT NULL THEN transform(
      ARRAY[
        json_format(json_extract(line, '$.event_id')), json_format(json_extract(line, '$.user_id')),
        json_format(json_extract(line, '$.event_time')), json_format(json_extract(line, '$.session_id')),
        json_format(json_extract(line, '$.event_type')), json_format(json_extract(line, '$.page_url')),
        json_format(json_extract(line, '$.referrer')), json_format(json_extract(line, '$.user_agent'))
      ],
      j -> CASE
        WHEN starts_with(j, '"') THEN json_extract_scalar(j, '$')
        WHEN j <> 'null' THEN CASE WHEN strpos(j, '\uD') > 0 THEN regexp_replace(j, '(?<!\\)((?:\\\\)*)\\u(D[89AB][0-9A-F]{2})\\u(D[C-F][0-9A-F]{2})',
          x -> x[1] || chr(65536 + (from_base(x[2], 16) - 55296) * 1024 + from_base(x[3], 16) - 56320)) ELSE j END
      END
    ) END AS f,
    CASE WHEN doc IS NOT NULL THEN transform(ARRAY[json_format(json_extract(line, '$.properties'))], j -> CASE WHEN strpos(j, '\uD') > 0 THEN regexp_replace(j, '(?<!\\)((?:\\\\)*)\\u(D[89AB][0-9A-F]{2})\\u(D[C-F][0-9A-F]{2})',
          x -> x[1] || chr(65536 + (from_base(x[2], 16) - 55296) * 1024 + from_base(x[3], 16) - 56320)) ELSE j END)[1] END AS properties
  FROM parsed
),
timed AS (
  SELECT *,
    -- event_time: YYYY-MM-DD, T or a space, HH:MM:SS (valid ranges), an optional fraction of up
    -- to 9 digits (kept to the microsecond, truncated), an optional zone Z or +-HH[[:]MM] within
    -- +-18:00; zone-less is UTC. Anything else is unparseable, as on DuckDB: the same pattern is
    -- in sql/duckdb/setup_02_classified_lines.sql. The instant is the local time read as a
    -- timestamp minus the offset, with no time zone type: Trino has zones only up to +-14:00
    -- (from_iso8601_timestamp fails the whole query on +18:00), and the session's zone plays
    -- no part. from_iso8601_timestamp would also keep milliseconds only and accept other forms.
    CASE WHEN regexp_like(f[3], '^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?(Z|[+-](0[0-9]|1[0-7])(:?[0-5][0-9])?|[+-]18(:?00)?)?$')
      THEN date_add('minute',
        (CASE WHEN starts_with(zone, '-') THEN 1 ELSE -1 END)
          * (CAST(substr(zone, 2, 2) AS integer) * 60 + coalesce(CAST(nullif(substr(replace(zone, ':', ''), 4, 2), '') AS integer), 0)),
        try(CAST(regexp_replace(f[3], '^([0-9-]{10})[T ]([0-9:]{8}(\.[0-9]{1,6})?).*$', '$1 $2') AS timestamp(6))))
    END AS event_ts
  -- The offset: what follows the last + or -, if only digits and colons do ('+00' for Z or none).
  FROM (SELECT *, coalesce(regexp_extract(f[3], '[+-][0-9:]*$'), '+00') AS zone FROM fields)
)
SELECT
  source_file, year, month, day, hour, line,
  CASE
    WHEN doc IS NULL THEN 'not valid JSON'
    WHEN NOT starts_with(json_format(doc), '{') THEN 'not a JSON object'
    WHEN coalesce(f[1], '') = '' THEN 'missing or empty event_id'
    WHEN coalesce(f[2], '') = '' THEN 'missing or empty user_id'
    WHEN event_ts IS NULL THEN 'missing or unparseable event_time'
  END AS reject_reason,
  f[1] AS event_id,
  -- The instant in UTC, to the microsecond: duplicates are ranked on it, curation stores milliseconds.
  event_ts,
  f[2] AS user_id,
  f[4] AS session_id,
  f[5] AS event_type,
  f[6] AS page_url,
  f[7] AS referrer,
  f[8] AS user_agent,
  properties,
  -- The object's top-level keys, for schema drift; NULL when the line is not a JSON object.
  map_keys(try(CAST(doc AS MAP(VARCHAR, JSON)))) AS top_level_fields
FROM timed
