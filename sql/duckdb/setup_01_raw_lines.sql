-- Every non-blank line of the given raw files, with its file and 1-based line number.
-- read_text + split (not read_json) so that no line, however malformed, is dropped unseen.
-- Lines end at LF, CRLF or a lone CR, as Hadoop's text reader (Athena's, Trino's) splits them,
-- so no CR is ever part of a line. One UTF-8 byte-order mark at the start of a line is transport
-- noise, not JSON, and is stripped, as sql/athena/create_classified_lines_view.sql strips it (a
-- line's text breaks duplicate ties and is what the rejected-lines table lists).
-- Invalid UTF-8 fails the whole query in read_text. A raw U+FFFD fails it too: Athena's reader
-- turns invalid bytes into U+FFFD, so that character is the only trace it leaves, and both
-- engines must fail the same hours (a \ufffd escape inside a JSON string is fine).
-- This is the exact reader: any file, line numbers, but one thread per file and each file held
-- whole in memory (read_text's one value per file). clickstream_plain_lines below is the fast one.
CREATE OR REPLACE MACRO clickstream_raw_lines(files) AS TABLE
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

-- The rows DuckDB's CSV scanner cuts the files into, one column, split at LF only: every thread
-- scans a part of a file, streaming, where read_text gives each file whole to one thread. It is
-- not a line reader for every file (it has no line numbers, strips a BOM at the start of a file,
-- takes CRLF as one line end, refuses a lone CR, a line holding chr(1), invalid UTF-8 and lines
-- over 2 MB), so it is used only where clickstream_lines_are_plain proves it reads the same lines.
CREATE OR REPLACE MACRO clickstream_csv_rows(files) AS TABLE
SELECT filename AS source_file, line
FROM read_csv(files, columns = {'line': 'VARCHAR'}, delim = chr(1), quote = '', escape = '', header = false,
  auto_detect = false, filename = true);

-- True when every byte of every file is in a row or is the LF that ends it (the last line may
-- lack one): then the rows are the file's lines exactly, as the exact reader splits them. Byte
-- accounting, not a list of known differences, so a quirk nobody listed also sends an hour to the
-- exact reader. read_blob reads only sizes here (its content column is not projected).
-- Errors (a lone CR, chr(1), invalid UTF-8, a long line) fail this query: the caller then reads
-- the hour exactly, which reports invalid UTF-8 in its own words.
CREATE OR REPLACE MACRO clickstream_lines_are_plain(files) AS (
  SELECT coalesce(bool_and(coalesce(file.size = coalesce(rows.bytes, 0) OR file.size = rows.bytes - 1, false)), true)
  FROM read_blob(files) AS file
  LEFT JOIN (
    SELECT source_file, sum(coalesce(strlen(line), 0) + 1) AS bytes FROM clickstream_csv_rows(files) GROUP BY source_file
  ) AS rows ON rows.source_file = file.filename
);

-- The non-blank lines of files clickstream_lines_are_plain accepted, as the exact reader gives
-- them but without line numbers (NULL): BOM stripped, blank lines dropped. A U+FFFD fails the
-- query without a line number; the caller's exact rerun names it.
CREATE OR REPLACE MACRO clickstream_plain_lines(files) AS TABLE
SELECT source_file, NULL::BIGINT AS line_no,
  CASE WHEN contains(line, chr(65533)) THEN error('a line holds U+FFFD: read this hour with the exact reader for the line number')
    WHEN starts_with(line, chr(65279)) THEN line[2:]
    ELSE line
  END AS line
FROM clickstream_csv_rows(files)
WHERE regexp_matches(line, '[^[:space:]]');

-- The lines of the files by the chosen reader: 'exact' (any file, with line numbers) or 'plain'
-- (parallel and streaming, only for files clickstream_lines_are_plain accepted). The reader is a
-- constant in every call, so DuckDB plans only its branch; any other value fails the query.
CREATE OR REPLACE MACRO clickstream_lines(files, reader := 'exact') AS TABLE
SELECT source_file, line_no, line FROM clickstream_raw_lines(files) WHERE reader = 'exact'
UNION ALL
SELECT source_file, line_no, line FROM clickstream_plain_lines(files) WHERE reader = 'plain'
UNION ALL
SELECT NULL, NULL, error(printf('line reader must be ''exact'' or ''plain'', got ''%s''', reader)) WHERE reader NOT IN ('exact', 'plain');
