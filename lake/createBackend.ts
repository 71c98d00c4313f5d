/** Picks and wires the backend named by config. The default is the embedded local one. */
import { promises as fs } from 'node:fs';
import type { PipelineConfig } from '../config/config';
import { PipelineError } from '../core/errors';
import { createAwsBackend, ensureAthenaViews } from './aws/createAwsBackend';
import { curatedTableDef, rawTableDef } from './tableDefinitions';
import { DuckDbQueryEngine } from './local/duckdbEngine';
import { createTrinoBackend } from './trino/createTrinoBackend';
import { duckdbStatements } from './local/duckdbStatements';
import { FileCatalog } from './local/fileCatalog';
import { LakeFolderStore } from './local/lakeFolderStore';
import type { LakeBackend } from './ports';

export interface LocalLakeBackend extends LakeBackend {
  store: LakeFolderStore;
  catalog: FileCatalog;
  engine: DuckDbQueryEngine;
}

export async function createLocalBackend(config: PipelineConfig, opts: { createLakeDir?: boolean } = {}): Promise<LocalLakeBackend> {
  if (opts.createLakeDir) await fs.mkdir(config.lake.dir, { recursive: true });
  else await assertLakeDir(config.lake.dir);
  const store = new LakeFolderStore(config.lake.dir);
  const catalog = new FileCatalog(config.lake.catalogDir);
  const engine = await DuckDbQueryEngine.create({ threads: config.engine.threads, memoryMiB: config.engine.memoryMiB, store });
  return { store, catalog, engine, statements: duckdbStatements, close: () => engine.close() };
}

/**
 * A worker must not invent an empty lake: writing the catalog would create the folder, and every
 * hour would then fail as "raw missing" instead of naming the misconfigured path.
 */
async function assertLakeDir(dir: string): Promise<void> {
  const isDir = await fs.stat(dir).then((st) => st.isDirectory(), () => false);
  if (!isDir) {
    throw new PipelineError(
      'StorageUnavailable',
      `lake folder ${dir} is missing or not a folder; create it (npm start and clickstream generate do) or set CLICKSTREAM_LAKE_DIR`,
      { details: { path: dir } },
    );
  }
}

export async function createBackend(config: PipelineConfig, opts: { createLakeDir?: boolean } = {}): Promise<LakeBackend> {
  if (config.backend === 'aws') return createAwsBackend(config);
  if (config.backend === 'trino') return createTrinoBackend(config);
  return createLocalBackend(config, opts);
}

/** Creates the database and both tables if absent (idempotent); run by every worker at start-up. */
export async function ensureTables(backend: LakeBackend, config: PipelineConfig): Promise<void> {
  const { database, raw, curated } = config.tables;
  await backend.catalog.ensureTable(rawTableDef(config.lake, database, raw));
  await backend.catalog.ensureTable(curatedTableDef(config.lake, database, curated));
}

/** Everything a worker needs in the catalog before it takes work: the tables, and on Athena the rejected-lines view. */
export async function bootstrapCatalog(backend: LakeBackend, config: PipelineConfig): Promise<void> {
  await ensureTables(backend, config);
  // Athena and Trino need their views created by a query; the local backend loads its rejected table on demand.
  if (config.backend !== 'local') await ensureAthenaViews(backend, config.tables, config.engine.poll);
}
