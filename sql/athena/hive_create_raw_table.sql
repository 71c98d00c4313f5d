-- Hive DDL: the raw JSON table people query. The OpenX JSON SerDe turns a malformed line into a
-- row of NULLs instead of failing the query. Every field is a string until curation types it.
-- Mirrors lake/tableDefinitions.ts rawTableDef and lake/aws/glueTables.ts (a unit test compares them).
CREATE EXTERNAL TABLE IF NOT EXISTS {{database}}.{{raw_table}} (
  event_id string,
  event_time string,
  user_id string,
  session_id string,
  event_type string,
  page_url string,
  referrer string,
  user_agent string,
  properties string
)
PARTITIONED BY (year string, month string, day string, hour string)
ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
WITH SERDEPROPERTIES ('ignore.malformed.json' = 'true')
STORED AS INPUTFORMAT 'org.apache.hadoop.mapred.TextInputFormat'
OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
LOCATION '[[raw_location]]'
TBLPROPERTIES ('classification' = 'json')
