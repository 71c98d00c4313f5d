-- Hive DDL: the curated Parquet table readers query. Each hour's partition points at the one run
-- folder that passed validation; publishing swaps that pointer (Glue UpdatePartition).
CREATE EXTERNAL TABLE IF NOT EXISTS {{database}}.{{curated_table}} (
  event_id string,
  event_time timestamp,
  user_id string,
  session_id string,
  event_type string,
  page_url string,
  referrer string,
  user_agent string,
  properties string
)
PARTITIONED BY (year string, month string, day string, hour string)
ROW FORMAT SERDE 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe'
STORED AS INPUTFORMAT 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat'
OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat'
LOCATION '[[curated_location]]'
TBLPROPERTIES ('classification' = 'parquet')
