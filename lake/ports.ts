/**
 * The three narrow ports the activities depend on. Each has a local adapter (lake folder,
 * on-disk catalog, DuckDB) and an AWS one (S3, Glue, Athena); the trino backend pairs S3 and Glue
 * with a Trino engine. One setting picks the backend.
 */

/** One stored object. `etag` is S3's ETag, or size+mtime for the lake folder: it changes when content is replaced. */
export interface ObjectInfo {
  key: string;
  size: number;
  etag: string;
}

export interface ObjectStore {
  /** Every object under the prefix (all pages), sorted by key. A missing prefix is an empty list. */
  list(bucket: string, prefix: string): Promise<ObjectInfo[]>;
  /** Deletes exactly these keys; deleting a missing key is success. Returns how many were asked for. */
  deleteKeys(bucket: string, keys: string[]): Promise<number>;
  /** Writes an object whole (replace, never append). Used by the generator and tests, never for raw by the pipeline. */
  put(bucket: string, key: string, body: string | Uint8Array): Promise<void>;
}

export interface ColumnDef {
  name: string;
  type: string;
}

export interface TableDef {
  database: string;
  name: string;
  /** s3://bucket/prefix/ of the table root. */
  location: string;
  format: 'jsonl' | 'parquet';
  columns: ColumnDef[];
  partitionKeys: string[];
  parameters: Record<string, string>;
}

export interface PartitionDef {
  /** In the order of the table's partition keys. */
  values: string[];
  /** s3://bucket/prefix/ holding this partition's objects. */
  location: string;
  /** String-valued, as in Glue: lineage, counts, fingerprints. */
  parameters: Record<string, string>;
}

export type UpsertOutcome = 'created' | 'updated' | 'unchanged';

/** What upsertPartition did, and what it found there: callers need no read of their own before the write. */
export interface PartitionUpsert {
  outcome: UpsertOutcome;
  /** The partition as it was before this call: undefined when it was created (or the table uses partition projection). */
  previous?: PartitionDef;
}

export interface UpsertPartitionOptions {
  /**
   * When the partition exists, what to write instead of `partition`, derived from the one found
   * (same values). Lets one write both swap the location and record what it replaced; returning
   * `previous` itself leaves it alone ('unchanged'). A create writes `partition` as given.
   */
  replace?: (previous: PartitionDef) => PartitionDef;
}

export interface Catalog {
  /** Creates the database and table, or brings an existing table's definition up to date. */
  ensureTable(def: TableDef): Promise<UpsertOutcome>;
  getTable(database: string, table: string): Promise<TableDef | undefined>;
  getPartition(database: string, table: string, values: string[]): Promise<PartitionDef | undefined>;
  /**
   * Creates the partition or atomically replaces its location and parameters in one write (readers
   * see old or new, never neither); an identical partition is left alone. Returns the partition it
   * found with the outcome.
   */
  upsertPartition(database: string, table: string, partition: PartitionDef, opts?: UpsertPartitionOptions): Promise<PartitionUpsert>;
  listPartitions(database: string, table: string): Promise<PartitionDef[]>;
  /** Drops a table's metadata, never its objects; a missing table is success (false). Catalogs that hold staging tables (Glue) have it. */
  dropTable?(database: string, table: string): Promise<boolean>;
}

export type QueryState = 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';

export interface QueryStats {
  /** Bytes the engine read; Athena's DataScannedInBytes, or the input files' size for DuckDB, which reads them whole. */
  bytesScanned: number;
  engineMs: number;
  queueMs: number;
  /** Rows returned or written, when the engine reports it. */
  rows?: number;
  /** How raw lines were read, where the engine chooses: DuckDB's 'plain' or 'exact', or 'plain, then exact' after a plain run failed. */
  lineReader?: string;
}

export interface QueryStatus {
  state: QueryState;
  stats: QueryStats;
  /** Engine's reason for FAILED/CANCELLED. */
  reason?: string;
  /** Athena's error category (1 system, 2 user, 3 other) where known; decides retryability. */
  errorCategory?: number;
  /** True when the engine says the failure is transient (e.g. Athena's Retryable flag). */
  retryable?: boolean;
}

export type QueryParam = string | number | string[];

/** A statement ready for the engine: SQL loaded from sql/, values only as parameters. */
export interface QueryRequest {
  sql: string;
  params: Record<string, QueryParam>;
  /** Same token -> same query id (retried starts reattach). 32-128 chars. */
  idempotencyToken: string;
  /** s3:// folder the statement writes into, if any; the engine prepares it (the lake folder needs it to exist). */
  outputLocation?: string;
  /** True when the caller reads the statement's rows with results(); DDL and CTAS leave it unset (their effect is the result). */
  readsRows?: boolean;
  /** Engine session properties the statement needs (Trino: the Hive catalog's Parquet compression codec). */
  sessionProperties?: Record<string, string>;
  /**
   * True when the caller reads the rows page by page with resultPages() (the CLI's ad-hoc
   * queries): an engine that must choose at start (DuckDB) streams the result instead of holding
   * it whole. Such a query's rows are read with resultPages() only.
   */
  readsPages?: boolean;
}

/** Asynchronous, Athena-shaped protocol: the polling code path is the same for every engine. */
export interface QueryEngine {
  /**
   * False when a query dies with the worker process (the embedded engine). Then every activity
   * attempt that must submit uses a new epoch, so no token is ever submitted twice. True or
   * absent (Athena): a retry reuses the token and the engine returns the surviving query.
   */
  readonly queriesOutliveWorker?: boolean;
  start(request: QueryRequest): Promise<string>;
  status(queryId: string): Promise<QueryStatus>;
  /**
   * For an engine whose queries progress only while a client drives them (Trino): what another
   * worker needs to take the query over, heartbeated with its id. Undefined: nothing to hand over.
   */
  handoff?(queryId: string): string | undefined;
  /** Takes over a query a previous attempt was driving, from its heartbeated handoff, before the first status call. */
  resume?(queryId: string, handoff: string): void;
  /**
   * For an engine that knows when its query ends (the embedded one runs it in-process): resolves
   * when the query leaves QUEUED/RUNNING, so the poller checks status then instead of sleeping past
   * the end. Undefined for an unknown query, and absent where only polling can tell (Athena, Trino).
   */
  whenEnded?(queryId: string): Promise<void> | undefined;
  results(queryId: string): Promise<Record<string, unknown>[]>;
  cancel(queryId: string): Promise<void>;

  /**
   * A query's rows one page at a time, as the engine hands them out (Athena: a GetQueryResults
   * page; Trino: one protocol step's data; DuckDB: one chunk of a streamed result), so a reader
   * never holds the whole result. Call it once status() says SUCCEEDED, or already RUNNING when
   * `pagesWhileRunning` is true: the iterator then drives the query to its end and throws
   * QueryFailed or QueryCancelled if it does not succeed. Leaving the loop early stops the query.
   */
  resultPages?(queryId: string): AsyncIterable<Record<string, unknown>[]>;
  /** True when rows flow while the query runs (Trino: it makes progress only while a client fetches them). */
  readonly pagesWhileRunning?: boolean;
}

/** Builds the engine statements for one dialect from sql/ files; the activities stay dialect-free. */
export interface StatementBuilder {
  curateHour(input: { rawFiles: string[]; stagingLocation: string; idempotencyToken: string; partition: Record<string, string> }): QueryRequest;
  validationCounts(input: { rawFiles: string[]; stagingLocation: string; idempotencyToken: string; partition: Record<string, string> }): QueryRequest;
  /** The catalog table a curation creates over its staging folder (Athena's and Trino's CTAS), if the dialect makes one. */
  stagingTable?(stagingLocation: string): string;
}

/** Everything the activities need, wired once per worker process. */
export interface LakeBackend {
  store: ObjectStore;
  catalog: Catalog;
  engine: QueryEngine;
  statements: StatementBuilder;
  close(): Promise<void>;
}
