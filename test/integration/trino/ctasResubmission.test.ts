/**
 * The curation CTAS on a real Trino 476 (moto's S3 and Glue) when a worker dies around it: the
 * two ways a retried attempt used to run into the earlier attempt's work (a fresh-clone CI run of
 * the kill -9 fault test failed an hour with TABLE_ALREADY_EXISTS). A second TrinoQueryEngine
 * stands for the worker that replaces a killed one; the statement is the real sql/athena curation
 * over a generated raw hour, so the rows counted come from Trino executing it.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { parseHour, partitionValues } from '../../../core/hours';
import { s3Uri, stagingPrefix } from '../../../core/locations';
import { stagingTableName } from '../../../lake/aws/glueTables';
import type { QueryRequest, QueryStatus } from '../../../lake/ports';
import { TrinoQueryEngine } from '../../../lake/trino/trinoEngine';
import { countingEngine } from '../../support/countingEngine';
import { runToEnd } from '../../../lake/trino/trinoProtocol';
import { makeRawHourS3 } from '../../support/aws/awsTestLake';
import { makeTrinoTestLake, testTrinoStack, type TrinoTestLake } from '../../support/trino/trinoStack';

const HOUR = '2024-08-03T05';

describe('curation CTAS on Trino across a worker\'s death (real Trino, real sql/athena curation)', function () {
  this.timeout(180_000);
  let lake: TrinoTestLake;
  let expectedRows: number;
  let request: (token: string) => QueryRequest;
  let stagingLocation: string;

  before(async () => {
    lake = await makeTrinoTestLake(await testTrinoStack());
    const raw = await makeRawHourS3(lake, { hour: HOUR, rows: 60, malformed: 3, duplicates: 4, files: 2 });
    expectedRows = raw.expected.curatedRows;
    const hour = parseHour(HOUR);
    stagingLocation = s3Uri(lake.config.lake.bucket, stagingPrefix(lake.config.lake, hour, `run-${randomBytes(4).toString('hex')}`));
    request = (idempotencyToken) =>
      lake.backend.statements.curateHour({ rawFiles: raw.keys.map((k) => `s3://${lake.config.lake.bucket}/${k}`), stagingLocation, partition: partitionValues(hour), idempotencyToken });
  });
  after(async () => {
    await lake?.close();
  });

  /** A worker process as the pipeline wires it (S3 store and Glue lookups for clearing staging). */
  /** Query ids any worker of this file started: a later worker that reattaches to one has not submitted it. */
  const seenIds = new Set<string>();
  const worker = (onLeftovers?: (location: string, keys: string[], tableDropped: boolean) => void) => {
    const { trino } = lake.config;
    const { store, catalog } = lake.backend;
    const engine = new TrinoQueryEngine({
      server: trino.url,
      user: trino.user,
      catalog: trino.catalog,
      schema: lake.config.tables.database,
      staging: { store, tableExists: (d, t) => catalog.tableExists(d, t), onLeftovers },
    });
    return countingEngine(engine, seenIds);
  };
  const token = () => randomBytes(32).toString('hex');

  async function untilDone(e: TrinoQueryEngine, id: string): Promise<QueryStatus> {
    for (let i = 0; i < 1200; i++) {
      const s = await e.status(id);
      if (s.state !== 'QUEUED' && s.state !== 'RUNNING') return s;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`query ${id} did not end`);
  }

  async function trino(sql: string): Promise<unknown[][]> {
    const { trino: t } = lake.config;
    return (await runToEnd({ server: t.url, user: 'test', catalog: t.catalog, schema: lake.config.tables.database }, sql)).rows;
  }
  const stagingRows = () => trino(`SELECT count(*), count(DISTINCT event_id) FROM ${stagingTableName(lake.config.tables.curated, stagingLocation)}`);
  const queriesWithToken = async (t: string) => (await trino(`SELECT query_id, state FROM system.runtime.queries WHERE source LIKE '%:${t}'`)) as [string, string][];

  it('a write that finished after the dead worker\'s last heartbeat (its handoff URI spent) is found FINISHED: SUCCEEDED, not lost and resubmitted', async () => {
    const t = token();
    const first = worker();
    const id = await first.start(request(t));
    const staleHandoff = first.handoff(id);
    assert.ok(staleHandoff, 'the started CTAS can be handed over');
    // The first worker drives the CTAS to its end after that heartbeat, then dies: the URI in the heartbeat is spent (410).
    assert.equal((await untilDone(first, id)).state, 'SUCCEEDED');

    const second = worker();
    second.resume(id, staleHandoff);
    const status = await untilDone(second, id);
    assert.equal(status.state, 'SUCCEEDED', status.reason);
    assert.deepEqual(await stagingRows(), [[expectedRows, expectedRows]], 'the staging table holds each curated event once');
    assert.deepEqual((await queriesWithToken(t)).map(([q, s]) => [q, s]), [[id, 'FINISHED']], 'one query under the token');
  });

  it('a new token\'s CTAS over an earlier epoch\'s committed table and files (Trino forgot that query) replaces them: the rows once, no TABLE_ALREADY_EXISTS', async () => {
    // The previous case left the staging table and its Parquet files: an earlier epoch that committed.
    const before = await lake.backend.store.list(lake.config.lake.bucket, stagingLocation.replace(`s3://${lake.config.lake.bucket}/`, ''));
    assert.ok(before.length > 0, 'the earlier epoch left files at the staging location');
    const cleared: { keys: string[]; tableDropped: boolean }[] = [];
    const e = worker((_l, keys, tableDropped) => cleared.push({ keys, tableDropped }));
    const next = token();
    const id = await e.start(request(next));
    const done = await untilDone(e, id);
    assert.equal(done.state, 'SUCCEEDED', done.reason);
    assert.deepEqual(cleared, [{ keys: before.map((o) => o.key), tableDropped: true }], 'the earlier epoch\'s table and files were cleared first');
    assert.deepEqual(await stagingRows(), [[expectedRows, expectedRows]], 'replaced, not appended: each curated event once');
    const after = await lake.backend.store.list(lake.config.lake.bucket, stagingLocation.replace(`s3://${lake.config.lake.bucket}/`, ''));
    assert.equal(after.filter((o) => before.some((b) => b.key === o.key)).length, 0, 'none of the earlier files is left');
    assert.equal((await queriesWithToken(next)).length, 1);
  });

  it('a start under a token Trino already lists reattaches to that query and clears nothing at its location', async () => {
    const t = token();
    const first = worker();
    const id = await first.start(request(t));
    assert.equal((await untilDone(first, id)).state, 'SUCCEEDED');
    const cleared: string[][] = [];
    const second = worker((_l, keys) => cleared.push(keys));
    assert.equal(await second.start(request(t)), id);
    assert.equal(second.counts.submissions, 0);
    assert.deepEqual(cleared, [], 'nothing cleared for a token that already ran');
    assert.deepEqual(await stagingRows(), [[expectedRows, expectedRows]], 'its rows are untouched');
  });
});
