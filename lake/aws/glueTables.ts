/**
 * Glue table definitions for the Athena dialect, built from lake/tableDefinitions.ts. The SerDe
 * settings are written here only: GlueCatalog.ensureTable sends tableInput(), and the Hive DDL
 * for a manual bootstrap (hiveDdl.ts, `clickstream ddl`) is rendered from the same tableInput().
 *
 * Raw hours get two tables over the same objects:
 * - the raw table (OpenX JSON SerDe, malformed JSON gives NULL columns, never an error) for people;
 * - its `_lines` companion (one string column per line, partition projection) for the pipeline,
 *   whose curation needs each line's text: to tell invalid JSON from a non-object, and to break
 *   duplicate ties by the raw line text exactly as the local engine does.
 */
import { createHash } from 'node:crypto';
import type { StorageDescriptor, TableInput } from '@aws-sdk/client-glue';
import type { TableDef } from '../ports';

const TEXT_INPUT = 'org.apache.hadoop.mapred.TextInputFormat';
const TEXT_OUTPUT = 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat';

export const SERDES = {
  json: {
    SerializationLibrary: 'org.openx.data.jsonserde.JsonSerDe',
    // A line that is not JSON becomes a row of NULLs instead of failing the whole query.
    Parameters: { 'ignore.malformed.json': 'true' },
    InputFormat: TEXT_INPUT,
    OutputFormat: TEXT_OUTPUT,
  },
  parquet: {
    SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
    Parameters: { 'serialization.format': '1' },
    InputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
    OutputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
  },
  lines: {
    SerializationLibrary: 'org.apache.hadoop.hive.serde2.RegexSerDe',
    // The whole line, whatever it holds, as the one column `line`.
    Parameters: { 'input.regex': '^(.*)$' },
    InputFormat: TEXT_INPUT,
    OutputFormat: TEXT_OUTPUT,
  },
} as const;

export type SerdeKind = keyof typeof SERDES;

function serdeOf(def: TableDef): SerdeKind {
  if (def.parameters['clickstream.serde'] === 'lines') return 'lines';
  return def.format === 'parquet' ? 'parquet' : 'json';
}

export function storageDescriptor(def: TableDef, location = def.location): StorageDescriptor {
  const s = SERDES[serdeOf(def)];
  return {
    Columns: def.columns.map((c) => ({ Name: c.name, Type: c.type })),
    Location: location,
    InputFormat: s.InputFormat,
    OutputFormat: s.OutputFormat,
    Compressed: false,
    NumberOfBuckets: -1,
    SerdeInfo: { SerializationLibrary: s.SerializationLibrary, Parameters: { ...s.Parameters } },
    StoredAsSubDirectories: false,
  };
}

export function tableInput(def: TableDef): TableInput {
  return {
    Name: def.name,
    TableType: 'EXTERNAL_TABLE',
    Parameters: { EXTERNAL: 'TRUE', ...def.parameters },
    PartitionKeys: def.partitionKeys.map((k) => ({ Name: k, Type: 'string' })),
    StorageDescriptor: storageDescriptor(def),
  };
}

/** '<raw>_lines', kept within the 128-character identifier pattern of lake/sqlFiles.ts. */
export function rawLinesTableName(rawTable: string): string {
  return `${rawTable.slice(0, 122)}_lines`;
}

/** '<raw>_classified': the Athena view of classified raw lines that curation, validation and the rejected view select from. */
export function classifiedLinesViewName(rawTable: string): string {
  return `${rawTable.slice(0, 117)}_classified`;
}

/** '<raw>_rejected': the Athena view of every raw line curation did not keep, with its reason. */
export function rejectedLinesViewName(rawTable: string): string {
  return `${rawTable.slice(0, 119)}_rejected`;
}

/** The raw table's `_lines` companion: same location and partition keys, projected partitions. */
export function rawLinesTableDef(raw: TableDef): TableDef {
  const template = `${raw.location}${raw.partitionKeys.map((k) => `${k}=\${${k}}`).join('/')}/`;
  const projection: Record<string, string> = { 'projection.enabled': 'true', 'storage.location.template': template };
  // 'injected': the query supplies each value (the pipeline always reads one hour), so there is no range to maintain.
  for (const k of raw.partitionKeys) projection[`projection.${k}.type`] = 'injected';
  return {
    ...raw,
    name: rawLinesTableName(raw.name),
    columns: [{ name: 'line', type: 'string' }],
    parameters: { classification: 'text', 'clickstream.serde': 'lines', ...projection },
  };
}

/** True when Athena resolves this table's partitions by projection and ignores Glue partitions. */
export function hasPartitionProjection(parameters: Record<string, string> | undefined): boolean {
  return (parameters?.['projection.enabled'] ?? '').toLowerCase() === 'true';
}

/**
 * The CTAS staging table of one run's staging folder. Derived from the location (not the query
 * token) so curation, validation and publish all name the same table without passing it around.
 */
export function stagingTableName(curatedTable: string, stagingLocation: string): string {
  const hash = createHash('sha256').update(stagingLocation).digest('hex').slice(0, 16);
  return `${curatedTable.slice(0, 100)}_stg_${hash}`;
}
