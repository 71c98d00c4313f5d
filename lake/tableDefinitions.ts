/**
 * The two tables' definitions, for every catalog: the one place their columns and partition keys
 * are written. Everything else that states the schema is rendered from these: Glue's TableInput
 * and the Hive DDL (lake/aws/glueTables.ts, hiveDdl.ts) and the local query's empty curated table
 * (lake/local/lakeTables.ts). The columns follow the data contract in the README.
 */
import { PARTITION_KEYS } from '../core/hours';
import { tableRoot, type LakeLayout } from '../core/locations';
import type { TableDef } from './ports';

const EVENT_COLUMNS = [
  'event_id',
  'event_time',
  'user_id',
  'session_id',
  'event_type',
  'page_url',
  'referrer',
  'user_agent',
  'properties',
] as const;

export function rawTableDef(layout: LakeLayout, database: string, table: string): TableDef {
  return {
    database,
    name: table,
    location: tableRoot(layout, 'raw'),
    format: 'jsonl',
    // Raw is read as text by the JSON SerDe: every field a string until curation types it.
    columns: EVENT_COLUMNS.map((name) => ({ name, type: 'string' })),
    partitionKeys: [...PARTITION_KEYS],
    parameters: { classification: 'json' },
  };
}

export function curatedTableDef(layout: LakeLayout, database: string, table: string): TableDef {
  return {
    database,
    name: table,
    location: tableRoot(layout, 'curated'),
    format: 'parquet',
    columns: EVENT_COLUMNS.map((name) => ({ name, type: name === 'event_time' ? 'timestamp' : 'string' })),
    partitionKeys: [...PARTITION_KEYS],
    parameters: { classification: 'parquet' },
  };
}
