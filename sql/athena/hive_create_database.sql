-- Hive DDL (Athena runs it on its Hive engine, not Trino). The worker creates the same database
-- through Glue's API (lake/aws/glueCatalog.ts); this file is the documented manual bootstrap.
CREATE DATABASE IF NOT EXISTS {{database}}
