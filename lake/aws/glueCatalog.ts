/**
 * Catalog over the Glue Data Catalog: GetDatabase/CreateDatabase, GetTable/CreateTable/UpdateTable,
 * GetPartition/CreatePartition/UpdatePartition/DeletePartition, BatchCreatePartition (100 per call)
 * and GetPartitions (all pages, via the SDK paginator).
 *
 * UpdatePartition replaces a partition's location in one call, so readers see the old files or
 * the new ones, never neither. Tables with partition projection are detected: Athena ignores
 * their Glue partitions, so registering one is a no-op reported as 'unchanged'. Partition writes
 * reuse the table definition they copy for up to a minute (GlueCatalogOptions.tableCacheMs).
 */
import {
  BatchCreatePartitionCommand,
  CreateDatabaseCommand,
  CreatePartitionCommand,
  CreateTableCommand,
  DeletePartitionCommand,
  DeleteTableCommand,
  GetDatabaseCommand,
  GetPartitionCommand,
  GetTableCommand,
  UpdatePartitionCommand,
  UpdateTableCommand,
  paginateGetPartitions,
  type GlueClient,
  type Partition,
  type PartitionInput,
  type Table,
  type TableInput,
} from '@aws-sdk/client-glue';
import { PipelineError } from '../../core/errors';
import type { Catalog, PartitionDef, PartitionUpsert, TableDef, UpsertOutcome, UpsertPartitionOptions } from '../ports';
import { awsCall, awsErrorCode, classifyAwsError, type AwsCallContext } from './classifyAwsError';
import { hasPartitionProjection, rawLinesTableDef, storageDescriptor, tableInput } from './glueTables';

/** BatchCreatePartition accepts at most 100 partitions per request. */
export const PARTITION_BATCH = 100;

export interface GlueCatalogOptions {
  pageSize?: number;
  /**
   * How long a table definition read for partition writes (its storage descriptor, partition keys
   * and projection flag) is reused, in ms; 0 reads it on every write. Default 60 s: a backfill's
   * hours share one GetTable per table per minute, while a scheduled hour (one per table per hour)
   * always reads it. ensureTable and dropTable in this process forget the entry at once.
   */
  tableCacheMs?: number;
  /** Clock for the cache (tests). */
  now?: () => number;
}

/** Default of GlueCatalogOptions.tableCacheMs. */
export const TABLE_CACHE_MS = 60_000;

export class GlueCatalog implements Catalog {
  /** Table definitions read for partition writes, by database.table (see tableCacheMs). */
  private readonly tables = new Map<string, { table: Table; readAt: number }>();
  /** Bumped by every table change made here, so a read that overlapped one is not cached. */
  private tableChanges = 0;

  constructor(
    private readonly glue: GlueClient,
    private readonly opts: GlueCatalogOptions = {},
  ) {}

  /** Creates the database and table, or updates a table whose definition drifted. A raw (JSON) table also gets its `_lines` companion. */
  async ensureTable(def: TableDef): Promise<UpsertOutcome> {
    // Whatever happens below, the next partition write reads the definition afresh.
    this.forgetTable(def.database, def.name);
    try {
      await this.ensureDatabase(def.database);
      const outcome = await this.ensureOneTable(def);
      if (def.format !== 'jsonl') return outcome;
      const companion = await this.ensureOneTable(rawLinesTableDef(def));
      return outcome === 'unchanged' && companion !== 'unchanged' ? 'updated' : outcome;
    } finally {
      this.forgetTable(def.database, def.name); // a GetTable that overlapped the update may have read the old definition
    }
  }

  async getTable(database: string, table: string): Promise<TableDef | undefined> {
    const t = await this.fetchTable(database, table);
    return t ? toTableDef(database, t) : undefined;
  }

  async getPartition(database: string, table: string, values: string[]): Promise<PartitionDef | undefined> {
    const p = await this.fetchPartition(database, table, values);
    if (p) return toPartitionDef(p);
    await this.requireTable(database, table); // a missing table is an error, a missing partition is not
    return undefined;
  }

  /**
   * CreatePartition first, since a new hour is the common case (1 request, plus GetTable when the
   * table is not cached); only on AlreadyExistsException GetPartition, then UpdatePartition if it
   * differs. The update is one call that replaces location and parameters together.
   */
  async upsertPartition(database: string, table: string, partition: PartitionDef, opts: UpsertPartitionOptions = {}): Promise<PartitionUpsert> {
    const { table: t, cached } = await this.partitionTable(database, table);
    try {
      return await this.upsertInto(t, database, table, partition, opts);
    } catch (err) {
      // A cached definition of a table dropped (or recreated) since: forget it, and try once more on a fresh read.
      if (!cached || !(err instanceof PipelineError && err.type === 'EntityNotFound')) throw err;
      this.forgetTable(database, table);
      return this.upsertInto((await this.partitionTable(database, table)).table, database, table, partition, opts);
    }
  }

  private async upsertInto(t: Table, database: string, table: string, partition: PartitionDef, opts: UpsertPartitionOptions): Promise<PartitionUpsert> {
    if (hasPartitionProjection(t.Parameters)) return { outcome: 'unchanged' };
    checkValues(database, table, t, partition.values);
    let result: PartitionUpsert | undefined;
    let written = partition;
    // Twice at most: a partition deleted between our failed create and our read is created on the second pass.
    for (let pass = 0; pass < 2 && !result; pass++) {
      if (await this.createPartition(database, table, partitionInput(t, partition))) {
        result = { outcome: 'created' };
        continue;
      }
      const existing = await this.fetchPartition(database, table, partition.values);
      if (!existing) continue;
      const previous = toPartitionDef(existing);
      written = opts.replace ? opts.replace(previous) : partition;
      if (written.values.join('\u0000') !== partition.values.join('\u0000')) {
        throw new PipelineError('InvalidInput', `a replacement for partition [${partition.values.join(', ')}] of ${database}.${table} must keep its values`);
      }
      if (samePartition(previous, written)) {
        result = { outcome: 'unchanged', previous };
      } else {
        await awsCall(this.ctx('UpdatePartition', database, table, partition.values), () =>
          this.glue.send(
            new UpdatePartitionCommand({
              DatabaseName: database,
              TableName: table,
              PartitionValueList: partition.values,
              PartitionInput: partitionInput(t, written),
            }),
          ),
        );
        result = { outcome: 'updated', previous };
      }
    }
    if (!result) {
      throw new PipelineError(
        'TransientBackend',
        `Glue partition [${partition.values.join(', ')}] of ${database}.${table} existed when we created it and was gone when we read it, twice: another writer is deleting it; retry once that settles`,
        { details: { database, table, values: partition.values } },
      );
    }
    return result;
  }

  async listPartitions(database: string, table: string): Promise<PartitionDef[]> {
    await this.requireTable(database, table);
    const out: PartitionDef[] = [];
    await awsCall(this.ctx('GetPartitions', database, table), async () => {
      const pages = paginateGetPartitions({ client: this.glue, pageSize: this.opts.pageSize }, { DatabaseName: database, TableName: table });
      for await (const page of pages) for (const p of page.Partitions ?? []) out.push(toPartitionDef(p));
    });
    const key = (p: PartitionDef) => p.values.join('\u0000');
    return out.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  }

  /**
   * Registers many partitions (a backfill) with BatchCreatePartition, 100 per call. An existing
   * partition is success; any other per-item error fails with the partitions it affected.
   */
  async createPartitions(database: string, table: string, partitions: PartitionDef[]): Promise<{ created: number; existing: number }> {
    const t = await this.requireTable(database, table);
    if (hasPartitionProjection(t.Parameters)) return { created: 0, existing: 0 };
    let existing = 0;
    for (let i = 0; i < partitions.length; i += PARTITION_BATCH) {
      const batch = partitions.slice(i, i + PARTITION_BATCH);
      for (const p of batch) checkValues(database, table, t, p.values);
      const ctx = this.ctx('BatchCreatePartition', database, table);
      const res = await awsCall(ctx, () =>
        this.glue.send(
          new BatchCreatePartitionCommand({ DatabaseName: database, TableName: table, PartitionInputList: batch.map((p) => partitionInput(t, p)) }),
        ),
      );
      const errors = res.Errors ?? [];
      const failed = errors.filter((e) => e.ErrorDetail?.ErrorCode !== 'AlreadyExistsException');
      existing += errors.length - failed.length;
      if (failed.length > 0) {
        const sample = failed
          .slice(0, 5)
          .map((e) => `[${(e.PartitionValues ?? []).join(', ')}]: ${e.ErrorDetail?.ErrorCode} ${e.ErrorDetail?.ErrorMessage ?? ''}`)
          .join('; ');
        const code = failed[0]!.ErrorDetail?.ErrorCode ?? '';
        throw new PipelineError(
          /AccessDenied/.test(code) ? 'AccessDenied' : /EntityNotFound/.test(code) ? 'EntityNotFound' : /Internal|Throttl|Timeout/.test(code) ? 'TransientBackend' : 'InvalidInput',
          `Glue BatchCreatePartition on ${database}.${table} failed for ${failed.length} of ${batch.length} partitions (${sample}); fix the cause and re-run: existing partitions are kept`,
          { details: { database, table, failed: failed.map((e) => ({ values: e.PartitionValues, code: e.ErrorDetail?.ErrorCode, message: e.ErrorDetail?.ErrorMessage })) } },
        );
      }
    }
    return { created: partitions.length - existing, existing };
  }

  /** Deletes a partition's metadata (never its objects). A missing partition is success: returns false. */
  async deletePartition(database: string, table: string, values: string[]): Promise<boolean> {
    try {
      await this.glue.send(new DeletePartitionCommand({ DatabaseName: database, TableName: table, PartitionValues: values }));
      return true;
    } catch (err) {
      if (awsErrorCode(err) === 'EntityNotFoundException') {
        await this.requireTable(database, table);
        return false;
      }
      throw classifyAwsError(err, this.ctx('DeletePartition', database, table, values));
    }
  }

  /** Drops a table's metadata (never its objects). A missing table is success: returns false. */
  async dropTable(database: string, table: string): Promise<boolean> {
    this.forgetTable(database, table);
    try {
      await this.glue.send(new DeleteTableCommand({ DatabaseName: database, Name: table }));
      return true;
    } catch (err) {
      if (awsErrorCode(err) === 'EntityNotFoundException') return false;
      throw classifyAwsError(err, this.ctx('DeleteTable', database, table));
    }
  }

  async tableExists(database: string, table: string): Promise<boolean> {
    return (await this.fetchTable(database, table)) !== undefined;
  }

  async databaseExists(database: string): Promise<boolean> {
    try {
      await this.glue.send(new GetDatabaseCommand({ Name: database }));
      return true;
    } catch (err) {
      if (awsErrorCode(err) === 'EntityNotFoundException') return false;
      throw classifyAwsError(err, { service: 'Glue', operation: 'GetDatabase', resource: database, setting: 'CLICKSTREAM_DATABASE' });
    }
  }

  private async ensureDatabase(database: string): Promise<void> {
    if (await this.databaseExists(database)) return;
    try {
      await this.glue.send(new CreateDatabaseCommand({ DatabaseInput: { Name: database, Description: 'clickstream-lake: raw and curated clickstream tables' } }));
    } catch (err) {
      if (awsErrorCode(err) === 'AlreadyExistsException') return; // another worker won the race
      throw classifyAwsError(err, { service: 'Glue', operation: 'CreateDatabase', resource: database, setting: 'CLICKSTREAM_DATABASE' });
    }
  }

  private async ensureOneTable(def: TableDef): Promise<UpsertOutcome> {
    const desired = tableInput(def);
    const existing = await this.fetchTable(def.database, def.name);
    if (!existing) {
      try {
        await this.glue.send(new CreateTableCommand({ DatabaseName: def.database, TableInput: desired }));
        return 'created';
      } catch (err) {
        if (awsErrorCode(err) !== 'AlreadyExistsException') {
          throw classifyAwsError(err, this.ctx('CreateTable', def.database, def.name));
        }
        return 'unchanged'; // created concurrently by another worker from the same definition
      }
    }
    if (sameTable(existing, desired)) return 'unchanged';
    // Keep parameters others added (statistics, crawler marks); ours win where they overlap.
    const merged: TableInput = { ...desired, Parameters: { ...(existing.Parameters ?? {}), ...desired.Parameters } };
    await awsCall(this.ctx('UpdateTable', def.database, def.name), () =>
      this.glue.send(new UpdateTableCommand({ DatabaseName: def.database, TableInput: merged })),
    );
    return 'updated';
  }

  private async fetchTable(database: string, table: string): Promise<Table | undefined> {
    try {
      const res = await this.glue.send(new GetTableCommand({ DatabaseName: database, Name: table }));
      return res.Table;
    } catch (err) {
      if (awsErrorCode(err) === 'EntityNotFoundException') return undefined;
      throw classifyAwsError(err, this.ctx('GetTable', database, table));
    }
  }

  private async requireTable(database: string, table: string): Promise<Table> {
    const t = await this.fetchTable(database, table);
    if (!t) {
      throw new PipelineError(
        'EntityNotFound',
        `Glue table ${database}.${table} does not exist; start the worker once (it creates the tables) or check CLICKSTREAM_DATABASE and the table settings`,
        { details: { database, table } },
      );
    }
    return t;
  }

  /**
   * The table a partition write copies its storage descriptor from, reused for tableCacheMs. A
   * table with partition projection is never cached: if projection were turned off, a stale entry
   * would skip registrations Athena then needs. Every other change (columns, SerDe) reaches the
   * partitions written after ensureTable in this process at once, and after another process's
   * change within tableCacheMs, the same as partitions written just before that change.
   */
  private async partitionTable(database: string, table: string): Promise<{ table: Table; cached: boolean }> {
    const key = tableKey(database, table);
    const ttl = this.opts.tableCacheMs ?? TABLE_CACHE_MS;
    const now = (this.opts.now ?? Date.now)();
    const hit = this.tables.get(key);
    if (hit && now - hit.readAt < ttl) return { table: hit.table, cached: true };
    this.tables.delete(key);
    const changes = this.tableChanges;
    const t = await this.requireTable(database, table);
    if (ttl > 0 && changes === this.tableChanges && !hasPartitionProjection(t.Parameters)) this.tables.set(key, { table: t, readAt: now });
    return { table: t, cached: false };
  }

  private forgetTable(database: string, table: string): void {
    this.tables.delete(tableKey(database, table));
    this.tableChanges++;
  }

  private async fetchPartition(database: string, table: string, values: string[]): Promise<Partition | undefined> {
    try {
      const res = await this.glue.send(new GetPartitionCommand({ DatabaseName: database, TableName: table, PartitionValues: values }));
      return res.Partition;
    } catch (err) {
      if (awsErrorCode(err) === 'EntityNotFoundException') return undefined;
      throw classifyAwsError(err, this.ctx('GetPartition', database, table, values));
    }
  }

  /** CreatePartition; false when it already exists (lost a race), which the caller then compares. */
  private async createPartition(database: string, table: string, input: PartitionInput): Promise<boolean> {
    try {
      await this.glue.send(new CreatePartitionCommand({ DatabaseName: database, TableName: table, PartitionInput: input }));
      return true;
    } catch (err) {
      if (awsErrorCode(err) === 'AlreadyExistsException') return false;
      throw classifyAwsError(err, this.ctx('CreatePartition', database, table, input.Values));
    }
  }

  private ctx(operation: string, database: string, table: string, values?: string[]): AwsCallContext {
    return {
      service: 'Glue',
      operation,
      resource: `${database}.${table}${values ? ` [${values.join(', ')}]` : ''}`,
      setting: 'CLICKSTREAM_DATABASE / CLICKSTREAM_RAW_TABLE / CLICKSTREAM_CURATED_TABLE',
    };
  }
}

function tableKey(database: string, table: string): string {
  return `${database}.${table}`;
}

function checkValues(database: string, table: string, t: Table, values: string[]): void {
  const keys = (t.PartitionKeys ?? []).map((k) => k.Name);
  if (values.length !== keys.length) {
    throw new PipelineError(
      'InvalidInput',
      `partition of ${database}.${table} needs ${keys.length} values (${keys.join(', ')}); got ${values.length}`,
    );
  }
}

/** A partition inherits the table's columns and formats; only location and parameters are its own. */
function partitionInput(t: Table, p: PartitionDef): PartitionInput {
  const sd = t.StorageDescriptor ?? {};
  return {
    Values: p.values,
    Parameters: { ...p.parameters },
    StorageDescriptor: {
      Columns: sd.Columns,
      InputFormat: sd.InputFormat,
      OutputFormat: sd.OutputFormat,
      SerdeInfo: sd.SerdeInfo,
      Compressed: sd.Compressed,
      NumberOfBuckets: sd.NumberOfBuckets,
      StoredAsSubDirectories: sd.StoredAsSubDirectories,
      Location: p.location,
    },
  };
}

function toPartitionDef(p: Partition): PartitionDef {
  return { values: p.Values ?? [], location: p.StorageDescriptor?.Location ?? '', parameters: { ...(p.Parameters ?? {}) } };
}

function toTableDef(database: string, t: Table): TableDef {
  const lib = t.StorageDescriptor?.SerdeInfo?.SerializationLibrary ?? '';
  return {
    database,
    name: t.Name ?? '',
    location: t.StorageDescriptor?.Location ?? '',
    format: /parquet/i.test(lib) ? 'parquet' : 'jsonl',
    columns: (t.StorageDescriptor?.Columns ?? []).map((c) => ({ name: c.Name ?? '', type: c.Type ?? '' })),
    partitionKeys: (t.PartitionKeys ?? []).map((k) => k.Name ?? ''),
    parameters: Object.fromEntries(Object.entries(t.Parameters ?? {}).filter(([k]) => k !== 'EXTERNAL')),
  };
}

function samePartition(a: PartitionDef, b: PartitionDef): boolean {
  return a.location === b.location && sameRecord(a.parameters, b.parameters);
}

function sameRecord(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && a[k] === b[k]);
}

/** Compares what we own: columns, partition keys, location, formats, SerDe and our parameters (others may add theirs). */
function sameTable(existing: Table, desired: TableInput): boolean {
  const pick = (sd: StorageDescriptorLike | undefined) => ({
    columns: (sd?.Columns ?? []).map((c) => `${c.Name}:${c.Type}`),
    location: sd?.Location,
    input: sd?.InputFormat,
    output: sd?.OutputFormat,
    serde: sd?.SerdeInfo?.SerializationLibrary,
    serdeParams: sd?.SerdeInfo?.Parameters ?? {},
  });
  const a = pick(existing.StorageDescriptor);
  const b = pick(desired.StorageDescriptor);
  const keys = (x: { PartitionKeys?: { Name?: string; Type?: string }[] }) => (x.PartitionKeys ?? []).map((k) => `${k.Name}:${k.Type}`);
  const params = existing.Parameters ?? {};
  return (
    JSON.stringify([a.columns, a.location, a.input, a.output, a.serde, keys(existing)]) ===
      JSON.stringify([b.columns, b.location, b.input, b.output, b.serde, keys(desired)]) &&
    sameRecord(a.serdeParams, b.serdeParams) &&
    Object.entries(desired.Parameters ?? {}).every(([k, v]) => params[k] === v)
  );
}

type StorageDescriptorLike = ReturnType<typeof storageDescriptor>;
