-- The curated table before anything is published: no rows, the published schema.
CREATE OR REPLACE TEMP TABLE {{curated_table}} (
  event_id VARCHAR, event_time TIMESTAMP, user_id VARCHAR, session_id VARCHAR, event_type VARCHAR,
  page_url VARCHAR, referrer VARCHAR, user_agent VARCHAR, properties VARCHAR,
  year VARCHAR, month VARCHAR, day VARCHAR, hour VARCHAR
);
