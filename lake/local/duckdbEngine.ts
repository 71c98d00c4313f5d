/**
 * The embedded query engine: DuckDB in-process, behind the same asynchronous protocol as
 * Athena (start -> id, status polled, results, cancel), so the activities' polling path is
 * the one production uses. Each query runs on its own connection.
 *
 * Query state lives in this process. After a worker restart an old query id is unknown and
 * status() throws QueryNotFound (retryable): the activity then resubmits under the same
 * idempotency token, and since outputs are replaced, never appended, the result is the same.
 */
import { randomUUID } from 'node:crypto';
import { promises as fs, type BigIntStats } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  DOUBLE,
  DuckDBInstance,
  LIST,
  VARCHAR,
  listValue,
  type DuckDBConnection,
  type DuckDBResultReader,
  type DuckDBResult,
  type DuckDBType,
  type DuckDBValue,
} from '@duckdb/node-api';
import { PipelineError } from '../../core/errors';
import { parseS3Uri } from '../../core/locations';
import { loadSetupSql } from '../sqlFiles';
import type { QueryEngine, QueryParam, QueryRequest, QueryStatus } from '../ports';
import type { LineReader } from './duckdbStatements';
import type { LakeFolderStore } from './lakeFolderStore';

interface QueryRecord {
  id: string;
  state: QueryStatus['state'];
  submittedAt: number;
  startedAt?: number;
  endedAt?: number;
  bytesScanned: number;
  rows?: number;
  reason?: string;
  results?: Record<string, unknown>[];
  connection?: DuckDBConnection;
  cancelRequested: boolean;
  lineReader?: string;
  /** Resolves when the query leaves QUEUED/RUNNING (whenEnded()). */
  done: Promise<void>;
  markDone: () => void;
}

/**
 * Below this many input bytes an hour is read exactly, without proving it plain: one thread reads
 * a few MiB in milliseconds, less than the proof's extra scan and query cost, so the many tiny hours
 * of a backfill pay nothing for the fast path.
 */
export const PLAIN_READER_MIN_BYTES = 4 * 2 ** 20;

/** Completed queries kept for status/results; older ones are forgotten (their callers have moved on). */
const MAX_REMEMBERED_QUERIES = 2_000;

/** Plain-line proofs kept (an hour's curation and validation both ask; a backfill moves on). */
const MAX_REMEMBERED_PROOFS = 256;

export class DuckDbQueryEngine implements QueryEngine {
  private readonly queries = new Map<string, QueryRecord>();
  private readonly idsByToken = new Map<string, string>();
  /**
   * Whether an hour's files are plain (clickstream_lines_are_plain), by the files' identity: an
   * hour's validation reads the files its curation has just proven, and the proof is a full scan
   * of them (bench B5: two raw scans for validation, against a budget of one). A replaced file has
   * a new inode and a rewritten one a new ctime, so either is a new key and is proven again.
   */
  private readonly plainProofs = new Map<string, boolean>();
  /** In-process DuckDB: a worker crash takes its queries with it. */
  readonly queriesOutliveWorker = false;

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly store: LakeFolderStore,
    private readonly memoryMiB: number | undefined,
  ) {}

  static async create(opts: { threads: number; memoryMiB?: number; store: LakeFolderStore }): Promise<DuckDbQueryEngine> {
    const instance = await DuckDBInstance.create(':memory:', {
      threads: String(opts.threads),
      // A bound, not DuckDB's default of 80% of RAM: an hour of one 1 GB file held ~5.5 GB. Under
      // the bound, the curation's materialized lines, joins and sort spill to temp_directory.
      ...(opts.memoryMiB ? { memory_limit: `${opts.memoryMiB}MiB` } : {}),
      // Spill files per process, never in the caller's working folder (an in-memory database's default, .tmp).
      temp_directory: path.join(os.tmpdir(), `clickstream-duckdb-${process.pid}`),
      // No external file cache: it keeps blocks of every file read (each hour's staging Parquet,
      // read once by validation) and never evicts them. B2 saw the worker's native RSS grow ~48 MB
      // over a year's 8,760 hours while the V8 heap stayed flat. Local files are in the page cache.
      enable_external_file_cache: 'false',
    });
    const setup = await instance.connect();
    try {
      // Zone-less timestamps in raw data are UTC by contract, whatever the worker's locale.
      await setup.run(`SET GLOBAL TimeZone = 'UTC'`); // GLOBAL: every query runs on its own connection
      for (const statement of loadSetupSql('duckdb')) await setup.run(statement);
    } finally {
      setup.closeSync();
    }
    return new DuckDbQueryEngine(instance, opts.store, opts.memoryMiB);
  }

  async start(request: QueryRequest): Promise<string> {
    const existing = this.idsByToken.get(request.idempotencyToken);
    if (existing && this.queries.has(existing)) return existing;

    const id = randomUUID();
    let markDone = () => {};
    const done = new Promise<void>((resolve) => (markDone = resolve));
    const record: QueryRecord = { id, state: 'QUEUED', submittedAt: Date.now(), bytesScanned: 0, cancelRequested: false, done, markDone };
    this.remember(request.idempotencyToken, record);
    // Deliberately not awaited: start() returns the id at once, like StartQueryExecution.
    void (request.readsPages ? this.executeStreamed(record, request) : this.execute(record, request));
    return id;
  }

  async status(queryId: string): Promise<QueryStatus> {
    const q = this.require(queryId);
    const now = Date.now();
    return {
      state: q.state,
      reason: q.reason,
      // DuckDB errors are deterministic (binder, conversion) except I/O, which a retry may outlive.
      retryable: q.state === 'FAILED' ? /^IO Error/.test(q.reason ?? '') : undefined,
      stats: {
        bytesScanned: q.bytesScanned,
        queueMs: (q.startedAt ?? now) - q.submittedAt,
        engineMs: q.startedAt ? (q.endedAt ?? now) - q.startedAt : 0,
        rows: q.rows,
        lineReader: q.lineReader,
      },
    };
  }

  whenEnded(queryId: string): Promise<void> | undefined {
    return this.queries.get(queryId)?.done;
  }

  async results(queryId: string): Promise<Record<string, unknown>[]> {
    const q = this.require(queryId);
    if (q.state !== 'SUCCEEDED') {
      throw new PipelineError('QueryFailed', `results of query ${queryId} requested in state ${q.state}`, { retryable: false });
    }
    return q.results ?? [];
  }

  async cancel(queryId: string): Promise<void> {
    const q = this.queries.get(queryId);
    if (!q || q.state === 'SUCCEEDED' || q.state === 'FAILED' || q.state === 'CANCELLED') return;
    q.cancelRequested = true;
    q.connection?.interrupt();
  }

  /** Runs one statement synchronously on a fresh connection: for ad-hoc reads (CLI, tests), not the pipeline. */
  async runNow(sql: string, params: Record<string, QueryParam> = {}): Promise<Record<string, unknown>[]> {
    return this.withSession((run) => run(sql, params));
  }

  /** Several statements on one connection, so temp tables created by one are visible to the next. */
  async withSession<T>(body: (run: (sql: string, params?: Record<string, QueryParam>) => Promise<Record<string, unknown>[]>) => Promise<T>): Promise<T> {
    const conn = await this.instance.connect();
    try {
      return await body(async (sql, params = {}) => {
        const { values, types } = bindParams(params, (uri) => this.localPath(uri));
        const reader = await conn.runAndReadAll(sql, values, types);
        return reader.getRowObjectsJS() as Record<string, unknown>[];
      });
    } finally {
      conn.closeSync();
    }
  }

  async close(): Promise<void> {
    for (const q of this.queries.values()) q.connection?.interrupt();
    this.instance.closeSync();
  }

  private async execute(record: QueryRecord, request: QueryRequest): Promise<void> {
    try {
      const { values, types, files } = bindParams(request.params, (uri) => this.localPath(uri));
      const inputs = await identify(files);
      record.bytesScanned = inputs.bytes;
      if (request.outputLocation) {
        await fs.mkdir(this.localPath(request.outputLocation), { recursive: true });
      }
      const conn = await this.instance.connect();
      record.connection = conn;
      record.startedAt = Date.now();
      record.state = 'RUNNING';
      if (record.cancelRequested) throw new Error('INTERRUPT: cancelled before start');
      try {
        const reader = await this.runReadingLines(conn, request.sql, values, types, record, inputs.identity);
        record.results = reader.getRowObjectsJS() as Record<string, unknown>[];
        record.rows = reader.currentRowCount;
        record.state = 'SUCCEEDED';
      } finally {
        record.connection = undefined;
        conn.closeSync();
      }
    } catch (err) {
      record.state = record.cancelRequested ? 'CANCELLED' : 'FAILED';
      record.reason = this.explain((err as Error).message);
    } finally {
      record.endedAt = Date.now();
      record.markDone();
    }
  }

  /**
   * Runs a statement; one that reads raw lines (a `line_reader` parameter, see
   * sql/duckdb/setup_01_raw_lines.sql) reads them with the parallel, streaming CSV scanner when
   * every file is proven plain, else with the exact reader. Should the plain run fail (a U+FFFD,
   * say), it runs again with the exact reader, whose outcome and error message are the answer:
   * the fast path can change how fast an hour is read, never what it yields or how it fails.
   * A small hour is read exactly without the proof (PLAIN_READER_MIN_BYTES).
   */
  private async runReadingLines(
    conn: DuckDBConnection,
    sql: string,
    values: Record<string, DuckDBValue>,
    types: Record<string, DuckDBType>,
    record: QueryRecord,
    inputIdentity: string,
  ): Promise<DuckDBResultReader> {
    if (values.line_reader === undefined) return conn.runAndReadAll(sql, values, types);
    const withReader = (reader: LineReader) => {
      record.lineReader = record.lineReader ? `${record.lineReader}, then ${reader}` : reader;
      return conn.runAndReadAll(sql, { ...values, line_reader: reader }, types);
    };
    if (record.bytesScanned < PLAIN_READER_MIN_BYTES || !(await this.provenPlain(conn, values, types, inputIdentity, record))) return withReader('exact');
    try {
      return await withReader('plain');
    } catch (err) {
      if (record.cancelRequested) throw err;
      return withReader('exact');
    }
  }

  /** clickstream_lines_are_plain over $raw_files, answered from plainProofs when these very files were proven before. */
  private async provenPlain(
    conn: DuckDBConnection,
    values: Record<string, DuckDBValue>,
    types: Record<string, DuckDBType>,
    inputIdentity: string,
    record: QueryRecord,
  ): Promise<boolean> {
    const known = this.plainProofs.get(inputIdentity);
    if (known !== undefined) return known;
    const plain = await linesArePlain(conn, values.raw_files, types.raw_files);
    // A proof interrupted by a cancel answered nothing about the files: not remembered.
    if (record.cancelRequested) return plain;
    this.plainProofs.set(inputIdentity, plain);
    if (this.plainProofs.size > MAX_REMEMBERED_PROOFS) this.plainProofs.delete(this.plainProofs.keys().next().value as string);
    return plain;
  }

  // ---- resultPages: rows read page by page (the CLI's ad-hoc queries), streamed, never held whole ----

  /** Streamed results of readsPages queries, each with its connection, open until resultPages() has read them. */
  private readonly streams = new Map<string, { connection: DuckDBConnection; result: DuckDBResult }>();

  /**
   * Pages of a SUCCEEDED query: a streamed one chunk by chunk (DuckDB's vectors of up to 2,048
   * rows, converted to JS one chunk at a time), a materialized one as a single page. A streamed
   * result is read once; leaving the loop early closes its connection, which stops the query.
   */
  async *resultPages(queryId: string): AsyncIterable<Record<string, unknown>[]> {
    const q = this.require(queryId);
    if (q.state !== 'SUCCEEDED') {
      throw new PipelineError('QueryFailed', `rows of query ${queryId} requested in state ${q.state}`, { retryable: false });
    }
    const stream = this.streams.get(queryId);
    if (!stream) {
      if (q.results && q.results.length > 0) yield q.results;
      return;
    }
    this.streams.delete(queryId);
    let rows = 0;
    try {
      for await (const page of stream.result.yieldRowObjectJs()) {
        rows += page.length;
        yield page as Record<string, unknown>[];
      }
      q.rows = rows;
    } catch (err) {
      throw new PipelineError('QueryFailed', `query ${queryId} failed after ${rows} rows were read: ${(err as Error).message}`, { cause: err, retryable: false });
    } finally {
      q.connection = undefined;
      stream.connection.closeSync();
    }
  }

  /**
   * Runs a readsPages statement as a streaming result. It is SUCCEEDED once DuckDB can hand out
   * its first chunk (blocking operators such as GROUP BY and ORDER BY have run by then); the rest
   * is computed while resultPages() reads it, so a later failure is thrown there.
   */
  private async executeStreamed(record: QueryRecord, request: QueryRequest): Promise<void> {
    let conn: DuckDBConnection | undefined;
    try {
      const { values, types } = bindParams(request.params, (uri) => this.localPath(uri));
      conn = await this.instance.connect();
      record.connection = conn;
      record.startedAt = Date.now();
      record.state = 'RUNNING';
      if (record.cancelRequested) throw new Error('INTERRUPT: cancelled before start');
      const result = await conn.stream(request.sql, values, types);
      this.streams.set(record.id, { connection: conn, result });
      record.state = 'SUCCEEDED';
    } catch (err) {
      record.connection = undefined;
      conn?.closeSync();
      record.state = record.cancelRequested ? 'CANCELLED' : 'FAILED';
      record.reason = this.explain((err as Error).message);
    } finally {
      record.endedAt = Date.now();
      record.markDone();
    }
  }

  // ---- end of resultPages ----

  /**
   * DuckDB's message, plus which setting bounds its memory when it ran out: its own advice
   * (SET memory_limit) is not something an operator can do to a worker. The exact line reader
   * holds each file whole, so a large file that is not plain needs about three times its size.
   */
  private explain(message: string): string {
    if (!/^Out of Memory Error/.test(message) || this.memoryMiB === undefined) return message;
    return `${message}\n(this worker's DuckDB memory is CLICKSTREAM_DUCKDB_MEMORY_MIB=${this.memoryMiB}; a raw file that is not plain LF-ended text is read whole, so it needs about three times its size: raise the setting, or write such files with LF line ends)`;
  }

  private localPath(uri: string): string {
    const { bucket, key } = parseS3Uri(uri);
    return this.store.pathOf(bucket, key);
  }

  private require(queryId: string): QueryRecord {
    const q = this.queries.get(queryId);
    if (!q) {
      throw new PipelineError('QueryNotFound', `query ${queryId} is unknown to this engine (the worker restarted?); it will be resubmitted`, {
        details: { queryId },
      });
    }
    return q;
  }

  private remember(token: string, record: QueryRecord): void {
    this.queries.set(record.id, record);
    this.idsByToken.set(token, record.id);
    if (this.queries.size > MAX_REMEMBERED_QUERIES) {
      const oldest = this.queries.keys().next().value as string;
      this.queries.delete(oldest);
      for (const [t, id] of this.idsByToken) if (id === oldest) this.idsByToken.delete(t);
    }
  }
}

/** Whether the CSV scanner reads exactly the files' lines; false also when it cannot read them at all. */
async function linesArePlain(conn: DuckDBConnection, files: DuckDBValue | undefined, type: DuckDBType | undefined): Promise<boolean> {
  if (files === undefined || type === undefined) throw new Error('a statement with $line_reader must bind its files as $raw_files');
  try {
    const result = await conn.runAndReadAll('SELECT clickstream_lines_are_plain($raw_files) AS plain', { raw_files: files }, { raw_files: type });
    return result.getRowObjectsJS()[0]?.plain === true;
  } catch {
    return false; // a lone CR, a line holding chr(1), invalid UTF-8 ...: the exact reader takes the hour
  }
}

/**
 * Binds named parameters with explicit DuckDB types (lists of s3:// URIs become lists of local
 * paths; strings that are s3:// URIs become local paths). Returns the input files for statistics.
 */
function bindParams(
  params: Record<string, QueryParam>,
  toLocal: (uri: string) => string,
): { values: Record<string, DuckDBValue>; types: Record<string, DuckDBType>; files: string[] } {
  const values: Record<string, DuckDBValue> = {};
  const types: Record<string, DuckDBType> = {};
  const files: string[] = [];
  const local = (v: string) => (v.startsWith('s3://') ? toLocal(v) : v);
  for (const [name, v] of Object.entries(params)) {
    if (Array.isArray(v)) {
      const paths = v.map(local);
      files.push(...paths);
      values[name] = listValue(paths);
      types[name] = LIST(VARCHAR);
    } else if (typeof v === 'number') {
      values[name] = v;
      types[name] = DOUBLE;
    } else {
      values[name] = local(v);
      types[name] = VARCHAR;
    }
  }
  return { values, types, files };
}

/**
 * The input files' total size and identity (path, device, inode, size, mtime and ctime of each, in
 * order); fails on a missing file: DuckDB's readers return no rows for a listed path that does not
 * exist, which would silently curate part of an hour.
 */
async function identify(files: string[]): Promise<{ bytes: number; identity: string }> {
  let bytes = 0;
  const parts: string[] = [];
  for (const f of files) {
    let st: BigIntStats;
    try {
      st = await fs.stat(f, { bigint: true });
    } catch (err) {
      throw new Error(`IO Error: input file ${f} is missing (${(err as NodeJS.ErrnoException).code}); it was listed in the verified manifest`);
    }
    bytes += Number(st.size);
    parts.push(`${f}\0${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`);
  }
  return { bytes, identity: parts.join('\n') };
}
