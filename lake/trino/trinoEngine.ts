/**
 * QueryEngine over a Trino coordinator (self-run Trino or Starburst over the same Glue catalog and
 * S3 bucket Athena uses). Values travel as `EXECUTE IMMEDIATE '…' USING …` parameters.
 *
 * Trino has no idempotency token, and its queries progress only while a client fetches their
 * nextUri. So this engine makes both:
 * - Token: every submission carries the activity's token in its source (X-Trino-Source), and
 *   start() first looks in system.runtime.queries for a query already carrying it, so a retried
 *   start reattaches instead of running the statement twice.
 * - Driver: status() advances the query one protocol step; handoff() gives the nextUri the next
 *   step needs, which runEngineQuery heartbeats with the query id. A retried attempt on another
 *   worker resumes from it (re-fetching a URI is allowed by the protocol), so a killed worker's
 *   query is taken over, not resubmitted.
 * What cannot be taken over is judged by its record in system.runtime.queries: a finished write
 * is done; anything else is reported lost (QueryNotFound), and the activity resubmits under a new
 * epoch's token: a query whose rows the dead worker already fetched (validation), one whose worker
 * died before its first heartbeat, or one whose heartbeated URI is already spent (heartbeats are
 * throttled, so they lag). A running one is killed and its final state awaited first, so it never
 * completes beside its resubmission; and a new token's CTAS first clears what an earlier epoch of
 * the run left at its staging location (prepareCtas), so it replaces, never appends.
 */
import { PipelineError } from '../../core/errors';
import { parseS3Uri } from '../../core/locations';
import type { ObjectStore, QueryEngine, QueryRequest, QueryState, QueryStatus } from '../ports';
import { athenaLiteral, countParameterMarkers } from '../aws/athenaSql';
import { isCtasRequest } from '../aws/athenaStatements';
import {
  advance,
  cancelStatement,
  runToEnd,
  submitStatement,
  TrinoHttpError,
  TrinoQueryError,
  type TrinoColumn,
  type TrinoResponse,
  type TrinoSession,
} from './trinoProtocol';

export interface TrinoEngineOptions {
  server: string;
  user: string;
  catalog: string;
  schema: string;
  /**
   * For clearing what an earlier epoch of the same run left at a CTAS's staging location before a
   * new token's CTAS is submitted there (see prepareCtas). Without it a CTAS is submitted as is.
   */
  staging?: {
    store: ObjectStore;
    tableExists(database: string, table: string): Promise<boolean>;
    /** Called with what is cleared (logging). */
    onLeftovers?: (location: string, keys: string[], tableDropped: boolean) => void;
  };
}

/** Prefix of X-Trino-Source: `clickstream-lake:<kind>:<token>`; kind says whether the statement's rows matter. */
const SOURCE_PREFIX = 'clickstream-lake';
type StatementKind = 'rows' | 'write';

interface DrivenQuery {
  kind: StatementKind;
  nextUri?: string;
  columns: TrinoColumn[];
  rows: unknown[][];
  /** True once any data page was fetched: a takeover after that point cannot recover those rows. */
  rowsFetched: boolean;
  last: TrinoResponse;
}

/** What a retried attempt needs to take over a query (heartbeated as text). */
interface Handoff {
  nextUri: string;
  kind: StatementKind;
  rowsFetched: boolean;
}

const TERMINAL_STATES = new Set(['FINISHED', 'FAILED']);
/**
 * How long a killed orphan may take to reach a final state before the attempt gives up and
 * retries (kill_query is asynchronous). Under the activities' 15 s heartbeat timeout: the wait
 * happens inside one status call, between heartbeats.
 */
const KILL_SETTLE_MS = 10_000;
const CANCELLED_ERRORS = new Set(['USER_CANCELED', 'ADMINISTRATIVELY_KILLED']);
/** The error code system.runtime.kill_query leaves, which is how this engine stops an orphan. */
const ORPHAN_KILLED = 'ADMINISTRATIVELY_KILLED';

export class TrinoQueryEngine implements QueryEngine {
  readonly queriesOutliveWorker = true;
  private readonly queries = new Map<string, DrivenQuery>();

  constructor(private readonly opts: TrinoEngineOptions) {}

  private session(source?: string, properties?: Record<string, string>): TrinoSession {
    return { server: this.opts.server, user: this.opts.user, catalog: this.opts.catalog, schema: this.opts.schema, source, properties };
  }

  async start(request: QueryRequest): Promise<string> {
    const values = Object.values(request.params);
    const markers = countParameterMarkers(request.sql);
    if (markers !== values.length) {
      throw new PipelineError(
        'InvalidInput',
        `statement has ${markers} '?' parameter markers but ${values.length} values (${Object.keys(request.params).join(', ')}); fix the sql file or its statement builder`,
      );
    }
    const kind: StatementKind = request.readsRows ? 'rows' : 'write';
    const source = `${SOURCE_PREFIX}:${kind}:${request.idempotencyToken}`;
    const existing = await this.findByToken(source);
    if (existing) return existing;
    if (isCtasRequest(request)) await this.prepareCtas(request.ctas);

    const sql = values.length === 0 ? request.sql : `EXECUTE IMMEDIATE ${athenaLiteral(request.sql)} USING ${values.map(athenaLiteral).join(', ')}`;
    const first = await this.guard('submit a statement', () => submitStatement(this.session(source, request.sessionProperties), sql));
    const q: DrivenQuery = { kind, nextUri: first.nextUri, columns: [], rows: [], rowsFetched: false, last: first };
    this.queries.set(first.id, q);
    // Trino dispatches a query only when its first nextUri is fetched: do it now, so the query
    // exists in system.runtime.queries (and is found by its token) from this moment on.
    await this.step(first.id, q);
    return first.id;
  }

  async status(queryId: string): Promise<QueryStatus> {
    const q = this.queries.get(queryId);
    if (!q) return this.statusOfOrphan(queryId);
    // Follow nextUri until there is none: a query whose stats already say FINISHED still has its last page to fetch.
    if (q.nextUri) {
      try {
        await this.step(queryId, q);
      } catch (err) {
        if (!(err instanceof PipelineError && err.type === 'QueryNotFound')) throw err;
        // The URI is spent (410: a heartbeated handoff older than the dead worker's last fetch) or
        // gone. The query itself may still run, or may have committed: only its record says which.
        this.queries.delete(queryId);
        return this.statusOfOrphan(queryId);
      }
    }
    return toStatus(q.last, queryId);
  }

  handoff(queryId: string): string | undefined {
    const q = this.queries.get(queryId);
    if (!q?.nextUri) return undefined;
    return JSON.stringify({ nextUri: q.nextUri, kind: q.kind, rowsFetched: q.rowsFetched } satisfies Handoff);
  }

  resume(queryId: string, handoff: string): void {
    if (this.queries.has(queryId)) return;
    let h: Handoff;
    try {
      h = JSON.parse(handoff) as Handoff;
    } catch {
      return; // not ours (e.g. written by another engine): the orphan path decides
    }
    if (!h.nextUri || !new URL(h.nextUri).pathname.includes(queryId)) return;
    // Rows the dead worker already fetched are gone with it; such a query is not taken over (status reports it lost).
    if (h.kind === 'rows' && h.rowsFetched) return;
    const placeholder: TrinoResponse = { id: queryId, nextUri: h.nextUri, stats: { state: 'RUNNING' } };
    this.queries.set(queryId, { kind: h.kind, nextUri: h.nextUri, columns: [], rows: [], rowsFetched: false, last: placeholder });
  }

  async results(queryId: string): Promise<Record<string, unknown>[]> {
    const q = this.queries.get(queryId);
    if (!q || q.last.stats.state !== 'FINISHED' || q.nextUri) {
      throw new PipelineError('QueryNotFound', `rows of Trino query ${queryId} are not held by this worker (it did not drive the query to its end); it will be resubmitted`, {
        details: { queryId },
      });
    }
    this.queries.delete(queryId);
    return q.rows.map((row) => Object.fromEntries(q.columns.map((c, i) => [c.name, decodeValue(c, row[i], queryId)])));
  }

  /** Stops the query: through its nextUri when this worker drives it, else with system.runtime.kill_query. */
  async cancel(queryId: string): Promise<void> {
    const q = this.queries.get(queryId);
    if (q?.nextUri) {
      await this.guard('cancel a query', () => cancelStatement(this.opts.server, this.opts.user, q.nextUri!));
      this.queries.delete(queryId);
      return;
    }
    await this.kill(queryId, 'cancelled by clickstream-lake');
  }

  async close(): Promise<void> {
    this.queries.clear();
  }

  // ---- resultPages (clickstream query): rows handed out one protocol step at a time ----

  /** Trino's rows flow while the query runs: it advances only while a client fetches them. */
  readonly pagesWhileRunning = true;

  /**
   * The query's rows page by page: what earlier steps fetched, then one protocol step per page
   * (a nextUri fetch returns at most Trino's target result size, 1 MB by default), so only one
   * page is held at a time. Leaving the loop early cancels the query through its nextUri.
   */
  async *resultPages(queryId: string): AsyncIterable<Record<string, unknown>[]> {
    const q = this.queries.get(queryId);
    if (!q) {
      throw new PipelineError('QueryNotFound', `rows of Trino query ${queryId} are not held by this process (it did not start the query); run it again`, {
        details: { queryId },
      });
    }
    let ended = false;
    try {
      for (;;) {
        const page = q.rows.splice(0);
        if (page.length > 0) yield page.map((row) => Object.fromEntries(q.columns.map((c, i) => [c.name, decodeValue(c, row[i], queryId)])));
        const status = toStatus(q.last, queryId);
        if (status.state === 'FAILED') {
          throw new PipelineError('QueryFailed', `Trino query ${queryId} failed: ${status.reason}`, { retryable: status.retryable, details: { queryId, reason: status.reason } });
        }
        if (status.state === 'CANCELLED') throw new PipelineError('QueryCancelled', `Trino query ${queryId} was cancelled: ${status.reason}`, { details: { queryId } });
        if (!q.nextUri) {
          ended = true;
          return;
        }
        await this.step(queryId, q);
      }
    } finally {
      // A reader that stopped early (or a failed step) leaves the query running: stop it, best effort.
      if (!ended && q.nextUri) await this.cancel(queryId).catch(() => undefined);
      this.queries.delete(queryId);
    }
  }

  // ---- end of resultPages ----

  /** One protocol step: fetch nextUri, keep the page's rows, remember the next URI. */
  private async step(queryId: string, q: DrivenQuery): Promise<void> {
    const r = await this.guard(`advance query ${queryId}`, () => advance(this.opts.server, this.opts.user, q.nextUri!));
    if (r.columns) q.columns = r.columns;
    if (r.data && r.data.length > 0) {
      q.rows.push(...r.data);
      q.rowsFetched = true;
    }
    q.nextUri = r.nextUri;
    q.last = r;
  }

  /** A query this worker does not drive and cannot resume (no handoff): only its record in system.runtime.queries is left. */
  private async statusOfOrphan(queryId: string): Promise<QueryStatus> {
    let record = await this.record(queryId);
    if (record && !TERMINAL_STATES.has(record.state)) {
      // Running with no client (it would be abandoned), or finished with its rows gone: stop it, so
      // it can never complete beside the resubmission. kill_query only asks; the query may still
      // commit first (a CTAS in FINISHING), so its final state, not the kill, decides.
      await this.kill(queryId, 'its worker died; clickstream-lake resubmits the statement under a new token');
      record = await this.settled(queryId);
    }
    if (!record) throw new PipelineError('QueryNotFound', `Trino has no query ${queryId} (its history expired or the coordinator restarted); it will be resubmitted`, { details: { queryId } });
    const { state, source, errorType, errorCode } = record;
    const stats = { bytesScanned: 0, engineMs: 0, queueMs: 0 };
    // A write's effect is its result; a finished row query's rows went with the worker that fetched them.
    if (state === 'FINISHED' && (source ?? '').startsWith(`${SOURCE_PREFIX}:write:`)) return { state: 'SUCCEEDED', stats };
    if (state === 'FAILED' && errorCode === ORPHAN_KILLED) {
      // Killed while no worker drove it: that is this engine stopping an orphan (here, or in an
      // earlier attempt, which then died), so the statement is resubmitted, not reported as an
      // operator's cancellation. An operator cancelling a driven query shows as USER_CANCELED.
      throw new PipelineError('QueryNotFound', `Trino query ${queryId} lost its client (its worker was killed before it could hand the query over); it was stopped and will be resubmitted`, {
        details: { queryId, state, errorCode },
      });
    }
    if (state === 'FAILED') {
      if (errorCode && CANCELLED_ERRORS.has(errorCode)) return { state: 'CANCELLED', stats, reason: errorCode };
      return { state: 'FAILED', stats, reason: `${errorCode ?? 'FAILED'} (${errorType ?? 'unknown error type'})`, retryable: errorType !== 'USER_ERROR', errorCategory: errorType === 'USER_ERROR' ? 2 : 1 };
    }
    throw new PipelineError('QueryNotFound', `Trino query ${queryId} lost its client (its worker was killed before it could hand the query over; state ${state}); it will be resubmitted`, {
      details: { queryId, state },
    });
  }

  /** The query's record in system.runtime.queries, or undefined when Trino no longer lists it. */
  private async record(queryId: string): Promise<{ state: string; source: string | null; errorType: string | null; errorCode: string | null } | undefined> {
    const { rows } = await this.control(`SELECT state, source, error_type, error_code FROM system.runtime.queries WHERE query_id = ${athenaLiteral(queryId)}`);
    const row = rows[0] as [string, string | null, string | null, string | null] | undefined;
    return row && { state: row[0], source: row[1], errorType: row[2], errorCode: row[3] };
  }

  /** Waits until a killed query's record is final; one that will not settle fails the attempt, to be looked at again on retry. */
  private async settled(queryId: string): Promise<Awaited<ReturnType<TrinoQueryEngine['record']>>> {
    const deadline = Date.now() + KILL_SETTLE_MS;
    for (;;) {
      const record = await this.record(queryId);
      if (!record || TERMINAL_STATES.has(record.state)) return record;
      if (Date.now() > deadline) {
        throw new PipelineError('TransientBackend', `Trino query ${queryId} was asked to stop but is still ${record.state} after ${KILL_SETTLE_MS / 1000} s; the attempt is retried`, {
          details: { queryId, state: record.state },
        });
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /**
   * A CTAS fails when its table exists (TABLE_ALREADY_EXISTS, a user error: the hour would fail)
   * and Trino refuses a non-empty external_location. Both are per run, so whatever is there was
   * left by an earlier epoch of this run: a killed or failed CTAS's files, or a CTAS that
   * committed after Trino forgot it (coordinator restart, expired history). Called only once no
   * query carries this token, so it is cleared and the CTAS writes anew (replace, never append),
   * unless a query writing there is still running, which must end first.
   */
  private async prepareCtas(ctas: { database: string; table: string; location: string }): Promise<void> {
    if (!this.opts.staging) return;
    const { store, tableExists, onLeftovers } = this.opts.staging;
    const { bucket, key } = parseS3Uri(ctas.location);
    const [leftovers, exists] = await Promise.all([store.list(bucket, key), tableExists(ctas.database, ctas.table)]);
    if (leftovers.length === 0 && !exists) return;
    // The statement travels inside EXECUTE IMMEDIATE's literal (quotes doubled), so match the bare location, unique to the run.
    const { rows: writers } = await this.control(
      `SELECT query_id FROM system.runtime.queries WHERE state NOT IN ('FINISHED', 'FAILED') AND source <> ${athenaLiteral(`${SOURCE_PREFIX}:control`)} AND strpos(query, ${athenaLiteral(ctas.location)}) > 0`,
    );
    if (writers.length > 0) {
      throw new PipelineError('TransientBackend', `Trino query ${String(writers[0]![0])} is still writing to ${ctas.location}; curation is retried once it has ended`, {
        details: { location: ctas.location },
      });
    }
    onLeftovers?.(ctas.location, leftovers.map((o) => o.key), exists);
    // Through Trino, so its view of the catalog is the one that changes; a Hive external table's files stay, and are deleted next.
    if (exists) await this.control(`DROP TABLE IF EXISTS ${this.opts.catalog}.${ctas.database}.${ctas.table}`);
    if (leftovers.length > 0) await store.deleteKeys(bucket, leftovers.map((o) => o.key));
  }

  private async findByToken(source: string): Promise<string | undefined> {
    const { rows } = await this.control(`SELECT query_id FROM system.runtime.queries WHERE source = ${athenaLiteral(source)} ORDER BY created DESC LIMIT 1`);
    return (rows[0]?.[0] as string | undefined) ?? undefined;
  }

  private async kill(queryId: string, message: string): Promise<void> {
    try {
      await this.control(`CALL system.runtime.kill_query(query_id => ${athenaLiteral(queryId)}, message => ${athenaLiteral(message)})`);
    } catch (err) {
      // A query that already ended cannot be killed, which is what was wanted.
      if (err instanceof PipelineError && /not found|not running|already|finished/i.test(err.message)) return;
      throw err;
    }
  }

  /** A small system query, run to its end (its values come from this engine, never from input). */
  private control(sql: string) {
    return this.guard('run a system query', () => runToEnd(this.session(`${SOURCE_PREFIX}:control`), sql));
  }

  /** Maps protocol and network failures onto the taxonomy: unreachable or busy is transient; a refused request is not. */
  private async guard<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof PipelineError) throw err;
      if (err instanceof TrinoQueryError) {
        throw new PipelineError('QueryFailed', `Trino could not ${what}: ${err.error.errorName}: ${err.error.message}`, {
          cause: err,
          retryable: err.error.errorType !== 'USER_ERROR',
          details: { queryId: err.queryId, errorName: err.error.errorName },
        });
      }
      if (err instanceof TrinoHttpError && err.status < 500) {
        const type = err.status === 401 || err.status === 403 ? 'AccessDenied' : err.status === 404 || err.status === 410 ? 'QueryNotFound' : 'InvalidInput';
        throw new PipelineError(type, `Trino at ${this.opts.server} refused to ${what}: ${err.message}; check CLICKSTREAM_TRINO_URL and CLICKSTREAM_TRINO_USER`, { cause: err });
      }
      throw new PipelineError('TransientBackend', `Trino at ${this.opts.server} could not ${what}: ${(err as Error).message}; is the coordinator running (CLICKSTREAM_TRINO_URL)?`, {
        cause: err,
      });
    }
  }
}

function toStatus(r: TrinoResponse, queryId: string): QueryStatus {
  const s = r.stats;
  const queueMs = s.queuedTimeMillis ?? 0;
  const stats = {
    bytesScanned: s.physicalInputBytes ?? 0,
    engineMs: Math.max(0, (s.elapsedTimeMillis ?? 0) - queueMs),
    queueMs,
    rows: r.updateCount ?? s.processedRows,
  };
  if (r.error) {
    if (CANCELLED_ERRORS.has(r.error.errorName)) return { state: 'CANCELLED', stats, reason: `${r.error.errorName}: ${r.error.message}` };
    return {
      state: 'FAILED',
      stats,
      reason: `${r.error.errorName}: ${r.error.message}`,
      // A user error (bad SQL, bad data) fails the same way every time; resource and external errors may pass.
      retryable: r.error.errorType !== 'USER_ERROR',
      errorCategory: r.error.errorType === 'USER_ERROR' ? 2 : 1,
    };
  }
  if (!r.nextUri) return { state: 'SUCCEEDED', stats };
  const state: QueryState = s.state === 'QUEUED' || s.state === 'WAITING_FOR_RESOURCES' || s.state === 'DISPATCHING' ? 'QUEUED' : 'RUNNING';
  void queryId;
  return { state, stats };
}

/** Trino's JSON values: bigints arrive as numbers, JSON-typed columns as their text (parsed here, as on Athena). */
function decodeValue(column: TrinoColumn, value: unknown, queryId: string): unknown {
  if (value === null || value === undefined) return null;
  if (column.type !== 'json') return value;
  try {
    return JSON.parse(String(value));
  } catch (err) {
    throw new PipelineError('QueryFailed', `Trino query ${queryId} returned invalid JSON in column ${column.name}: ${String(value).slice(0, 200)}`, { cause: err, retryable: false });
  }
}
