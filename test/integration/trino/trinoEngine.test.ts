/**
 * TrinoQueryEngine against a real Trino 476 (moto behind its Hive catalog): the start / status /
 * results / cancel protocol, parameters, microsecond timestamps, and what makes it idempotent on
 * an engine with no idempotency token: the token in the query's source, reattaching by token,
 * and taking a query over from another worker's heartbeated handoff. A second TrinoQueryEngine
 * instance stands for the worker that replaces a killed one (the first instance is simply
 * abandoned, as a killed process abandons its queries); test/faults/trinoWorkerKilled.test.ts
 * does the same with real kill -9.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { PipelineError } from '../../../core/errors';
import type { QueryRequest, QueryStatus } from '../../../lake/ports';
import { TrinoQueryEngine } from '../../../lake/trino/trinoEngine';
import { runToEnd } from '../../../lake/trino/trinoProtocol';
import { countingEngine } from '../../support/countingEngine';
import { testTrinoStack } from '../../support/trino/trinoStack';

const token = () => randomBytes(32).toString('hex');
/** 10^10 rows: runs until stopped (sequence() allows at most 10,000 entries, so a longer one fails at once instead). */
const RUNS_UNTIL_STOPPED = 'SELECT count(*) FROM UNNEST(sequence(1, 10000)) AS s(n) CROSS JOIN UNNEST(sequence(1, 10000)) AS u(m) CROSS JOIN UNNEST(sequence(1, 100)) AS v(k)';

describe('TrinoQueryEngine on a real Trino', function () {
  this.timeout(180_000);
  let server: string;
  let catalog: string;
  /** Query ids any engine of this file started: a later "worker" that reattaches to one has not submitted it. */
  const seenIds = new Set<string>();
  const engine = () => countingEngine(new TrinoQueryEngine({ server, user: 'engine-test', catalog, schema: 'default' }), seenIds);

  before(async () => {
    const { trino } = await testTrinoStack();
    server = trino.url;
    catalog = trino.catalog;
  });

  async function untilDone(e: TrinoQueryEngine, id: string): Promise<QueryStatus> {
    for (let i = 0; i < 600; i++) {
      const s = await e.status(id);
      if (s.state === 'SUCCEEDED' || s.state === 'FAILED' || s.state === 'CANCELLED') return s;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`query ${id} did not end`);
  }

  /** What Trino itself lists under a token: the ground truth for "submitted once". */
  async function queriesWithToken(t: string): Promise<{ id: string; state: string; error: string | null }[]> {
    const { rows } = await runToEnd(
      { server, user: 'engine-test', catalog, schema: 'default' },
      `SELECT query_id, state, error_code FROM system.runtime.queries WHERE source LIKE '%:${t}'`,
    );
    return (rows as [string, string, string | null][]).map(([id, state, error]) => ({ id, state, error }));
  }

  const select = (sql: string, params: QueryRequest['params'] = {}, t = token()): QueryRequest => ({ sql, params, idempotencyToken: t, readsRows: true });

  it('runs a statement to SUCCEEDED and returns its rows; values travel as parameters; timestamps keep their microseconds', async () => {
    const e = engine();
    const hostile = "it's'; DROP TABLE x; --";
    const id = await e.start(select("SELECT ? AS text, CAST(? AS timestamp(6)) AS ts, 41 + 1 AS n", { text: hostile, ts: '2024-03-01 07:00:00.123456' }));
    const status = await untilDone(e, id);
    assert.equal(status.state, 'SUCCEEDED');
    assert.deepEqual(await e.results(id), [{ text: hostile, ts: '2024-03-01 07:00:00.123456', n: 42 }]);
  });

  it('a start with a token Trino already lists returns that query (another worker reattaches; nothing is submitted)', async () => {
    const t = token();
    const first = engine();
    const id = await first.start(select('SELECT 1 AS one', {}, t));
    const second = engine();
    assert.equal(await second.start(select('SELECT 1 AS one', {}, t)), id);
    assert.equal(second.counts.submissions, 0);
    assert.equal((await queriesWithToken(t)).length, 1);
  });

  it('a write taken over from a killed worker\'s handoff runs to its end once: the table exists, one query under the token', async () => {
    const t = token();
    const schema = `engine_${randomBytes(3).toString('hex')}`;
    const { moto } = await testTrinoStack();
    // A managed table needs a schema location; the bucket is moto's.
    await fetch(`${moto.url}/${schema.replace(/_/g, '-')}`, { method: 'PUT' });
    await runToEnd({ server, user: 'engine-test', catalog, schema: 'default' }, `CREATE SCHEMA ${catalog}.${schema} WITH (location = 's3://${schema.replace(/_/g, '-')}/')`);
    const first = engine();
    const id = await first.start({ sql: `CREATE TABLE ${catalog}.${schema}.t AS SELECT * FROM UNNEST(sequence(1, 1000)) AS s(n)`, params: {}, idempotencyToken: t });
    const handoff = first.handoff(id);
    assert.ok(handoff, 'a started query can be handed over');
    // The first worker is gone: it never fetches another page. The replacement resumes from the heartbeat.
    const second = engine();
    second.resume(id, handoff);
    const done = await untilDone(second, id);
    assert.equal(done.state, 'SUCCEEDED', done.reason);
    const { rows } = await runToEnd({ server, user: 'engine-test', catalog, schema }, `SELECT count(*) FROM ${catalog}.${schema}.t`);
    assert.deepEqual(rows, [[1000]]);
    assert.deepEqual((await queriesWithToken(t)).map((q) => [q.id, q.state]), [[id, 'FINISHED']]);
  });

  it('a row-returning query whose rows the dead worker had fetched is reported lost, not finished empty', async () => {
    const first = engine();
    const id = await first.start(select('SELECT n FROM UNNEST(sequence(1, 5)) AS s(n)'));
    await untilDone(first, id); // this worker fetched the rows, then "died" before results()
    const handoff = first.handoff(id) ?? JSON.stringify({ nextUri: `${server}/v1/statement/executing/${id}/x/0`, kind: 'rows', rowsFetched: true });
    const second = engine();
    second.resume(id, handoff);
    await assert.rejects(second.status(id), (err: unknown) => err instanceof PipelineError && err.type === 'QueryNotFound');
  });

  it('a query whose worker died before its first heartbeat is stopped and reported lost (resubmit), never an operator\'s CANCELLED, also for a later attempt that finds it by its token', async () => {
    const t = token();
    const slow = select(RUNS_UNTIL_STOPPED, {}, t);
    const first = engine();
    const id = await first.start(slow);
    // The next attempt, with no heartbeat to go on, finds the query by its token and, not driving it, stops it.
    const lost = (err: unknown) => err instanceof PipelineError && err.type === 'QueryNotFound' && /was stopped and will be resubmitted/.test(err.message);
    const second = engine();
    assert.equal(await second.start(slow), id);
    await assert.rejects(second.status(id), lost);
    assert.deepEqual(
      (await queriesWithToken(t)).map((q) => [q.state, q.error]),
      [['FAILED', 'ADMINISTRATIVELY_KILLED']],
      'the orphan no longer runs, so it cannot complete beside its resubmission',
    );
    // That attempt died too before heartbeating: the next finds the killed query by the same token again.
    const third = engine();
    assert.equal(await third.start(slow), id);
    await assert.rejects(third.status(id), lost);
    assert.equal(second.counts.submissions + third.counts.submissions, 0);
  });

  it('cancel stops the query (CANCELLED); a failing statement is FAILED with Trino\'s reason, not retryable', async () => {
    const e = engine();
    const id = await e.start(select(RUNS_UNTIL_STOPPED));
    await e.status(id);
    await e.cancel(id);
    const other = engine();
    const s = await untilDone(other, id).catch((err: unknown) => err);
    // The canceller no longer drives it; the query's record says it was cancelled.
    assert.ok(s instanceof PipelineError ? s.type === 'QueryNotFound' : (s as QueryStatus).state === 'CANCELLED', String(s));

    const bad = await e.start(select('SELECT no_such_column FROM (VALUES 1) AS v(x)'));
    const failed = await untilDone(e, bad);
    assert.equal(failed.state, 'FAILED');
    assert.match(failed.reason ?? '', /COLUMN_NOT_FOUND/);
    assert.equal(failed.retryable, false);
  });
});
