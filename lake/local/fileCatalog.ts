/**
 * A Glue-shaped catalog persisted as one JSON file per table and per partition.
 * One file per partition means concurrent workflows never read-modify-write a shared file,
 * and every write is temp-file + fsync + rename, so a reader (the CLI) sees the old or the
 * new version, never a torn one. An unreadable file is reported, never silently reset.
 */
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { PipelineError } from '../../core/errors';
import type { Catalog, PartitionDef, PartitionUpsert, TableDef, UpsertOutcome, UpsertPartitionOptions } from '../ports';

const SAFE_SEGMENT = /^[A-Za-z0-9_-]+$/;

export class FileCatalog implements Catalog {
  constructor(readonly dir: string) {}

  async ensureTable(def: TableDef): Promise<UpsertOutcome> {
    const file = this.tableFile(def.database, def.name);
    const existing = await readJson<TableDef>(file);
    if (existing && sameJson(existing, def)) return 'unchanged';
    await writeJsonAtomic(file, def);
    return existing ? 'updated' : 'created';
  }

  async getTable(database: string, table: string): Promise<TableDef | undefined> {
    return readJson<TableDef>(this.tableFile(database, table));
  }

  async getPartition(database: string, table: string, values: string[]): Promise<PartitionDef | undefined> {
    const def = await this.requireTable(database, table);
    return readJson<PartitionDef>(this.partitionFile(def, values));
  }

  /** Same contract as Glue's: one atomic file replace per write, and the partition found is returned with the outcome. */
  async upsertPartition(database: string, table: string, partition: PartitionDef, opts: UpsertPartitionOptions = {}): Promise<PartitionUpsert> {
    const def = await this.requireTable(database, table);
    const file = this.partitionFile(def, partition.values);
    const previous = await readJson<PartitionDef>(file);
    const desired = previous && opts.replace ? opts.replace(previous) : partition;
    if (!sameJson(desired.values, partition.values)) {
      throw new PipelineError('InvalidInput', `a replacement for partition [${partition.values.join(', ')}] of ${database}.${table} must keep its values`);
    }
    if (previous && sameJson(previous, desired)) return { outcome: 'unchanged', previous };
    await writeJsonAtomic(file, desired);
    return previous ? { outcome: 'updated', previous } : { outcome: 'created' };
  }

  async listPartitions(database: string, table: string): Promise<PartitionDef[]> {
    const def = await this.requireTable(database, table);
    const root = path.join(this.tableDir(database, table), 'partitions');
    const files = await findPartitionFiles(root, def.partitionKeys.length);
    const parts: PartitionDef[] = [];
    for (const f of files.sort()) {
      const p = await readJson<PartitionDef>(f);
      if (p) parts.push(p);
    }
    return parts;
  }

  private async requireTable(database: string, table: string): Promise<TableDef> {
    const def = await this.getTable(database, table);
    if (!def) {
      throw new PipelineError(
        'EntityNotFound',
        `table ${database}.${table} is not in the catalog at ${this.dir}; start the worker once (it creates the tables) or check CLICKSTREAM_DATABASE / table settings`,
        { details: { database, table, catalogDir: this.dir } },
      );
    }
    return def;
  }

  private tableDir(database: string, table: string): string {
    for (const [what, v] of [['database', database], ['table', table]] as const) {
      if (!SAFE_SEGMENT.test(v)) throw new PipelineError('InvalidInput', `${what} name '${v}' must match ${SAFE_SEGMENT}`);
    }
    return path.join(this.dir, database, table);
  }

  private tableFile(database: string, table: string): string {
    return path.join(this.tableDir(database, table), 'table.json');
  }

  private partitionFile(def: TableDef, values: string[]): string {
    if (values.length !== def.partitionKeys.length) {
      throw new PipelineError(
        'InvalidInput',
        `partition of ${def.database}.${def.name} needs ${def.partitionKeys.length} values (${def.partitionKeys.join(', ')}); got ${values.length}`,
      );
    }
    const segments = values.map((v, i) => {
      if (!SAFE_SEGMENT.test(v)) throw new PipelineError('InvalidInput', `partition value '${v}' must match ${SAFE_SEGMENT}`);
      return `${def.partitionKeys[i]}=${v}`;
    });
    return path.join(this.tableDir(def.database, def.name), 'partitions', ...segments, 'partition.json');
  }
}

async function readJson<T>(file: string): Promise<T | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new PipelineError('StorageUnavailable', `cannot read catalog file ${file}: ${(err as Error).message}`, {
      cause: err,
      details: { path: file },
    });
  }
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new PipelineError(
      'CatalogCorrupt',
      `catalog file ${file} is not valid JSON (truncated or edited?); restore it from backup or delete it and re-run the affected hours`,
      { cause: err, details: { path: file } },
    );
  }
}

async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  const tmp = `${file}.${randomUUID()}.tmp`;
  try {
    await fs.mkdir(path.dirname(file), { recursive: true });
    const handle = await fs.open(tmp, 'w');
    try {
      await handle.writeFile(JSON.stringify(value, null, 2) + '\n');
      await handle.sync(); // the rename must never publish a file whose bytes are not on disk yet
    } finally {
      await handle.close();
    }
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw new PipelineError('StorageUnavailable', `cannot write catalog file ${file}: ${(err as Error).message}`, {
      cause: err,
      details: { path: file },
    });
  }
}

async function findPartitionFiles(dir: string, depth: number): Promise<string[]> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  if (depth === 0) {
    return entries.some((e) => e.isFile() && e.name === 'partition.json') ? [path.join(dir, 'partition.json')] : [];
  }
  const out: string[] = [];
  for (const e of entries) if (e.isDirectory()) out.push(...(await findPartitionFiles(path.join(dir, e.name), depth - 1)));
  return out;
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
