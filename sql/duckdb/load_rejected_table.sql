-- Every raw line curation did not keep, with its reason: the documented "rejected lines" table.
CREATE OR REPLACE TEMP TABLE {{raw_table}}_rejected AS
SELECT source_file, line_no, outcome, reason, line
FROM clickstream_classified_lines($raw_files)
WHERE outcome <> 'curated';
