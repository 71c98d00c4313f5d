-- Hive DDL: the raw hour as text lines, one string column per line, for curation and validation
-- (they need each line's text: invalid JSON versus a non-object, and duplicate tie-breaks).
-- Partition projection ('injected': each query names its hour) means no partitions to register.
CREATE EXTERNAL TABLE IF NOT EXISTS {{database}}.{{raw_lines_table}} (
  line string
)
PARTITIONED BY (year string, month string, day string, hour string)
ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.RegexSerDe'
WITH SERDEPROPERTIES ('input.regex' = '^(.*)$')
STORED AS INPUTFORMAT 'org.apache.hadoop.mapred.TextInputFormat'
OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
LOCATION '[[raw_location]]'
TBLPROPERTIES (
  'classification' = 'text',
  'projection.enabled' = 'true',
  'projection.year.type' = 'injected',
  'projection.month.type' = 'injected',
  'projection.day.type' = 'injected',
  'projection.hour.type' = 'injected',
  'storage.location.template' = '[[raw_location]]year=${year}/month=${month}/day=${day}/hour=${hour}/'
)
