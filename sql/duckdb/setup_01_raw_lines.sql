-- Every non-blank line of the given raw files, with its file and 1-based line number.
-- read_text + split (not read_json) so that no line, however malformed, is dropped unseen.
-- A CRLF line end and a UTF-8 byte-order mark are transport noise, not part of the JSON.
CREATE OR REPLACE MACRO clickstream_raw_lines(files) AS TABLE
SELECT source_file, line_no, line
FROM (
  SELECT
    source_file,
    unnest(range(1, len(parts) + 1)) AS line_no,
    rtrim(ltrim(unnest(parts), chr(65279)), chr(13)) AS line
  FROM (SELECT filename AS source_file, string_split(content, chr(10)) AS parts FROM read_text(files))
)
-- Blank means nothing but whitespace (spaces, tabs, ...): a line is kept when it has one
-- non-space character. regexp_matches stops at the first one (a '{'), where proving the whole
-- line blank (regexp_full_match) scanned every byte of every line.
WHERE regexp_matches(line, '[^[:space:]]');
