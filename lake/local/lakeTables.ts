/**
 * Loads the lake's tables into a DuckDB session the way readers see them through the catalog:
 * the raw table from registered raw partitions, the curated table from published partitions
 * only, and the rejected-lines table. Used by `clickstream query` and the tests.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { PipelineConfig } from '../../config/config';
import { hourStartMs, parseHour, type Hour } from '../../core/hours';
import { parseS3Uri } from '../../core/locations';
import type { PartitionDef, TableDef } from '../ports';
import { loadSql, sqlIdentifier as identifier } from '../sqlFiles';
import { curatedTableDef } from '../tableDefinitions';
import type { LocalLakeBackend } from '../createBackend';

export interface HourRange {
  from?: Hour;
  to?: Hour;
}

/** Runs `queries` after loading the three tables, in one session; returns each query's rows. */
export async function queryLakeTables(
  backend: LocalLakeBackend,
  config: PipelineConfig,
  queries: string[],
  range: HourRange = {},
): Promise<Record<string, unknown>[][]> {
  const { database, raw, curated } = config.tables;
  const rawFiles = await filesOf(backend, await partitionsInRange(backend, database, raw, range), '.jsonl');
  const curatedFiles = await filesOf(backend, await partitionsInRange(backend, database, curated, range), '.parquet');
  const ids = { raw_table: raw, curated_table: curated };
  const noRaw = rawFiles.length === 0 ? await fs.mkdtemp(path.join(os.tmpdir(), 'clickstream-no-raw-')) : undefined;
  try {
    return await backend.engine.withSession(async (run) => {
      // Empty lists would make the readers fail; an empty table with the right columns is the honest
      // answer. DuckDB binds both line readers of clickstream_lines, and its CSV scanner refuses an
      // empty list, so with no raw partition the raw tables are read from one empty file instead.
      const rawInput = noRaw ? [await emptyFile(noRaw)] : rawFiles;
      await run(loadSql('duckdb', 'load_raw_table', ids), { raw_files: rawInput });
      await run(loadSql('duckdb', 'load_rejected_table', ids), { raw_files: rawInput });
      if (curatedFiles.length > 0) await run(loadSql('duckdb', 'load_curated_table', ids), { curated_files: curatedFiles });
      else await run(emptyTableSql(curatedTableDef(config.lake, database, curated)));
      const results: Record<string, unknown>[][] = [];
      for (const q of queries) results.push(await run(q));
      return results;
    });
  } finally {
    if (noRaw) await fs.rm(noRaw, { recursive: true, force: true });
  }
}

async function emptyFile(dir: string): Promise<string> {
  const file = path.join(dir, 'empty.jsonl');
  await fs.writeFile(file, '');
  return file;
}

/** DuckDB's name for each column type of lake/tableDefinitions.ts. */
const DUCKDB_TYPES: Record<string, string> = { string: 'VARCHAR', timestamp: 'TIMESTAMP' };

/**
 * A table with no rows and the columns readers see once something is published: the definition's
 * columns, then the partition keys as strings (load_curated_table.sql reads them from the Hive
 * path without casting). Rendered from the one definition, not kept as a sql/ file, which would
 * write the schema a second time; every name still passes the strict identifier pattern.
 */
function emptyTableSql(def: TableDef): string {
  const columns = [...def.columns, ...def.partitionKeys.map((name) => ({ name, type: 'string' }))].map(({ name, type }) => {
    const duckdbType = DUCKDB_TYPES[type];
    if (!duckdbType) throw new Error(`column ${name} of ${def.name}: no DuckDB type for '${type}'`);
    return `${identifier(name)} ${duckdbType}`;
  });
  return `CREATE OR REPLACE TEMP TABLE ${identifier(def.name)} (${columns.join(', ')})`;
}

async function partitionsInRange(backend: LocalLakeBackend, database: string, table: string, range: HourRange): Promise<PartitionDef[]> {
  const all = await backend.catalog.listPartitions(database, table);
  return all.filter((p) => {
    const hour = parseHour(`${p.values[0]}-${p.values[1]}-${p.values[2]}T${p.values[3]}`);
    const t = hourStartMs(hour);
    return (!range.from || t >= hourStartMs(range.from)) && (!range.to || t <= hourStartMs(range.to));
  });
}

async function filesOf(backend: LocalLakeBackend, partitions: PartitionDef[], suffix: string): Promise<string[]> {
  const files: string[] = [];
  for (const p of partitions) {
    const { bucket, key } = parseS3Uri(p.location);
    for (const o of await backend.store.list(bucket, key)) if (o.key.endsWith(suffix)) files.push(`s3://${bucket}/${o.key}`);
  }
  return files;
}
