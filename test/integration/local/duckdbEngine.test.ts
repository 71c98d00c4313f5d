import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { PipelineError, isRetryable } from '../../../core/errors';
import type { QueryRequest, QueryStatus } from '../../../lake/ports';
import type { DuckDbQueryEngine } from '../../../lake/local/duckdbEngine';
import { makeTestLake, type TestLake } from '../../support/testLake';
import { countingEngine } from '../../support/countingEngine';

/** Polls until the query leaves QUEUED/RUNNING (the same protocol the activities use, minus Temporal). */
async function waitDone(engine: DuckDbQueryEngine, id: string, timeoutMs = 20_000): Promise<QueryStatus> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await engine.status(id);
    if (s.state !== 'QUEUED' && s.state !== 'RUNNING') return s;
    if (Date.now() > deadline) throw new Error(`query ${id} still ${s.state} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function waitState(engine: DuckDbQueryEngine, id: string, state: QueryStatus['state']): Promise<void> {
  const deadline = Date.now() + 10_000;
  while ((await engine.status(id)).state !== state) {
    if (Date.now() > deadline) throw new Error(`query ${id} never reached ${state}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

let tokenCounter = 0;
const req = (sql: string, params: QueryRequest['params'] = {}, extra: Partial<QueryRequest> = {}): QueryRequest => ({
  sql,
  params,
  idempotencyToken: `test-token-${process.pid}-${++tokenCounter}`.padEnd(40, '0'),
  ...extra,
});

/** Cross join large enough to run for minutes unless interrupted. */
const LONG_QUERY = 'SELECT sum(a.range * b.range) AS s FROM range(2000000) a, range(2000000) b';

describe('lake/local/duckdbEngine (real DuckDB)', () => {
  let lake: TestLake;
  let engine: DuckDbQueryEngine;

  beforeEach(async () => {
    lake = await makeTestLake();
    engine = lake.backend.engine;
  });
  afterEach(async () => {
    await lake.cleanup();
  });

  it('start returns an id at once; status reaches SUCCEEDED with statistics; results are the rows', async () => {
    const id = await engine.start(req('SELECT 42 AS answer, $name AS name, $n * 2 AS twice FROM range(3)', { name: 'héllo', n: 21 }));
    assert.match(id, /^[0-9a-f-]{36}$/);
    const s = await waitDone(engine, id);
    assert.equal(s.state, 'SUCCEEDED');
    assert.equal(s.reason, undefined);
    assert.equal(s.retryable, undefined);
    assert.equal(s.stats.rows, 3);
    assert.ok(s.stats.engineMs >= 0 && s.stats.queueMs >= 0);
    const rows = await engine.results(id);
    assert.deepEqual(rows, [0, 1, 2].map(() => ({ answer: 42, name: 'héllo', twice: 42 })));
  });

  it('maps s3:// parameters to lake-folder paths and reports the input files as bytes scanned', async () => {
    const body = '{"a":1}\n{"a":2}\n{"a":3}\n';
    await lake.backend.store.put(lake.config.lake.bucket, 'x/one.jsonl', body);
    await lake.backend.store.put(lake.config.lake.bucket, 'x/two.jsonl', body + body);
    const files = ['one', 'two'].map((n) => `s3://${lake.config.lake.bucket}/x/${n}.jsonl`);
    const id = await engine.start(req('SELECT count(*) AS files, sum(length(content)) AS chars FROM read_text($files)', { files }));
    const s = await waitDone(engine, id);
    assert.equal(s.state, 'SUCCEEDED', s.reason);
    assert.equal(s.stats.bytesScanned, Buffer.byteLength(body) * 3);
    const [row] = await engine.results(id);
    assert.equal(Number(row!.files), 2);
    assert.equal(Number(row!.chars), body.length * 3);
  });

  it('creates the output location before running a statement that writes there', async () => {
    const out = `s3://${lake.config.lake.bucket}/curated/x/run=r1/`;
    const id = await engine.start(req('COPY (SELECT 1 AS one) TO $file (FORMAT parquet)', { file: `${out}part.parquet` }, { outputLocation: out }));
    assert.equal((await waitDone(engine, id)).state, 'SUCCEEDED');
    assert.deepEqual(
      (await lake.backend.store.list(lake.config.lake.bucket, 'curated/x/')).map((o) => o.key),
      ['curated/x/run=r1/part.parquet'],
    );
    const back = await engine.runNow('SELECT one FROM read_parquet($f)', { f: `${out}part.parquet` });
    assert.deepEqual(back, [{ one: 1 }]);
  });

  it('the same idempotency token returns the same query id and submits nothing new', async () => {
    const request = req('SELECT 1 AS one');
    const counted = countingEngine(engine);
    const first = await counted.start(request);
    const again = await counted.start({ ...request });
    assert.equal(again, first);
    await waitDone(engine, first);
    assert.equal(await counted.start({ ...request, sql: 'SELECT 2 AS two' }), first, 'token decides, not the SQL');
    assert.equal(counted.counts.submissions, 1);
    assert.deepEqual(await engine.results(first), [{ one: 1 }]);

    const other = await counted.start(req('SELECT 1 AS one'));
    assert.notEqual(other, first);
    assert.equal(counted.counts.submissions, 2);
  });

  it('an unknown query id is QueryNotFound (retryable: the activity resubmits); cancel of it is a no-op', async () => {
    const unknown = '00000000-0000-0000-0000-000000000000';
    for (const call of [() => engine.status(unknown), () => engine.results(unknown)]) {
      await assert.rejects(call(), (err: unknown) => {
        assert.ok(err instanceof PipelineError);
        assert.equal(err.type, 'QueryNotFound');
        assert.match(err.message, new RegExp(`^query ${unknown} is unknown to this engine`));
        assert.equal(isRetryable(err), true);
        return true;
      });
    }
    await engine.cancel(unknown);
  });

  it('results before success are refused with QueryFailed', async () => {
    const id = await engine.start(req(LONG_QUERY));
    await assert.rejects(engine.results(id), (err: unknown) => err instanceof PipelineError && err.type === 'QueryFailed' && /requested in state (QUEUED|RUNNING)/.test(err.message));
    await engine.cancel(id);
    assert.equal((await waitDone(engine, id)).state, 'CANCELLED');
  });

  it('cancel stops a long-running query: it ends CANCELLED promptly', async () => {
    const id = await engine.start(req(LONG_QUERY));
    await waitState(engine, id, 'RUNNING');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal((await engine.status(id)).state, 'RUNNING');
    const t0 = Date.now();
    await engine.cancel(id);
    const s = await waitDone(engine, id, 10_000);
    assert.equal(s.state, 'CANCELLED');
    assert.match(s.reason ?? '', /INTERRUPT/i);
    assert.ok(Date.now() - t0 < 5_000, 'cancellation took too long');
    // Cancelling again, or cancelling a finished query, changes nothing.
    await engine.cancel(id);
    assert.equal((await engine.status(id)).state, 'CANCELLED');
    await assert.rejects(engine.results(id), (err: unknown) => err instanceof PipelineError && err.type === 'QueryFailed');
  });

  it('cancel right after start (before the query runs) still ends CANCELLED', async () => {
    const id = await engine.start(req(LONG_QUERY));
    await engine.cancel(id);
    assert.equal((await waitDone(engine, id, 10_000)).state, 'CANCELLED');
  });

  it("FAILED carries DuckDB's message; SQL errors are not retryable", async () => {
    const id = await engine.start(req('SELECT * FROM no_such_table'));
    const s = await waitDone(engine, id);
    assert.equal(s.state, 'FAILED');
    assert.match(s.reason ?? '', /^Catalog Error: Table with name no_such_table does not exist/);
    assert.equal(s.retryable, false);

    const conv = await engine.start(req("SELECT CAST('x' AS INTEGER)"));
    const c = await waitDone(engine, conv);
    assert.equal(c.state, 'FAILED');
    assert.match(c.reason ?? '', /^Conversion Error: /);
    assert.equal(c.retryable, false);
  });

  it('I/O failures are FAILED and marked retryable', async () => {
    // A file where the output folder should be: DuckDB cannot open the target for writing.
    await lake.backend.store.put(lake.config.lake.bucket, 'blocker', 'not a folder');
    const id = await engine.start(req('COPY (SELECT 1 AS one) TO $file (FORMAT parquet)', { file: `s3://${lake.config.lake.bucket}/blocker/out.parquet` }));
    const s = await waitDone(engine, id);
    assert.equal(s.state, 'FAILED');
    assert.match(s.reason ?? '', /^IO Error: /);
    assert.equal(s.retryable, true);
  });

  it('runs queries concurrently: a long query does not block a short one', async () => {
    const long = await engine.start(req(LONG_QUERY));
    await waitState(engine, long, 'RUNNING');
    const short = await engine.start(req('SELECT 7 AS seven'));
    assert.equal((await waitDone(engine, short, 5_000)).state, 'SUCCEEDED');
    assert.equal((await engine.status(long)).state, 'RUNNING');
    await engine.cancel(long);
    assert.equal((await waitDone(engine, long)).state, 'CANCELLED');
  });

  it('the curation macros are installed on every connection of the instance', async () => {
    const rows = await engine.runNow(
      "SELECT function_name FROM duckdb_functions() WHERE function_name LIKE 'clickstream_%' GROUP BY ALL ORDER BY 1",
    );
    assert.deepEqual(rows.map((r) => r.function_name), ['clickstream_checked_lines', 'clickstream_classified_lines', 'clickstream_csv_rows', 'clickstream_curated_events', 'clickstream_lines', 'clickstream_lines_are_plain', 'clickstream_plain_lines', 'clickstream_raw_lines']);
  });

  it('DuckDB memory is bounded by CLICKSTREAM_DUCKDB_MEMORY_MIB (default 768), and spills go to a temp folder of its own, not the working directory', async () => {
    const [settings] = await engine.runNow("SELECT current_setting('memory_limit') AS memory_limit, current_setting('temp_directory') AS temp_directory");
    assert.equal(lake.config.engine.memoryMiB, 768);
    assert.match(String(settings!.memory_limit), /^768\.0 MiB$/);
    assert.match(String(settings!.temp_directory), new RegExp(`clickstream-duckdb-${process.pid}$`));
  });

  it('the external file cache is off on every connection (files are read once; caching them only grows native memory)', async () => {
    const rows = await engine.runNow("SELECT current_setting('enable_external_file_cache') AS on_");
    assert.deepEqual(rows, [{ on_: false }]);
    // With the cache on, reading a Parquet file (as validation reads staging) leaves its blocks cached.
    const file = `s3://${lake.config.lake.bucket}/c/part.parquet`;
    await fs.mkdir(lake.backend.store.pathOf(lake.config.lake.bucket, 'c'), { recursive: true });
    await engine.runNow('COPY (SELECT range AS a FROM range(1000)) TO $f (FORMAT parquet)', { f: file });
    await engine.runNow('SELECT sum(a) AS s FROM read_parquet($f)', { f: file });
    const [cached] = await engine.runNow("SELECT coalesce(sum(memory_usage_bytes), 0) AS bytes FROM duckdb_memory() WHERE tag = 'EXTERNAL_FILE_CACHE'");
    assert.equal(Number(cached!.bytes), 0);
  });

  it('object paths resolve under this lake folder, not the working directory', async () => {
    // Guards the fixture: engine paths resolve under this lake's folder, not the working directory.
    await lake.backend.store.put(lake.config.lake.bucket, 'k.txt', 'x');
    assert.equal(await fs.readFile(lake.backend.store.pathOf(lake.config.lake.bucket, 'k.txt'), 'utf8'), 'x');
    assert.ok(lake.backend.store.pathOf(lake.config.lake.bucket, 'k.txt').startsWith(lake.dir));
  });
});
