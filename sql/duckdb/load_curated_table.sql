-- The curated table as readers see it: only the Parquet files of published partitions
-- (the catalog's locations), partition columns from the Hive path, kept as strings.
CREATE OR REPLACE TEMP TABLE {{curated_table}} AS
SELECT * EXCLUDE (run)
FROM read_parquet($curated_files, hive_partitioning = true, hive_types_autocast = false);
