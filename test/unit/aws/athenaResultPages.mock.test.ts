/**
 * AthenaQueryEngine.resultPages and the CLI's streamQuery over it, with a scripted Athena
 * (aws-sdk-client-mock): moto can start Athena queries but never executes their SQL, so it has
 * no result rows to page. Checked here: one GetQueryResults page per yielded page, the next page
 * requested only when the reader asks for it, the header row skipped on the first page only,
 * JSON columns parsed, errors classified, and the CLI's polling path ending at SUCCEEDED.
 */
import assert from 'node:assert/strict';
import { AthenaClient, GetQueryExecutionCommand, GetQueryResultsCommand, StartQueryExecutionCommand } from '@aws-sdk/client-athena';
import { mockClient } from 'aws-sdk-client-mock';
import { streamQuery } from '../../../cli/commands/query';
import { createRowWriter } from '../../../cli/queryOutput';
import { PipelineError } from '../../../core/errors';
import { AthenaQueryEngine } from '../../../lake/aws/athenaEngine';

const COLUMNS = [
  { Name: 'user_id', Type: 'varchar' },
  { Name: 'events', Type: 'bigint' },
  { Name: 'tags', Type: 'json' },
];
const row = (...v: string[]) => ({ Data: v.map((x) => ({ VarCharValue: x })) });
const page = (rows: ReturnType<typeof row>[], next?: string) => ({ ResultSet: { ResultSetMetadata: { ColumnInfo: COLUMNS }, Rows: rows }, NextToken: next });

describe('AthenaQueryEngine.resultPages with a scripted Athena (moto cannot execute SQL)', () => {
  const client = new AthenaClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' }, maxAttempts: 1 });
  const athena = mockClient(client);
  const engine = new AthenaQueryEngine(client, {
    workGroup: 'wg',
    database: 'clickstream',
    store: { list: async () => [], deleteKeys: async () => 0, put: async () => {} },
    tableExists: async () => false,
  });
  beforeEach(() => athena.reset());
  after(() => athena.restore());

  function threePages() {
    athena
      .on(GetQueryResultsCommand)
      .resolvesOnce(page([row('user_id', 'events', 'tags'), row('u1', '3', '["a"]'), row('u2', '2', '[]')], 't1'))
      .resolvesOnce(page([row('u3', '1', 'null')], 't2'))
      .resolvesOnce(page([row('u4', '1', '["b","c"]')]));
  }

  it('yields one page per GetQueryResults page and asks for the next only when the reader does', async () => {
    threePages();
    const pages: unknown[] = [];
    const callsWhenYielded: number[] = [];
    for await (const p of engine.resultPages('q-1')) {
      pages.push(p);
      callsWhenYielded.push(athena.commandCalls(GetQueryResultsCommand).length);
    }
    assert.deepEqual(callsWhenYielded, [1, 2, 3]);
    assert.deepEqual(pages, [
      [
        { user_id: 'u1', events: '3', tags: ['a'] },
        { user_id: 'u2', events: '2', tags: [] },
      ],
      [{ user_id: 'u3', events: '1', tags: null }],
      [{ user_id: 'u4', events: '1', tags: ['b', 'c'] }],
    ]);
  });

  it('skips the header row on the first page only: a later row equal to the column names is data', async () => {
    const info = { ResultSetMetadata: { ColumnInfo: [{ Name: 'a', Type: 'varchar' }] } };
    athena
      .on(GetQueryResultsCommand)
      .resolvesOnce({ ResultSet: { ...info, Rows: [row('a'), row('x')] }, NextToken: 't1' })
      .resolvesOnce({ ResultSet: { ...info, Rows: [row('a')] } });
    const pages: unknown[] = [];
    for await (const p of engine.resultPages('q-1')) pages.push(p);
    assert.deepEqual(pages, [[{ a: 'x' }], [{ a: 'a' }]]);
  });

  it('a reader that stops after the first page causes no further GetQueryResults call', async () => {
    threePages();
    for await (const p of engine.resultPages('q-1')) {
      assert.equal(p.length, 2);
      break;
    }
    assert.equal(athena.commandCalls(GetQueryResultsCommand).length, 1);
  });

  it('an Athena error while paging is classified like any Athena call (names the API and the query)', async () => {
    athena
      .on(GetQueryResultsCommand)
      .resolvesOnce(page([row('user_id', 'events', 'tags'), row('u1', '3', '[]')], 't1'))
      .rejectsOnce(Object.assign(new Error('Query has expired'), { name: 'InvalidRequestException', $fault: 'client', $metadata: { httpStatusCode: 400 } }));
    const seen: unknown[] = [];
    await assert.rejects(
      (async () => {
        for await (const p of engine.resultPages('q-1')) seen.push(p);
      })(),
      (err: unknown) => err instanceof PipelineError && /GetQueryResults/.test(err.message) && /q-1/.test(err.message),
    );
    assert.equal(seen.length, 1, 'the first page was delivered before the failure');
  });

  it("the CLI's streamQuery starts, polls until SUCCEEDED, then prints each page as JSON lines as it arrives", async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-1' });
    athena
      .on(GetQueryExecutionCommand)
      .resolvesOnce({ QueryExecution: { QueryExecutionId: 'q-1', Status: { State: 'QUEUED' } } })
      .resolvesOnce({ QueryExecution: { QueryExecutionId: 'q-1', Status: { State: 'RUNNING' } } })
      .resolves({ QueryExecution: { QueryExecutionId: 'q-1', Status: { State: 'SUCCEEDED' } } });
    threePages();
    const writes: string[] = [];
    const summary = await streamQuery(engine, 'SELECT user_id, count(*) AS events FROM clickstream_events_curated GROUP BY 1', { initialMs: 1, maxMs: 2, multiplier: 1 }, createRowWriter('ndjson', async (t) => void writes.push(t)));
    assert.deepEqual(summary, { queryId: 'q-1', rows: 4, pages: 3 });
    assert.equal(writes.length, 3, 'one write per page');
    assert.equal(athena.commandCalls(GetQueryExecutionCommand).length, 3);
    const start = athena.commandCalls(StartQueryExecutionCommand)[0]!.args[0].input;
    assert.equal(start.ExecutionParameters, undefined, 'ad-hoc SQL carries no parameters');
    assert.match(start.ClientRequestToken!, /^clickstream-cli-query-[0-9a-f-]{36}$/);
    assert.equal(writes[0], '{"user_id":"u1","events":"3","tags":["a"]}\n{"user_id":"u2","events":"2","tags":[]}\n');
  });

  it('a FAILED query ends streamQuery with QueryFailed carrying Athena\'s reason, before any page is read', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-1' });
    athena.on(GetQueryExecutionCommand).resolves({
      QueryExecution: { QueryExecutionId: 'q-1', Status: { State: 'FAILED', StateChangeReason: "TABLE_NOT_FOUND: Table 'nope' does not exist", AthenaError: { ErrorCategory: 2 } } },
    });
    await assert.rejects(
      streamQuery(engine, 'SELECT * FROM nope', { initialMs: 1, maxMs: 2, multiplier: 1 }, createRowWriter('ndjson', async () => {})),
      (err: unknown) => err instanceof PipelineError && err.type === 'QueryFailed' && /TABLE_NOT_FOUND/.test(err.message),
    );
    assert.equal(athena.commandCalls(GetQueryResultsCommand).length, 0);
  });
});
