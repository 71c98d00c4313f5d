-- PROPOSED (B4): as sql/duckdb/setup_01_raw_lines.sql, but the blank-line test looks for one
-- non-space character (regexp_matches stops at the first '{') instead of proving that the whole
-- line is spaces (regexp_full_match over the line). Same lines kept: a line is blank exactly when
-- it has no non-space character.
CREATE OR REPLACE MACRO clickstream_raw_lines(files) AS TABLE
SELECT source_file, line_no, line
FROM (
  SELECT
    source_file,
    unnest(range(1, len(parts) + 1)) AS line_no,
    rtrim(ltrim(unnest(parts), chr(65279)), chr(13)) AS line
  FROM (SELECT filename AS source_file, string_split(content, chr(10)) AS parts FROM read_text(files))
)
WHERE regexp_matches(line, '[^[:space:]]');
