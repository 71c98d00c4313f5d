/**
 * Trino's client protocol over HTTP (https://trino.io/docs/current/develop/client-protocol.html):
 * POST /v1/statement submits, GET on each response's nextUri advances the query one step (and is
 * what keeps it alive: Trino dispatches a query only once its first nextUri is fetched, and
 * abandons one no client has fetched for query.client.timeout), DELETE on nextUri cancels it.
 *
 * Why not the npm `trino-client` (0.2.9, Trino's own JS client), which was judged first:
 * - it cannot resume a query from a nextUri, which is what lets a retried activity on another
 *   worker take over a query whose worker was killed (the URI travels in the heartbeat);
 * - it keeps session and prepared-statement headers on the client object and rewrites them from
 *   every response, so concurrent queries on one client (a worker runs several) race on them;
 * - its iterator loops through empty pages until data or the end, so a status poll could not be
 *   one bounded step. Every request here is one HTTP call with Node's fetch.
 */

/** Column metadata as Trino sends it: `type` is the full SQL type, e.g. `timestamp(6)`. */
export interface TrinoColumn {
  name: string;
  type: string;
}

export interface TrinoError {
  message: string;
  errorCode: number;
  errorName: string;
  /** USER_ERROR, INTERNAL_ERROR, INSUFFICIENT_RESOURCES or EXTERNAL. */
  errorType: string;
}

/** One response of the statement protocol. */
export interface TrinoResponse {
  id: string;
  nextUri?: string;
  columns?: TrinoColumn[];
  data?: unknown[][];
  updateType?: string;
  updateCount?: number;
  error?: TrinoError;
  stats: {
    /** QUEUED, PLANNING, STARTING, RUNNING, FINISHING, FINISHED or FAILED. */
    state: string;
    queuedTimeMillis?: number;
    elapsedTimeMillis?: number;
    processedBytes?: number;
    physicalInputBytes?: number;
    processedRows?: number;
  };
}

export interface TrinoSession {
  /** http(s)://host:port of the coordinator. */
  server: string;
  user: string;
  catalog: string;
  schema: string;
  /** X-Trino-Source: names the submitter; the engine puts the idempotency token here. */
  source?: string;
  /** Session properties, e.g. `{ 'hive.compression_codec': 'SNAPPY' }`. */
  properties?: Record<string, string>;
}

export class TrinoHttpError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'TrinoHttpError';
  }
}

function sessionHeaders(s: TrinoSession): Record<string, string> {
  const headers: Record<string, string> = {
    'X-Trino-User': s.user,
    'X-Trino-Catalog': s.catalog,
    'X-Trino-Schema': s.schema,
    // Zone-less values mean UTC, as on Athena, whatever the server's or the worker's zone.
    'X-Trino-Time-Zone': 'UTC',
    // Without it timestamps come back cut to milliseconds (the protocol's legacy rendering).
    'X-Trino-Client-Capabilities': 'PARAMETRIC_DATETIME',
  };
  if (s.source) headers['X-Trino-Source'] = s.source;
  const props = Object.entries(s.properties ?? {});
  if (props.length > 0) headers['X-Trino-Session'] = props.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join(',');
  return headers;
}

async function call(method: 'GET' | 'POST' | 'DELETE', url: string, user: string, init: { headers?: Record<string, string>; body?: string } = {}): Promise<Response> {
  const res = await fetch(url, { method, headers: { 'X-Trino-User': user, ...init.headers }, body: init.body, signal: AbortSignal.timeout(60_000) });
  if (res.status === 503 || res.status === 502 || res.status === 504) {
    // The protocol asks clients to retry these; the caller's poll loop does, so report them as transient.
    throw new TrinoHttpError(`Trino answered ${res.status} to ${method} ${new URL(url).pathname}; it is busy or restarting`, res.status);
  }
  return res;
}

async function json(res: Response, what: string): Promise<TrinoResponse> {
  const text = await res.text();
  if (!res.ok) throw new TrinoHttpError(`Trino answered ${res.status} to ${what}: ${text.slice(0, 500)}`, res.status);
  return JSON.parse(text) as TrinoResponse;
}

/** Submits one statement; the query is dispatched by the first `advance` on the returned nextUri. */
export async function submitStatement(session: TrinoSession, sql: string): Promise<TrinoResponse> {
  const res = await call('POST', `${session.server}/v1/statement`, session.user, { headers: sessionHeaders(session), body: sql });
  return json(res, 'POST /v1/statement');
}

/** One step of a query: fetches its nextUri (re-fetching the same URI is allowed, which is what makes a takeover safe). */
export async function advance(server: string, user: string, nextUri: string): Promise<TrinoResponse> {
  // Only follow URIs on the configured server: a heartbeat's URI must not send the worker elsewhere.
  if (new URL(nextUri).origin !== new URL(server).origin) throw new TrinoHttpError(`nextUri ${nextUri} is not on ${server}`, 400);
  const res = await call('GET', nextUri, user);
  return json(res, `GET ${new URL(nextUri).pathname}`);
}

/** Cancels a query through its nextUri; a query that already ended answers 204 or 404, both fine. */
export async function cancelStatement(server: string, user: string, nextUri: string): Promise<void> {
  if (new URL(nextUri).origin !== new URL(server).origin) throw new TrinoHttpError(`nextUri ${nextUri} is not on ${server}`, 400);
  const res = await call('DELETE', nextUri, user);
  if (!res.ok && res.status !== 404 && res.status !== 410) throw new TrinoHttpError(`Trino answered ${res.status} to DELETE ${new URL(nextUri).pathname}`, res.status);
}

/** Runs a statement to the end and returns its rows (small control-plane queries: system tables, DDL, kill_query). */
export async function runToEnd(session: TrinoSession, sql: string): Promise<{ columns: TrinoColumn[]; rows: unknown[][]; response: TrinoResponse }> {
  let r = await submitStatement(session, sql);
  const rows: unknown[][] = [];
  let columns: TrinoColumn[] = r.columns ?? [];
  for (;;) {
    if (r.columns) columns = r.columns;
    if (r.data) rows.push(...r.data);
    if (r.error) throw new TrinoQueryError(r.id, r.error);
    if (!r.nextUri) return { columns, rows, response: r };
    r = await advance(session.server, session.user, r.nextUri);
  }
}

export class TrinoQueryError extends Error {
  constructor(
    readonly queryId: string,
    readonly error: TrinoError,
  ) {
    super(`Trino query ${queryId} failed: ${error.errorName}: ${error.message}`);
    this.name = 'TrinoQueryError';
  }
}
