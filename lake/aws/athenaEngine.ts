/**
 * QueryEngine over Athena: StartQueryExecution (ClientRequestToken = the request's idempotency
 * token, so a retried start returns the same QueryExecutionId), GetQueryExecution for status and
 * statistics, GetQueryResults (all pages) and StopQueryExecution. Polling, heartbeats and
 * cancellation live in activities/runEngineQuery.ts, the same loop the local engine uses.
 */
import {
  GetQueryExecutionCommand,
  ListQueryExecutionsCommand,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
  paginateGetQueryResults,
  type AthenaClient,
  type QueryExecution,
} from '@aws-sdk/client-athena';
import { PipelineError } from '../../core/errors';
import { parseS3Uri } from '../../core/locations';
import type { ObjectStore, QueryEngine, QueryRequest, QueryState, QueryStatus } from '../ports';
import { athenaLiteral, countParameterMarkers } from './athenaSql';
import { isCtasRequest } from './athenaStatements';
import { awsCall, classifyAthenaFailure } from './classifyAwsError';

export interface AthenaEngineOptions {
  workGroup: string;
  /** Database the statements run in (QueryExecutionContext). */
  database: string;
  /** ResultConfiguration.OutputLocation; undefined uses the workgroup's. */
  outputLocation?: string;
  /** For clearing a failed CTAS attempt's leftovers before the next attempt (see prepareCtas). */
  store: ObjectStore;
  tableExists(database: string, table: string): Promise<boolean>;
  /** Called with the leftover keys a failed CTAS attempt left behind, before they are deleted. */
  onLeftovers?: (location: string, keys: string[]) => void;
}

const STATES: ReadonlySet<string> = new Set<QueryState>(['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED']);
/** How many of the workgroup's most recent queries prepareCtas inspects (one ListQueryExecutions page). */
const RECENT_QUERIES = 50;

export class AthenaQueryEngine implements QueryEngine {
  constructor(
    private readonly athena: AthenaClient,
    private readonly opts: AthenaEngineOptions,
  ) {}

  async start(request: QueryRequest): Promise<string> {
    const token = request.idempotencyToken;
    if (token.length < 32 || token.length > 128) {
      throw new PipelineError('InvalidInput', `Athena ClientRequestToken must be 32-128 characters; got ${token.length}`);
    }
    const values = Object.values(request.params);
    const markers = countParameterMarkers(request.sql);
    if (markers !== values.length) {
      throw new PipelineError(
        'InvalidInput',
        `statement has ${markers} '?' parameter markers but ${values.length} values (${Object.keys(request.params).join(', ')}); fix the sql/athena file or its statement builder`,
      );
    }
    if (isCtasRequest(request)) await this.prepareCtas(request.ctas);
    const res = await awsCall({ service: 'Athena', operation: 'StartQueryExecution', resource: this.opts.workGroup, setting: 'CLICKSTREAM_AWS_ATHENA_WORKGROUP' }, () =>
      this.athena.send(
        new StartQueryExecutionCommand({
          QueryString: request.sql,
          ClientRequestToken: token,
          WorkGroup: this.opts.workGroup,
          QueryExecutionContext: { Database: this.opts.database, Catalog: 'AwsDataCatalog' },
          ResultConfiguration: this.opts.outputLocation ? { OutputLocation: this.opts.outputLocation } : undefined,
          ExecutionParameters: values.length > 0 ? values.map(athenaLiteral) : undefined,
        }),
      ),
    );
    if (!res.QueryExecutionId) throw new PipelineError('TransientBackend', 'Athena StartQueryExecution returned no QueryExecutionId');
    return res.QueryExecutionId;
  }

  async status(queryId: string): Promise<QueryStatus> {
    const q = await this.describe(queryId);
    const state = q.Status?.State ?? 'QUEUED';
    if (!STATES.has(state)) throw new PipelineError('TransientBackend', `Athena reported unknown state '${state}' for query ${queryId}`);
    const s = q.Statistics ?? {};
    const status: QueryStatus = {
      state: state as QueryState,
      stats: {
        bytesScanned: s.DataScannedInBytes ?? 0,
        engineMs: s.EngineExecutionTimeInMillis ?? 0,
        queueMs: s.QueryQueueTimeInMillis ?? 0,
      },
    };
    if (state === 'FAILED') {
      const e = q.Status?.AthenaError;
      const verdict = classifyAthenaFailure({
        reason: q.Status?.StateChangeReason,
        errorCategory: e?.ErrorCategory,
        errorType: e?.ErrorType,
        retryable: e?.Retryable,
      });
      status.reason = verdict.reason;
      status.errorCategory = e?.ErrorCategory;
      status.retryable = verdict.retryable;
    } else if (state === 'CANCELLED') {
      status.reason = q.Status?.StateChangeReason ?? 'stopped with StopQueryExecution';
    }
    return status;
  }

  /** All result rows as records keyed by column name: Athena's strings (numbers too), JSON-typed columns parsed. */
  async results(queryId: string): Promise<Record<string, unknown>[]> {
    const rows: Record<string, unknown>[] = [];
    let columns: string[] | undefined;
    let jsonColumns: Set<string> | undefined;
    let first = true;
    await awsCall({ service: 'Athena', operation: 'GetQueryResults', resource: `query ${queryId}` }, async () => {
      for await (const page of paginateGetQueryResults({ client: this.athena }, { QueryExecutionId: queryId })) {
        const info = page.ResultSet?.ResultSetMetadata?.ColumnInfo ?? [];
        columns ??= info.map((c) => c.Name ?? c.Label ?? '');
        jsonColumns ??= new Set(info.filter((c) => c.Type?.toLowerCase() === 'json').map((c) => c.Name ?? c.Label ?? ''));
        for (const row of page.ResultSet?.Rows ?? []) {
          const values = (row.Data ?? []).map((d) => d.VarCharValue);
          // A SELECT's first row repeats the column names (Athena's CSV header).
          if (first && values.length === columns.length && values.every((v, i) => v === columns![i])) {
            first = false;
            continue;
          }
          first = false;
          rows.push(Object.fromEntries(columns.map((c, i) => [c, decode(c, values[i], jsonColumns!, queryId)])));
        }
      }
    });
    return rows;
  }

  // ---- resultPages (clickstream query): one GetQueryResults page at a time ----

  /**
   * The rows of a SUCCEEDED query one GetQueryResults page (up to 1,000 rows) at a time, decoded
   * as results() decodes them; the next page is requested only when the reader asks for it.
   */
  async *resultPages(queryId: string): AsyncIterable<Record<string, unknown>[]> {
    const pages = paginateGetQueryResults({ client: this.athena }, { QueryExecutionId: queryId })[Symbol.asyncIterator]();
    let columns: string[] | undefined;
    let jsonColumns: Set<string> | undefined;
    let first = true;
    for (;;) {
      const next = await awsCall({ service: 'Athena', operation: 'GetQueryResults', resource: `query ${queryId}` }, () => pages.next());
      if (next.done) return;
      const info = next.value.ResultSet?.ResultSetMetadata?.ColumnInfo ?? [];
      columns ??= info.map((c) => c.Name ?? c.Label ?? '');
      jsonColumns ??= new Set(info.filter((c) => c.Type?.toLowerCase() === 'json').map((c) => c.Name ?? c.Label ?? ''));
      const rows: Record<string, unknown>[] = [];
      for (const row of next.value.ResultSet?.Rows ?? []) {
        const values = (row.Data ?? []).map((d) => d.VarCharValue);
        // A SELECT's first row repeats the column names (Athena's CSV header): only on the first page.
        const header = first && values.length === columns.length && values.every((v, i) => v === columns![i]);
        first = false;
        if (!header) rows.push(Object.fromEntries(columns.map((c, i) => [c, decode(c, values[i], jsonColumns!, queryId)])));
      }
      if (rows.length > 0) yield rows;
    }
  }

  // ---- end of resultPages ----

  /** StopQueryExecution; stopping a query that already ended is a no-op in Athena. */
  async cancel(queryId: string): Promise<void> {
    await awsCall({ service: 'Athena', operation: 'StopQueryExecution', resource: `query ${queryId}` }, () =>
      this.athena.send(new StopQueryExecutionCommand({ QueryExecutionId: queryId })),
    );
  }

  async close(): Promise<void> {}

  private async describe(queryId: string): Promise<QueryExecution> {
    const res = await awsCall({ service: 'Athena', operation: 'GetQueryExecution', resource: `query ${queryId}` }, () =>
      this.athena.send(new GetQueryExecutionCommand({ QueryExecutionId: queryId })),
    );
    if (!res.QueryExecution) throw new PipelineError('QueryNotFound', `Athena returned no execution for query ${queryId}; it will be resubmitted`);
    return res.QueryExecution;
  }

  /**
   * A CTAS fails when its external_location already holds objects, and a failed or cancelled
   * CTAS can leave some behind. Before starting, objects in the staging folder are deleted
   * unless they may belong to this very query: when the staging table exists (the CTAS already
   * succeeded; the same token returns it) or a recent query writing there is still queued or
   * running (a retried start reattaches to it by token).
   */
  private async prepareCtas(ctas: { database: string; table: string; location: string }): Promise<void> {
    const { bucket, key } = parseS3Uri(ctas.location);
    const leftovers = await this.opts.store.list(bucket, key);
    if (leftovers.length === 0) return;
    if (await this.opts.tableExists(ctas.database, ctas.table)) return;
    if (await this.liveQueryWritesTo(ctas.location)) return;
    this.opts.onLeftovers?.(ctas.location, leftovers.map((o) => o.key));
    await this.opts.store.deleteKeys(bucket, leftovers.map((o) => o.key));
  }

  private async liveQueryWritesTo(location: string): Promise<boolean> {
    const list = await awsCall({ service: 'Athena', operation: 'ListQueryExecutions', resource: `workgroup ${this.opts.workGroup}` }, () =>
      this.athena.send(new ListQueryExecutionsCommand({ WorkGroup: this.opts.workGroup, MaxResults: RECENT_QUERIES })),
    );
    for (const id of (list.QueryExecutionIds ?? []).slice(0, RECENT_QUERIES)) {
      const q = await this.describe(id);
      const state = q.Status?.State;
      if ((state === 'QUEUED' || state === 'RUNNING') && (q.Query ?? '').includes(`'${location}'`)) return true;
    }
    return false;
  }
}

/** A JSON-typed column (e.g. validation's unknown_fields) is parsed, so lists arrive as lists; the rest stay strings. */
function decode(column: string, value: string | undefined, jsonColumns: Set<string>, queryId: string): unknown {
  if (value === undefined) return null;
  if (!jsonColumns.has(column)) return value;
  try {
    return JSON.parse(value);
  } catch (err) {
    throw new PipelineError('QueryFailed', `query ${queryId} returned invalid JSON in column ${column}: ${value.slice(0, 200)}`, { cause: err, retryable: false });
  }
}
