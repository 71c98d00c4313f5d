-- Every non-blank line of the given raw files, with its file and 1-based line number.
-- read_text + split (not read_json) so that no line, however malformed, is dropped unseen.
-- Lines end at LF, CRLF or a lone CR, as Hadoop's text reader (Athena's, Trino's) splits them,
-- so no CR is ever part of a line. One UTF-8 byte-order mark at the start of a line is transport
-- noise, not JSON, and is stripped, as sql/athena/create_classified_lines_view.sql strips it (a
-- line's text breaks duplicate ties and is what the rejected-lines table lists).
-- Invalid UTF-8 fails the whole query in read_text. A raw U+FFFD fails it too: Athena's reader
-- turns invalid bytes into U+FFFD, so that character is the only trace it leaves, and both
-- engines must fail the same hours (a \ufffd escape inside a JSON string is fine).
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
