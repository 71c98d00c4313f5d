/**
 * What moto cannot produce, tested with aws-sdk-client-mock: moto never returns FAILED, ignores
 * ClientRequestToken, never throttles and never denies access. Here the Athena client's answers
 * are scripted, and the engine and the real polling loop (runEngineQuery) react to them.
 */
import assert from 'node:assert/strict';
import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  ListQueryExecutionsCommand,
  StartQueryExecutionCommand,
  type QueryExecutionState,
} from '@aws-sdk/client-athena';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { mockClient } from 'aws-sdk-client-mock';
import { runEngineQuery } from '../../../activities/runEngineQuery';
import { PipelineError, isRetryable } from '../../../core/errors';
import { AthenaQueryEngine } from '../../../lake/aws/athenaEngine';
import type { ObjectInfo, ObjectStore, QueryRequest } from '../../../lake/ports';

const QUIET = new DefaultLogger('ERROR');
const TOKEN_A = 'a'.repeat(64);
const TOKEN_B = 'b'.repeat(64);
const REQUEST: QueryRequest = { sql: 'SELECT count(*) FROM t WHERE year = ?', params: { year: '2024' }, idempotencyToken: TOKEN_A };

function sdkError(name: string, message: string, status = 400): Error {
  return Object.assign(new Error(message), { name, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status } });
}

function execution(state: QueryExecutionState, extra: Record<string, unknown> = {}) {
  return {
    QueryExecution: {
      QueryExecutionId: 'q-1',
      Status: { State: state, ...extra },
      Statistics: { DataScannedInBytes: 123_456, EngineExecutionTimeInMillis: 789, QueryQueueTimeInMillis: 12 },
    },
  };
}

class FakeStore implements ObjectStore {
  deleted: string[][] = [];
  constructor(private readonly objects: ObjectInfo[]) {}
  async list(): Promise<ObjectInfo[]> {
    return this.objects;
  }
  async deleteKeys(_bucket: string, keys: string[]): Promise<number> {
    this.deleted.push(keys);
    return keys.length;
  }
  async put(): Promise<void> {}
}

describe('AthenaQueryEngine with a scripted Athena (aws-sdk-client-mock)', () => {
  const client = new AthenaClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' }, maxAttempts: 1 });
  const athena = mockClient(client);
  let store: FakeStore;
  let tables: Set<string>;
  let engine: AthenaQueryEngine;

  beforeEach(() => {
    athena.reset();
    store = new FakeStore([]);
    tables = new Set();
    engine = new AthenaQueryEngine(client, {
      workGroup: 'wg',
      database: 'clickstream',
      outputLocation: 's3://results/athena/',
      store,
      tableExists: async (_db, t) => tables.has(t),
    });
  });
  after(() => athena.restore());

  it('passes the idempotency token as ClientRequestToken: the same token returns the same QueryExecutionId, a new one a new id', async () => {
    // Athena's documented behaviour, which moto does not implement.
    const ids = new Map<string, string>();
    athena.on(StartQueryExecutionCommand).callsFake((input: { ClientRequestToken: string }) => {
      if (!ids.has(input.ClientRequestToken)) ids.set(input.ClientRequestToken, `q-${ids.size + 1}`);
      return { QueryExecutionId: ids.get(input.ClientRequestToken) };
    });
    const first = await engine.start(REQUEST);
    const retried = await engine.start(REQUEST);
    const rerun = await engine.start({ ...REQUEST, idempotencyToken: TOKEN_B });
    assert.equal(first, 'q-1');
    assert.equal(retried, first);
    assert.equal(rerun, 'q-2');
    const calls = athena.commandCalls(StartQueryExecutionCommand).map((c) => c.args[0].input);
    assert.deepEqual(
      calls.map((c) => c.ClientRequestToken),
      [TOKEN_A, TOKEN_A, TOKEN_B],
    );
    assert.deepEqual(calls[0], {
      QueryString: REQUEST.sql,
      ClientRequestToken: TOKEN_A,
      WorkGroup: 'wg',
      QueryExecutionContext: { Database: 'clickstream', Catalog: 'AwsDataCatalog' },
      ResultConfiguration: { OutputLocation: 's3://results/athena/' },
      ExecutionParameters: ["'2024'"],
    });
  });

  it('rejects a token outside 32-128 characters and a parameter count that does not match the ? markers, before calling Athena', async () => {
    await assert.rejects(engine.start({ ...REQUEST, idempotencyToken: 'short' }), { type: 'InvalidInput' });
    await assert.rejects(engine.start({ ...REQUEST, params: {} }), (err: unknown) => {
      assert.ok(err instanceof PipelineError);
      assert.match(err.message, /1 '\?' parameter markers but 0 values/);
      return true;
    });
    assert.equal(athena.commandCalls(StartQueryExecutionCommand).length, 0);
  });

  it('maps statistics and states; FAILED carries the reason, error category and retryability', async () => {
    athena.on(GetQueryExecutionCommand).resolvesOnce(execution('QUEUED')).resolvesOnce(execution('RUNNING')).resolves(execution('SUCCEEDED'));
    assert.equal((await engine.status('q-1')).state, 'QUEUED');
    assert.equal((await engine.status('q-1')).state, 'RUNNING');
    assert.deepEqual(await engine.status('q-1'), { state: 'SUCCEEDED', stats: { bytesScanned: 123_456, engineMs: 789, queueMs: 12 } });
  });

  const failures: Array<{ category: number; name: string; retryable: boolean | undefined; reason: string; expectRetry: boolean }> = [
    { category: 1, name: 'SYSTEM', retryable: undefined, reason: 'Amazon Athena experienced an internal error', expectRetry: true },
    { category: 2, name: 'USER', retryable: undefined, reason: "SYNTAX_ERROR: line 1:8: Column 'nope' cannot be resolved", expectRetry: false },
    { category: 3, name: 'OTHER', retryable: undefined, reason: 'something else', expectRetry: true },
    { category: 1, name: 'SYSTEM', retryable: false, reason: 'HIVE_PATH_ALREADY_EXISTS: Target directory for table already exists', expectRetry: false },
    { category: 2, name: 'USER', retryable: true, reason: 'HIVE_CANNOT_OPEN_SPLIT: slow down', expectRetry: true },
    { category: 1, name: 'SYSTEM', retryable: true, reason: 'Query exhausted resources at this scale factor', expectRetry: false },
  ];
  for (const f of failures) {
    it(`FAILED, category ${f.category} (${f.name}), Retryable=${f.retryable}: "${f.reason.slice(0, 40)}" -> QueryFailed, ${f.expectRetry ? 'retryable' : 'non-retryable'}`, async () => {
      athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-1' });
      athena
        .on(GetQueryExecutionCommand)
        .resolvesOnce(execution('RUNNING'))
        .resolves(
          execution('FAILED', {
            StateChangeReason: f.reason,
            AthenaError: { ErrorCategory: f.category, ErrorType: 1000, Retryable: f.retryable, ErrorMessage: f.reason },
          }),
        );
      const env = new MockActivityEnvironment(undefined, { logger: QUIET });
      await assert.rejects(
        env.run(() => runEngineQuery(engine, () => REQUEST, { initialMs: 1, maxMs: 2, multiplier: 2 })),
        (err: unknown) => {
          assert.ok(err instanceof PipelineError, String(err));
          assert.equal(err.type, 'QueryFailed');
          assert.equal(isRetryable(err), f.expectRetry);
          assert.ok(err.message.includes(f.reason), err.message);
          assert.match(err.message, new RegExp(`Athena error category ${f.name}`));
          assert.equal(err.details.errorCategory, f.category);
          return true;
        },
      );
      assert.equal(athena.commandCalls(GetQueryExecutionCommand).length, 2);
    });
  }

  it('CANCELLED outside the workflow becomes QueryCancelled (non-retryable) with the reason', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-1' });
    athena.on(GetQueryExecutionCommand).resolves(execution('CANCELLED', { StateChangeReason: 'Query cancelled by user' }));
    const env = new MockActivityEnvironment(undefined, { logger: QUIET });
    await assert.rejects(env.run(() => runEngineQuery(engine, () => REQUEST, { initialMs: 1, maxMs: 2, multiplier: 2 })), (err: unknown) => {
      assert.ok(err instanceof PipelineError);
      assert.equal(err.type, 'QueryCancelled');
      assert.equal(isRetryable(err), false);
      assert.match(err.message, /Query cancelled by user/);
      return true;
    });
  });

  it('throttling on start (TooManyRequestsException: active-query quota) is Throttled and retryable', async () => {
    athena.on(StartQueryExecutionCommand).rejects(sdkError('TooManyRequestsException', 'You have exceeded the limit for the number of queries you can run concurrently'));
    await assert.rejects(engine.start(REQUEST), (err: unknown) => {
      assert.ok(err instanceof PipelineError);
      assert.equal(err.type, 'Throttled');
      assert.equal(isRetryable(err), true);
      assert.match(err.message, /active-query quota/);
      return true;
    });
  });

  it('throttling on status is Throttled and retryable; the polling loop surfaces it for the activity retry', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-1' });
    athena.on(GetQueryExecutionCommand).resolvesOnce(execution('RUNNING')).rejects(sdkError('ThrottlingException', 'Rate exceeded'));
    const env = new MockActivityEnvironment(undefined, { logger: QUIET });
    await assert.rejects(env.run(() => runEngineQuery(engine, () => REQUEST, { initialMs: 1, maxMs: 2, multiplier: 2 })), (err: unknown) => {
      assert.ok(err instanceof PipelineError);
      assert.equal(err.type, 'Throttled');
      assert.equal(isRetryable(err), true);
      assert.equal(err.details.operation, 'GetQueryExecution');
      return true;
    });
  });

  it('AccessDenied on start is non-retryable and points at the IAM policy', async () => {
    athena.on(StartQueryExecutionCommand).rejects(sdkError('AccessDeniedException', 'User: arn:aws:sts::1:assumed-role/w is not authorized to perform: athena:StartQueryExecution'));
    await assert.rejects(engine.start(REQUEST), (err: unknown) => {
      assert.ok(err instanceof PipelineError);
      assert.equal(err.type, 'AccessDenied');
      assert.equal(isRetryable(err), false);
      assert.match(err.message, /athena:StartQueryExecution.*iam\/worker-policy\.json/);
      return true;
    });
  });

  it('reads every page of GetQueryResults, dropping only the header row', async () => {
    const columns = [{ Name: 'n', Type: 'bigint' }, { Name: 'label', Type: 'varchar' }];
    const row = (...v: string[]) => ({ Data: v.map((x) => ({ VarCharValue: x })) });
    athena
      .on(GetQueryResultsCommand)
      .resolvesOnce({ ResultSet: { ResultSetMetadata: { ColumnInfo: columns }, Rows: [row('n', 'label'), row('1', 'a')] }, NextToken: 't1' })
      .resolvesOnce({ ResultSet: { ResultSetMetadata: { ColumnInfo: columns }, Rows: [row('2', 'b')] }, NextToken: 't2' })
      .resolvesOnce({ ResultSet: { ResultSetMetadata: { ColumnInfo: columns }, Rows: [row('3', 'c')] } });
    assert.deepEqual(await engine.results('q-1'), [
      { n: '1', label: 'a' },
      { n: '2', label: 'b' },
      { n: '3', label: 'c' },
    ]);
    // (The paginator reuses one input object, so the recorded calls cannot show each NextToken.)
    assert.equal(athena.commandCalls(GetQueryResultsCommand).length, 3);
  });

  it('parses JSON-typed columns (validation\'s unknown_fields) and leaves the rest as strings', async () => {
    const columns = [{ Name: 'raw_lines', Type: 'bigint' }, { Name: 'unknown_fields', Type: 'json' }];
    const row = (...v: string[]) => ({ Data: v.map((x) => ({ VarCharValue: x })) });
    athena.on(GetQueryResultsCommand).resolves({ ResultSet: { ResultSetMetadata: { ColumnInfo: columns }, Rows: [row('raw_lines', 'unknown_fields'), row('7', '["a","b"]')] } });
    assert.deepEqual(await engine.results('q-1'), [{ raw_lines: '7', unknown_fields: ['a', 'b'] }]);
    athena.reset();
    athena.on(GetQueryResultsCommand).resolves({ ResultSet: { ResultSetMetadata: { ColumnInfo: columns }, Rows: [row('7', '[not json')] } });
    await assert.rejects(engine.results('q-1'), { type: 'QueryFailed' });
  });

  describe('CTAS leftovers in the staging folder', () => {
    const LOCATION = 's3://lake/curated/clickstream/year=2024/month=03/day=01/hour=07/run=r/';
    const CTAS: QueryRequest & { ctas: { database: string; table: string; location: string } } = {
      sql: `CREATE TABLE db.stg WITH (external_location = '${LOCATION}') AS SELECT 1 AS x`,
      params: {},
      idempotencyToken: TOKEN_A,
      ctas: { database: 'db', table: 'stg', location: LOCATION },
    };
    const leftover: ObjectInfo = { key: 'curated/clickstream/year=2024/month=03/day=01/hour=07/run=r/part-0', size: 1, etag: 'e' };

    beforeEach(() => {
      store = new FakeStore([leftover]);
      engine = new AthenaQueryEngine(client, { workGroup: 'wg', database: 'db', store, tableExists: async (_d, t) => tables.has(t) });
      athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-new' });
      athena.on(ListQueryExecutionsCommand).resolves({ QueryExecutionIds: ['q-old'] });
    });

    it('a still-running query writing there keeps them (a retried start reattaches by token)', async () => {
      athena.on(GetQueryExecutionCommand, { QueryExecutionId: 'q-old' }).resolves({ QueryExecution: { Query: CTAS.sql, Status: { State: 'RUNNING' } } });
      assert.equal(await engine.start(CTAS), 'q-new');
      assert.deepEqual(store.deleted, []);
    });

    it('leftovers of a failed query are deleted before the new CTAS starts', async () => {
      athena.on(GetQueryExecutionCommand, { QueryExecutionId: 'q-old' }).resolves({ QueryExecution: { Query: CTAS.sql, Status: { State: 'FAILED' } } });
      await engine.start(CTAS);
      assert.deepEqual(store.deleted, [[leftover.key]]);
    });

    it('an existing staging table means the CTAS succeeded: its output is kept', async () => {
      tables.add('stg');
      await engine.start(CTAS);
      assert.deepEqual(store.deleted, []);
      assert.equal(athena.commandCalls(ListQueryExecutionsCommand).length, 0);
    });
  });
});
