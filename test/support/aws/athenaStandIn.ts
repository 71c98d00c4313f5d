/**
 * A test-only "Athena stand-in": a double of Athena's query API whose SQL is executed by the real
 * Trino 476 of the test stack (test/support/trino/trinoStack.ts). The worker's Athena client
 * points at it (CLICKSTREAM_AWS_ATHENA_ENDPOINT_URL); S3 and Glue go to the stack's moto directly,
 * and Trino's Hive catalog reads and writes that same moto. What is real and what is not:
 * - real: the SQL. StartQueryExecution's exact QueryString, with its ExecutionParameters (Athena
 *   takes them as SQL literals, athenaLiteral) bound as `EXECUTE IMMEDIATE '<sql>' USING <literals>`,
 *   runs on Trino in session schema = QueryExecutionContext.Database, catalog `hive`, zone UTC.
 *   So the CTAS's Parquet files and staging table, the views, the validation counts and the
 *   failures (Trino's own error name and message) are what Trino did.
 * - translated, by one rule: ENGINE_DIALECTS (lake/aws/athenaSql.ts) names the only text Athena
 *   and Trino disagree on (CTAS compression: Athena's `write_compression = 'SNAPPY'` table
 *   property, Trino's `hive.compression_codec` session property). athenaTextToTrino swaps that
 *   text for Trino's and sets Trino's session properties; nothing else in the statement changes.
 * - a double: the Athena API around it. Query ids are UUIDs as Athena's; states are Trino's,
 *   mapped onto QUEUED/RUNNING/SUCCEEDED/FAILED/CANCELLED; results are Trino's rows in Athena's
 *   ResultSet shape (header row first for a SELECT, values as text, ColumnInfo types such as
 *   `bigint` and `json`); ClientRequestToken returns the same QueryExecutionId (Athena's
 *   idempotency); StopQueryExecution cancels the Trino query.
 * - forwarded to moto: everything that is not about query executions (the workgroups the tests
 *   create and the doctor reads). A start in a workgroup moto does not know is refused the way moto
 *   refuses it. Queries themselves never reach moto: it cannot run them, and its own records
 *   would only be a second, disagreeing copy.
 *
 * Athena runs a query by itself once started, so the stand-in drives each Trino query (follows its
 * nextUri to the end) in the background, independently of how often the client polls. A test can
 * `hold` a query: the stand-in dispatches it to Trino and then stops driving it, so it waits in
 * Trino (a query behind a busy workgroup) until StopQueryExecution cancels it.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ENGINE_DIALECTS } from '../../../lake/aws/athenaSql';
import { advance, cancelStatement, submitStatement, type TrinoColumn, type TrinoError, type TrinoResponse } from '../../../lake/trino/trinoProtocol';
import type { MotoServer } from './motoServer';

export type StatementKind = 'ctas' | 'validation' | 'view' | 'other';
export type AthenaState = 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';

/** One query the stand-in accepted, what it sent to Trino, and what the client saw of it. */
export interface SeenQuery {
  /** The QueryExecutionId the stand-in answered (a UUID, as Athena's). */
  queryId: string;
  kind: StatementKind;
  /** QueryString exactly as StartQueryExecution carried it (Athena's text). */
  sql: string;
  executionParameters: string[];
  clientRequestToken: string | undefined;
  database: string;
  workGroup: string;
  /** StartQueryExecution calls answered with this id (more than one: a retried start, by token). */
  starts: number;
  /** What Trino was given: the statement after the dialect rule, the text submitted, the session properties. */
  trino: { statement: string; sql: string; sessionProperties: Record<string, string>; source: string; queryId?: string };
  /** The state answered to each GetQueryExecution, in order. */
  states: AthenaState[];
}

export interface AthenaStandInOptions {
  /** Where non-query calls go (workgroups): the Trino stack's moto. */
  moto: MotoServer;
  /** The Trino that executes the SQL: its URL and the Hive catalog over moto's Glue (Athena's AwsDataCatalog). */
  trino: { url: string; catalog: string };
  /** Queries to dispatch to Trino and then leave waiting there until they are stopped (cancellation tests). */
  hold?: (query: SeenQuery) => boolean;
}

/** A query's run on Trino, as the stand-in drives it. */
interface Execution {
  seen: SeenQuery;
  submittedAt: number;
  completedAt?: number;
  last?: TrinoResponse;
  nextUri?: string;
  columns: TrinoColumn[];
  rows: unknown[][];
  error?: TrinoError;
  /** The stand-in could not talk to Trino (not a SQL failure): reported FAILED with this reason. */
  lost?: string;
  stopped: boolean;
  release?: () => void;
  driving: Promise<void>;
}

const TRINO_USER = 'athena-stand-in';
const CANCELLED_ERRORS = new Set(['USER_CANCELED', 'ADMINISTRATIVELY_KILLED']);
const TRINO_QUEUED = new Set(['QUEUED', 'WAITING_FOR_RESOURCES', 'DISPATCHING']);
/** Athena's page size limit for GetQueryResults. */
const MAX_RESULTS = 1000;
/** A CTAS's head, its table property list, and the `) AS` that closes it. */
const CTAS_PROPERTIES = /(\bCREATE TABLE \w+\.\w+\s+WITH\s*\()([^()]*)(\)\s*AS\b)/;
const EXTERNAL_LOCATION = /external_location\s*=\s*'([^']+)'/;
/** Headers fetch() refuses or sets itself. */
const HOP_BY_HOP = new Set(['host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive', 'expect', 'content-encoding']);

/**
 * Athena's text of a statement as Trino must receive it, by the one rule ENGINE_DIALECTS states:
 * its only entry, dialect_ctas_properties, is a CTAS table property, so inside the property list
 * of `CREATE TABLE db.t WITH (...) AS` (and nowhere else) Athena's text becomes Trino's, and the
 * statement then runs with Trino's session properties (Snappy as `hive.compression_codec`).
 * Anything outside that list is passed to Trino exactly as Athena received it, so text Athena
 * would refuse is refused by Trino too. A statement with no such property is passed unchanged.
 */
export function athenaTextToTrino(sql: string, catalog: string): { statement: string; sessionProperties: Record<string, string> } {
  const athenaText = ENGINE_DIALECTS.athena.text.dialect_ctas_properties;
  const trinoText = ENGINE_DIALECTS.trino.text.dialect_ctas_properties;
  let translated = false;
  const statement = sql.replace(CTAS_PROPERTIES, (whole, head: string, properties: string, tail: string) => {
    if (!properties.includes(athenaText)) return whole;
    translated = true;
    return `${head}${properties.replace(athenaText, trinoText)}${tail}`;
  });
  return { statement, sessionProperties: translated ? ENGINE_DIALECTS.trino.sessionProperties(catalog) : {} };
}

/** An error in Athena's JSON protocol shape (the SDK reads `__type`). */
class AthenaApiError extends Error {
  constructor(
    readonly type: 'InvalidRequestException' | 'InternalServerException',
    message: string,
  ) {
    super(message);
    this.name = 'AthenaApiError';
  }
}

export class AthenaStandIn {
  /** Every query accepted, by QueryExecutionId, in start order. */
  readonly queries = new Map<string, SeenQuery>();
  private readonly executions = new Map<string, Execution>();
  /** ClientRequestToken -> QueryExecutionId (a promise, so two concurrent starts with one token get one query). */
  private readonly byToken = new Map<string, Promise<string>>();

  private constructor(
    readonly url: string,
    private readonly server: Server,
    private readonly opts: AthenaStandInOptions,
  ) {}

  static async start(opts: AthenaStandInOptions): Promise<AthenaStandIn> {
    let standIn: AthenaStandIn | undefined;
    const server = createServer((req, res) => {
      standIn!.handle(req, res).catch((err: unknown) => {
        // A stand-in bug must fail the test loudly, not look like an AWS error the classifier retries.
        res.writeHead(599, { 'content-type': 'text/plain' });
        res.end(`athena stand-in: ${(err as Error).stack ?? String(err)}`);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    standIn = new AthenaStandIn(`http://127.0.0.1:${port}`, server, opts);
    return standIn;
  }

  /** The queries of one kind, in start order. */
  ofKind(kind: StatementKind): SeenQuery[] {
    return [...this.queries.values()].filter((q) => q.kind === kind);
  }

  /** GetQueryExecution calls answered, over all queries. */
  statusCalls(): number {
    return [...this.queries.values()].reduce((n, q) => n + q.states.length, 0);
  }

  /** Cancels every Trino query still running (the shared Trino outlives this stand-in), then closes. */
  async stop(): Promise<void> {
    for (const e of this.executions.values()) if (!isTerminal(e)) await this.cancel(e).catch(() => undefined);
    await Promise.allSettled([...this.executions.values()].map((e) => e.driving));
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const operation = String(req.headers['x-amz-target'] ?? '').replace(/^AmazonAthena\./, '');
    const handler = this.queryOperations[operation];
    if (!handler) {
      if (/Quer(y|ies)(Execution|Results|RuntimeStatistics)/.test(operation)) throw new Error(`${operation} is a query call the stand-in does not implement`);
      return this.forwardToMoto(req, body, res);
    }
    const input = (body.length > 0 ? JSON.parse(body.toString('utf8')) : {}) as Record<string, unknown>;
    try {
      const output = await handler(input, req.headers);
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID() });
      res.end(JSON.stringify(output));
    } catch (err) {
      if (!(err instanceof AthenaApiError)) throw err;
      res.writeHead(err.type === 'InternalServerException' ? 500 : 400, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID() });
      res.end(JSON.stringify({ __type: err.type, Message: err.message }));
    }
  }

  private readonly queryOperations: Record<string, (input: Record<string, unknown>, headers: IncomingHttpHeaders) => Promise<unknown>> = {
    StartQueryExecution: (input, headers) => this.startQueryExecution(input as unknown as StartInput, headers),
    GetQueryExecution: async (input) => ({ QueryExecution: this.describe(this.execution(String(input.QueryExecutionId)), true) }),
    GetQueryResults: async (input) => this.results(this.execution(String(input.QueryExecutionId)), input.NextToken as string | undefined, input.MaxResults as number | undefined),
    StopQueryExecution: async (input) => {
      const e = this.execution(String(input.QueryExecutionId));
      // Stopping a query that already ended is a no-op, as on Athena.
      if (!isTerminal(e)) await this.cancel(e);
      return {};
    },
    ListQueryExecutions: async (input) => this.list(input.WorkGroup as string | undefined, input.NextToken as string | undefined, input.MaxResults as number | undefined),
  };

  private async startQueryExecution(input: StartInput, headers: IncomingHttpHeaders): Promise<{ QueryExecutionId: string }> {
    const token = input.ClientRequestToken;
    if (token !== undefined) {
      const existing = this.byToken.get(token);
      if (existing) {
        const id = await existing;
        const seen = this.queries.get(id)!;
        // Athena: the same token returns the same query, unless a parameter changed (an error; StartQueryExecution only raises InvalidRequestException for it).
        if (seen.sql !== input.QueryString || JSON.stringify(seen.executionParameters) !== JSON.stringify(input.ExecutionParameters ?? [])) {
          throw new AthenaApiError('InvalidRequestException', `Idempotent parameters do not match: ClientRequestToken ${token} was used for query ${id} with another QueryString or ExecutionParameters`);
        }
        seen.starts++;
        return { QueryExecutionId: id };
      }
    }
    const started = this.accept(input, headers);
    if (token !== undefined) {
      this.byToken.set(token, started);
      started.catch(() => this.byToken.delete(token));
    }
    return { QueryExecutionId: await started };
  }

  private async accept(input: StartInput, headers: IncomingHttpHeaders): Promise<string> {
    const workGroup = input.WorkGroup ?? 'primary';
    await this.requireWorkGroup(workGroup, headers);
    const catalog = input.QueryExecutionContext?.Catalog ?? 'AwsDataCatalog';
    if (catalog !== 'AwsDataCatalog') throw new Error(`query in catalog ${catalog}: the stand-in maps only AwsDataCatalog (Glue) onto Trino's ${this.opts.trino.catalog}`);
    const database = input.QueryExecutionContext?.Database ?? 'default';
    const parameters = input.ExecutionParameters ?? [];
    const { statement, sessionProperties } = athenaTextToTrino(input.QueryString, this.opts.trino.catalog);
    // Athena's parameters are SQL literals already; Trino binds the same literals with USING.
    const quoted = `'${statement.replace(/'/g, "''")}'`;
    const queryId = randomUUID();
    const seen: SeenQuery = {
      queryId,
      kind: kindOf(input.QueryString),
      sql: input.QueryString,
      executionParameters: parameters,
      clientRequestToken: input.ClientRequestToken,
      database,
      workGroup,
      starts: 1,
      trino: {
        statement,
        sql: parameters.length === 0 ? statement : `EXECUTE IMMEDIATE ${quoted} USING ${parameters.join(', ')}`,
        sessionProperties,
        source: `athena-stand-in:${queryId}`,
      },
      states: [],
    };
    const execution: Execution = { seen, submittedAt: Date.now(), columns: [], rows: [], stopped: false, driving: Promise.resolve() };
    this.queries.set(queryId, seen);
    this.executions.set(queryId, execution);
    execution.driving = this.drive(execution);
    return queryId;
  }

  /** Runs the query on Trino to its end, as Athena runs a started query whether or not anyone polls. */
  private async drive(e: Execution): Promise<void> {
    const { trino } = this.opts;
    try {
      let r = await submitStatement(
        { server: trino.url, user: TRINO_USER, catalog: trino.catalog, schema: e.seen.database, source: e.seen.trino.source, properties: e.seen.trino.sessionProperties },
        e.seen.trino.sql,
      );
      e.seen.trino.queryId = r.id;
      let dispatched = false;
      for (;;) {
        this.absorb(e, r);
        if (!r.nextUri || r.error || e.stopped) break;
        if (dispatched && this.opts.hold?.(e.seen)) {
          // Held: dispatched, now waiting in Trino for a client, until StopQueryExecution.
          await new Promise<void>((resolve) => (e.release = resolve));
          break;
        }
        r = await advanceWithRetry(trino.url, r.nextUri);
        dispatched = true;
      }
    } catch (err) {
      if (!e.stopped) e.lost = `athena stand-in could not drive the query on Trino at ${trino.url}: ${(err as Error).message}`;
    } finally {
      e.completedAt ??= Date.now();
    }
  }

  private absorb(e: Execution, r: TrinoResponse): void {
    if (e.stopped) return;
    e.last = r;
    e.nextUri = r.nextUri;
    if (r.columns) e.columns = r.columns;
    if (r.data) e.rows.push(...r.data);
    if (r.error) e.error = r.error;
    if (isTerminal(e)) e.completedAt = Date.now();
  }

  /** StopQueryExecution: the Trino query is cancelled through its nextUri (DELETE), as the protocol asks. */
  private async cancel(e: Execution): Promise<void> {
    e.stopped = true;
    e.completedAt = Date.now();
    const next = e.nextUri;
    e.release?.();
    if (next) await cancelStatement(this.opts.trino.url, TRINO_USER, next);
  }

  private execution(queryId: string): Execution {
    const e = this.executions.get(queryId);
    if (!e) throw new AthenaApiError('InvalidRequestException', `QueryExecution ${queryId} was not found`);
    return e;
  }

  /** Athena's QueryExecution for the query's current Trino state; `record` when a client polled it. */
  private describe(e: Execution, record: boolean): Record<string, unknown> {
    const state = stateOf(e);
    if (record) e.seen.states.push(state);
    const s = e.last?.stats;
    const queued = s?.queuedTimeMillis ?? 0;
    const status: Record<string, unknown> = { State: state, SubmissionDateTime: e.submittedAt / 1000 };
    if (state === 'SUCCEEDED' || state === 'FAILED' || state === 'CANCELLED') status.CompletionDateTime = (e.completedAt ?? Date.now()) / 1000;
    if (state === 'FAILED') {
      const reason = e.lost ?? `${e.error!.errorName}: ${e.error!.message}`;
      status.StateChangeReason = reason;
      // Athena's categories: 1 SYSTEM, 2 USER, 3 OTHER. Trino's error type says which it is.
      const category = e.lost ? 3 : e.error!.errorType === 'USER_ERROR' ? 2 : e.error!.errorType === 'EXTERNAL' ? 3 : 1;
      status.AthenaError = { ErrorCategory: category, ErrorMessage: reason, Retryable: !e.lost && e.error!.errorType !== 'USER_ERROR' };
    } else if (state === 'CANCELLED' && e.error) {
      status.StateChangeReason = `${e.error.errorName}: ${e.error.message}`;
    }
    return {
      QueryExecutionId: e.seen.queryId,
      Query: e.seen.sql,
      StatementType: statementType(e),
      ResultConfiguration: {},
      QueryExecutionContext: { Database: e.seen.database, Catalog: 'AwsDataCatalog' },
      Status: status,
      Statistics: {
        EngineExecutionTimeInMillis: Math.max(0, (s?.elapsedTimeMillis ?? 0) - queued),
        QueryQueueTimeInMillis: queued,
        TotalExecutionTimeInMillis: s?.elapsedTimeMillis ?? 0,
        DataScannedInBytes: s?.physicalInputBytes ?? 0,
      },
      WorkGroup: e.seen.workGroup,
      ExecutionParameters: e.seen.executionParameters.length > 0 ? e.seen.executionParameters : undefined,
      EngineVersion: { SelectedEngineVersion: 'AUTO', EffectiveEngineVersion: 'Athena engine version 3' },
    };
  }

  /** GetQueryResults: Trino's rows as Athena's text values; a SELECT's first row repeats the column names. */
  private async results(e: Execution, nextToken: string | undefined, maxResults: number | undefined): Promise<unknown> {
    const state = stateOf(e);
    if (state === 'QUEUED' || state === 'RUNNING') throw new AthenaApiError('InvalidRequestException', `Query has not yet finished. Current state: ${state}`);
    if (state !== 'SUCCEEDED') throw new AthenaApiError('InvalidRequestException', `Query did not finish successfully. Final query state: ${state}`);
    const isSelect = e.last?.updateType === undefined;
    const columns = isSelect ? e.columns : [];
    const all = isSelect ? [columns.map((c) => c.name), ...e.rows.map((row) => row.map(athenaText))] : [];
    const start = nextToken === undefined ? 0 : Number(nextToken);
    const size = Math.min(maxResults ?? MAX_RESULTS, MAX_RESULTS);
    const page = all.slice(start, start + size);
    return {
      ...(e.last?.updateCount !== undefined ? { UpdateCount: e.last.updateCount } : {}),
      ResultSet: {
        Rows: page.map((values) => ({ Data: values.map((v) => (v === undefined ? {} : { VarCharValue: v })) })),
        ResultSetMetadata: { ColumnInfo: columns.map(columnInfo) },
      },
      ...(start + size < all.length ? { NextToken: String(start + size) } : {}),
    };
  }

  /** ListQueryExecutions: the workgroup's queries, most recent first. */
  private async list(workGroup: string | undefined, nextToken: string | undefined, maxResults: number | undefined): Promise<unknown> {
    const ids = [...this.queries.values()].filter((q) => q.workGroup === (workGroup ?? 'primary')).map((q) => q.queryId).reverse();
    const start = nextToken === undefined ? 0 : Number(nextToken);
    const size = Math.min(maxResults ?? 50, 50);
    return { QueryExecutionIds: ids.slice(start, start + size), ...(start + size < ids.length ? { NextToken: String(start + size) } : {}) };
  }

  /** moto's answer to a start in a workgroup it does not know, without recording a query there. */
  private async requireWorkGroup(name: string, headers: IncomingHttpHeaders): Promise<void> {
    const res = await fetch(this.opts.moto.url, {
      method: 'POST',
      headers: { ...forwardable(headers), 'x-amz-target': 'AmazonAthena.GetWorkGroup', 'content-type': 'application/x-amz-json-1.1' },
      body: JSON.stringify({ WorkGroup: name }),
    });
    if (!res.ok) throw new Error(`moto answered ${res.status} to GetWorkGroup ${name}: ${await res.text()}`);
    const found = (await res.json()) as { WorkGroup?: unknown };
    if (!found.WorkGroup) throw new AthenaApiError('InvalidRequestException', 'WorkGroup does not exist');
  }

  private async forwardToMoto(req: IncomingMessage, body: Buffer, res: ServerResponse): Promise<void> {
    const upstream = await fetch(`${this.opts.moto.url}${req.url ?? '/'}`, { method: req.method, headers: forwardable(req.headers), body: body.length > 0 ? body : undefined });
    const text = await upstream.text();
    const headers: Record<string, string> = {};
    upstream.headers.forEach((v, k) => {
      if (!HOP_BY_HOP.has(k)) headers[k] = v;
    });
    res.writeHead(upstream.status, headers);
    res.end(text);
  }
}

interface StartInput {
  QueryString: string;
  ClientRequestToken?: string;
  WorkGroup?: string;
  QueryExecutionContext?: { Database?: string; Catalog?: string };
  ExecutionParameters?: string[];
}

/** Trino's state mapped onto Athena's: SUCCEEDED only once the last page is fetched (Athena's results are in place by then). */
function stateOf(e: Execution): AthenaState {
  if (e.lost) return 'FAILED';
  if (e.stopped) return 'CANCELLED';
  if (e.error) return CANCELLED_ERRORS.has(e.error.errorName) ? 'CANCELLED' : 'FAILED';
  if (!e.last) return 'QUEUED';
  if (!e.nextUri) return 'SUCCEEDED';
  return TRINO_QUEUED.has(e.last.stats.state) ? 'QUEUED' : 'RUNNING';
}

function isTerminal(e: Execution): boolean {
  const s = stateOf(e);
  return s === 'SUCCEEDED' || s === 'FAILED' || s === 'CANCELLED';
}

function statementType(e: Execution): 'DDL' | 'DML' {
  const update = e.last?.updateType;
  return update === undefined || /^(INSERT|DELETE|UPDATE|MERGE)$/.test(update) ? 'DML' : 'DDL';
}

/** A value as Athena's VarCharValue text: arrays as [a, b], maps and rows as {k=v}, NULL as no value. */
function athenaText(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (Array.isArray(value)) return `[${value.map((v) => athenaText(v) ?? 'null').join(', ')}]`;
  if (typeof value === 'object') return `{${Object.entries(value).map(([k, v]) => `${k}=${athenaText(v) ?? 'null'}`).join(', ')}}`;
  return String(value);
}

/** Athena's ColumnInfo: the type's base name (`varchar(12)` -> `varchar`, `json` stays `json`), its precision and scale when it has them. */
function columnInfo(c: TrinoColumn): Record<string, unknown> {
  const [, base = c.type, args] = /^(\w+)(?:\((.*)\))?$/.exec(c.type) ?? [];
  const [precision, scale] = base === 'array' || base === 'map' || base === 'row' ? [] : (args ?? '').split(',').map((n) => Number(n.trim()));
  return {
    CatalogName: 'hive',
    SchemaName: '',
    TableName: '',
    Name: c.name,
    Label: c.name,
    Type: base,
    Precision: Number.isFinite(precision) ? precision : 0,
    Scale: Number.isFinite(scale) ? scale : 0,
    Nullable: 'UNKNOWN',
    CaseSensitive: base === 'varchar' || base === 'char',
  };
}

function kindOf(sql: string): StatementKind {
  const code = sql.replace(/--.*$/gm, '');
  if (CTAS_PROPERTIES.test(code) && EXTERNAL_LOCATION.test(code)) return 'ctas';
  if (/^\s*CREATE OR REPLACE VIEW\b/.test(code)) return 'view';
  if (/\bAS curated_rows\b/.test(code)) return 'validation';
  return 'other';
}

/** One protocol step; Trino's 502/503/504 ask the client to retry the same URI. */
async function advanceWithRetry(server: string, nextUri: string): Promise<TrinoResponse> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await advance(server, TRINO_USER, nextUri);
    } catch (err) {
      const status = (err as { status?: number }).status;
      if (attempt >= 20 || (status !== 502 && status !== 503 && status !== 504)) throw err;
      await new Promise((r) => setTimeout(r, 100 * (attempt + 1)));
    }
  }
}

function forwardable(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
