/**
 * A test-only "Athena stand-in": an HTTP proxy in front of moto's Athena API that plays the part
 * of Athena's SQL engine, which moto does not have. The worker's Athena client points at it
 * (CLICKSTREAM_AWS_ATHENA_ENDPOINT_URL); S3 and Glue go to moto directly.
 *
 * Every call is forwarded to moto unchanged, so moto still owns the queries: their ids, and their
 * QUEUED -> RUNNING -> SUCCEEDED progression under the state manager. The stand-in adds only the
 * side effects of executing SQL:
 * - a CTAS (`CREATE TABLE db.t WITH (external_location = '...') AS ...`): when moto first reports
 *   it SUCCEEDED, the stand-in writes Parquet-named objects into external_location and creates
 *   the staging table in Glue, and only then hands the answer to the worker, as Athena has
 *   written both by the time it reports success;
 * - the validation counts query: just before its StartQueryExecution reaches moto, the stand-in
 *   queues the result rows through /moto-api/static/athena/query-results, and moto attaches queued
 *   results to the next query started. The numbers come from the test (the fixture's counts).
 *
 * Why a proxy rather than a loop watching ListQueryExecutions/GetQueryExecution: moto advances a
 * query's manual progression on every GetQueryExecution, whoever calls it, so a watcher would
 * steal the poller's ticks and make the status-call counts depend on timing; and a watcher could
 * write the staging objects after the worker already saw SUCCEEDED and moved on. Seeing the
 * traffic also lets the tests count status calls on the wire, independently of the engine.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand } from '@aws-sdk/client-glue';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { parseS3Uri } from '../../../core/locations';
import type { AwsClients } from '../../../lake/aws/awsClients';
import type { MotoServer } from './motoServer';

export type StatementKind = 'ctas' | 'validation' | 'view' | 'other';

/** One StartQueryExecution the stand-in saw, and what happened to the query since. */
export interface SeenQuery {
  queryId: string;
  kind: StatementKind;
  sql: string;
  executionParameters: string[];
  clientRequestToken: string | undefined;
  /** The state moto answered each GetQueryExecution with, in order. */
  states: string[];
  /** For a CTAS: the table and folder it wrote, once it did. */
  wrote?: { database: string; table: string; location: string; keys: string[] };
}

/** The validation row as Athena returns it: counts as text, unknown_fields as a JSON-typed column. */
export interface ValidationAnswer {
  raw_lines: number;
  curated_rows: number;
  rejected: number;
  duplicates: number;
  unknown_fields: string[];
}

export interface AthenaStandInOptions {
  moto: MotoServer;
  /** Clients on moto itself, for the CTAS side effects (S3 objects, the Glue staging table). */
  clients: Pick<AwsClients, 's3' | 'glue'>;
  /** The counts Athena would compute for a validation query (its ExecutionParameters name the hour and files). */
  answerValidation: (query: SeenQuery) => ValidationAnswer;
  /** Objects each CTAS writes (Athena writes one or more files per query). */
  filesPerCtas?: number;
}

const CTAS = /^\s*CREATE TABLE (\w+)\.(\w+)\s+WITH\s*\(([\s\S]*?)\)\s*AS\b/;
const EXTERNAL_LOCATION = /external_location\s*=\s*'([^']+)'/;
/** Headers fetch() refuses or sets itself. */
const HOP_BY_HOP = new Set(['host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive', 'expect', 'content-encoding']);

export class AthenaStandIn {
  /** Every query started through the stand-in, by QueryExecutionId, in start order. */
  readonly queries = new Map<string, SeenQuery>();
  private startLock: Promise<unknown> = Promise.resolve();
  private readonly materialized = new Map<string, Promise<void>>();

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

  /** GetQueryExecution calls that reached moto, over all queries. */
  statusCalls(): number {
    return [...this.queries.values()].reduce((n, q) => n + q.states.length, 0);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const operation = String(req.headers['x-amz-target'] ?? '').replace(/^AmazonAthena\./, '');
    const forward = () =>
      fetch(`${this.opts.moto.url}${req.url ?? '/'}`, { method: req.method, headers: forwardable(req.headers), body: body.length > 0 ? body : undefined });

    let upstream: Response;
    let text: string;
    if (operation === 'StartQueryExecution') {
      // Serialized: a queued result must attach to this query, not to one started concurrently.
      const run = this.startLock.then(async () => {
        const request = JSON.parse(body.toString('utf8')) as { QueryString: string; ExecutionParameters?: string[]; ClientRequestToken?: string };
        const seen: SeenQuery = {
          queryId: '',
          kind: kindOf(request.QueryString),
          sql: request.QueryString,
          executionParameters: request.ExecutionParameters ?? [],
          clientRequestToken: request.ClientRequestToken,
          states: [],
        };
        if (seen.kind === 'validation') await this.queueValidationResult(seen);
        const r = await forward();
        const t = await r.text();
        if (r.ok) {
          seen.queryId = (JSON.parse(t) as { QueryExecutionId: string }).QueryExecutionId;
          this.queries.set(seen.queryId, seen);
        }
        return [r, t] as const;
      });
      this.startLock = run.catch(() => undefined);
      [upstream, text] = await run;
    } else {
      upstream = await forward();
      text = await upstream.text();
      if (operation === 'GetQueryExecution' && upstream.ok) await this.observeStatus(text);
    }
    const headers: Record<string, string> = {};
    upstream.headers.forEach((v, k) => {
      if (!HOP_BY_HOP.has(k)) headers[k] = v;
    });
    res.writeHead(upstream.status, headers);
    res.end(text);
  }

  /** Records the state moto answered; on a CTAS's first SUCCEEDED, writes what the CTAS writes before the worker hears of it. */
  private async observeStatus(text: string): Promise<void> {
    const execution = (JSON.parse(text) as { QueryExecution?: { QueryExecutionId?: string; Status?: { State?: string } } }).QueryExecution;
    const seen = execution?.QueryExecutionId ? this.queries.get(execution.QueryExecutionId) : undefined;
    if (!seen) return;
    const state = execution?.Status?.State ?? '';
    seen.states.push(state);
    if (state === 'SUCCEEDED' && seen.kind === 'ctas') {
      if (!this.materialized.has(seen.queryId)) this.materialized.set(seen.queryId, this.writeCtasOutput(seen));
      await this.materialized.get(seen.queryId);
    }
  }

  private async writeCtasOutput(seen: SeenQuery): Promise<void> {
    const [, database, table, props] = CTAS.exec(stripComments(seen.sql))!;
    const location = EXTERNAL_LOCATION.exec(props!)![1]!;
    const { bucket, key } = parseS3Uri(location);
    const keys: string[] = [];
    for (let i = 0; i < (this.opts.filesPerCtas ?? 2); i++) {
      // Athena names CTAS output files after the query; the content only needs the Parquet magic.
      const k = `${key}${seen.queryId}_${String(i).padStart(5, '0')}`;
      await this.opts.clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: k, Body: `PAR1 written for query ${seen.queryId} PAR1` }));
      keys.push(k);
    }
    await this.opts.clients.glue.send(
      new CreateTableCommand({
        DatabaseName: database!,
        TableInput: {
          Name: table!,
          TableType: 'EXTERNAL_TABLE',
          Parameters: { EXTERNAL: 'TRUE', classification: 'parquet' },
          StorageDescriptor: {
            Location: location,
            InputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
            OutputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
            SerdeInfo: { SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
          },
        },
      }),
    );
    seen.wrote = { database: database!, table: table!, location, keys };
  }

  private async queueValidationResult(seen: SeenQuery): Promise<void> {
    const a = this.opts.answerValidation(seen);
    await this.opts.moto.queueAthenaResult(
      ['raw_lines', 'curated_rows', 'rejected', 'duplicates', 'unknown_fields'],
      [
        {
          raw_lines: String(a.raw_lines),
          curated_rows: String(a.curated_rows),
          rejected: String(a.rejected),
          duplicates: String(a.duplicates),
          unknown_fields: JSON.stringify(a.unknown_fields),
        },
      ],
      { raw_lines: 'bigint', curated_rows: 'bigint', rejected: 'bigint', duplicates: 'bigint', unknown_fields: 'json' },
    );
  }
}

function kindOf(sql: string): StatementKind {
  const code = stripComments(sql);
  if (CTAS.test(code) && EXTERNAL_LOCATION.test(code)) return 'ctas';
  if (/^\s*CREATE OR REPLACE VIEW\b/.test(code)) return 'view';
  if (/\bAS curated_rows\b/.test(code)) return 'validation';
  return 'other';
}

const stripComments = (sql: string) => sql.replace(/--.*$/gm, '');

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
