/**
 * `clickstream query`: ad-hoc SQL through the backend's query engine (DuckDB, Athena or Trino)
 * with the protocol the activities use: start, status polled with config.engine.poll's backoff,
 * then the rows page by page (QueryEngine.resultPages), each page printed as it arrives, so a
 * result of any size streams through without being held whole.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { pollDelayMs, type PipelineConfig, type PollPolicy } from '../../config/config';
import { PipelineError } from '../../core/errors';
import { createBackend, createLocalBackend, type LocalLakeBackend } from '../../lake/createBackend';
import { queryLakeTables, type HourRange } from '../../lake/local/lakeTables';
import type { LakeBackend, QueryEngine, QueryStatus } from '../../lake/ports';
import { hourArg } from '../parseArgs';
import { createRowWriter, queryFormatArg, type RowWriter } from '../queryOutput';

export interface QueryCommandOptions {
  from?: string;
  to?: string;
  format?: string;
  json?: boolean;
}

export interface QueryIo {
  /** Writes to stdout; resolves once the text is handed over, so a slow reader slows the fetching. */
  write(text: string): Promise<void>;
  /** Hints and the summary go to stderr: stdout holds only the rows. */
  err(line: string): void;
  /** Aborted on Ctrl-C or SIGTERM: the query is stopped. */
  signal?: AbortSignal;
}

export interface QuerySummary {
  queryId: string;
  rows: number;
  pages: number;
}

export async function queryCommand(config: PipelineConfig, sql: string, opts: QueryCommandOptions, io: QueryIo): Promise<QuerySummary> {
  // Every argument is checked before a backend is opened.
  const format = queryFormatArg(opts.format, opts.json);
  if (sql.trim() === '') throw new PipelineError('InvalidInput', 'the SQL is empty; give a statement, e.g. clickstream query "SELECT count(*) FROM clickstream_events_curated"');
  if (config.backend !== 'local' && (opts.from !== undefined || opts.to !== undefined)) {
    throw new PipelineError(
      'InvalidInput',
      `--from/--to pick the local lake's partitions; on the ${config.backend} backend filter year, month, day and hour in the SQL instead (a query over ${config.tables.raw}_rejected must)`,
      { details: { field: opts.from !== undefined ? '--from' : '--to' } },
    );
  }
  const range: HourRange = { from: opts.from ? hourArg('--from', opts.from) : undefined, to: opts.to ? hourArg('--to', opts.to) : undefined };

  const backend: LakeBackend = config.backend === 'local' ? await openLocalLake(config, range) : await createBackend(config);
  try {
    const writer = createRowWriter(format, io.write);
    const summary = await streamQuery(backend.engine, sql, config.engine.poll, writer, io.signal).catch((err: unknown) => {
      throw withHint(err, config, sql);
    });
    if (writer.truncated) io.err('some values were cut to the column width; --format csv, json or ndjson prints them whole');
    io.err(`query ${summary.queryId} on ${config.backend}: ${summary.rows} row${summary.rows === 1 ? '' : 's'} in ${summary.pages} page${summary.pages === 1 ? '' : 's'}`);
    return summary;
  } finally {
    await backend.close();
  }
}

/**
 * Runs one statement through the engine port and hands its pages to the writer as they arrive.
 * Polling sleeps first, as runEngineQuery does; it ends at SUCCEEDED, or at RUNNING on an engine
 * whose rows flow while it runs (Trino), where reading the pages is what drives the query.
 */
export async function streamQuery(engine: QueryEngine, sql: string, policy: PollPolicy, writer: RowWriter, signal?: AbortSignal): Promise<QuerySummary> {
  if (!engine.resultPages) throw new PipelineError('InvalidInput', 'this backend\'s query engine cannot page results; use --backend local, aws or trino');
  const queryId = await engine.start({ sql, params: {}, idempotencyToken: `clickstream-cli-query-${randomUUID()}`, readsRows: true, readsPages: true });
  const interrupted = () => new PipelineError('QueryCancelled', `interrupted; query ${queryId} was stopped`, { details: { queryId } });
  try {
    for (let n = 0; ; n++) {
      await sleep(pollDelayMs(policy, n), undefined, { signal });
      const status = await engine.status(queryId);
      if (status.state === 'SUCCEEDED' || (status.state === 'RUNNING' && engine.pagesWhileRunning)) break;
      if (status.state === 'FAILED' || status.state === 'CANCELLED') throw endedError(queryId, status);
    }
  } catch (err) {
    if (!signal?.aborted) throw err;
    await engine.cancel(queryId);
    throw interrupted();
  }
  let rows = 0;
  let pages = 0;
  // Breaking out of the loop (Ctrl-C, a closed stdout) makes the engine stop the query.
  for await (const page of engine.resultPages(queryId)) {
    await writer.page(page);
    rows += page.length;
    pages++;
    if (signal?.aborted) throw interrupted();
  }
  await writer.end();
  return { queryId, rows, pages };
}

function endedError(queryId: string, status: QueryStatus): PipelineError {
  if (status.state === 'CANCELLED') {
    return new PipelineError('QueryCancelled', `query ${queryId} was cancelled (${status.reason ?? 'no reason given'})`, { details: { queryId } });
  }
  return new PipelineError('QueryFailed', `query ${queryId} failed: ${status.reason ?? 'no reason given'}; fix the SQL and run it again`, {
    details: { queryId, reason: status.reason },
    retryable: status.retryable,
  });
}

/** On Athena and Trino the rejected view's lines table is projected: a query that does not name the hour cannot be planned. */
function withHint(err: unknown, config: PipelineConfig, sql: string): unknown {
  const rejected = `${config.tables.raw}_rejected`;
  if (config.backend === 'local' || !(err instanceof PipelineError) || err.type !== 'QueryFailed' || !sql.toLowerCase().includes(rejected)) return err;
  return new PipelineError(err.type, `${err.message} (a query over ${rejected} must filter year, month, day and hour, e.g. WHERE year = '2024' AND month = '03' AND day = '01' AND hour = '07')`, {
    details: err.details,
    cause: err,
    retryable: err.retryableOverride,
  });
}

/**
 * The local backend with the lake's three tables loaded from the catalog (lakeTables.ts, as the
 * tests read them). That load makes TEMP tables, seen only by its own session's connection, and
 * the engine runs each query on a connection of its own; so they are copied into the in-memory
 * database of this CLI process's private DuckDB, which every connection sees. The names are
 * config's, checked against the identifier pattern at start-up.
 */
async function openLocalLake(config: PipelineConfig, range: HourRange): Promise<LocalLakeBackend> {
  const backend = await createLocalBackend(config);
  try {
    const { raw, curated } = config.tables;
    const copies = [raw, curated, `${raw}_rejected`].map((t) => `CREATE OR REPLACE TABLE memory.main.${t} AS SELECT * FROM temp.main.${t}`);
    await queryLakeTables(backend, config, copies, range);
    return backend;
  } catch (err) {
    await backend.close();
    throw err;
  }
}
