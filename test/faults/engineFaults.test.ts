import assert from 'node:assert/strict';
import * as path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import { startBackfill } from '../../client/backfillStarter';
import { parseHour } from '../../core/hours';
import { hourWorkflowId } from '../../core/ids';
import { withEngineFaults, type EngineFaultPlan, type FaultyQueryEngine } from './support/engineFaults';
import type { LakeBackend } from '../../lake/ports';
import { curatedPartition, publishedRows } from '../support/lakeReads';
import { withWorker } from '../support/pipelineWorker';
import { testTemporal } from '../support/temporalServer';
import { hourRange, makeTestLake, type TestLake } from '../support/testLake';
import { seedHours } from './support/faultCase';
import { assertLakeEndState } from './support/lakeEndState';
import { readQueryLog, summarizeQueryLog, withQueryLog, type QueryLogSummary } from './support/queryLog';
import { assertRawUnchanged, rawFingerprint } from './support/rawFingerprint';

/** The lake's real backend with the fault layer and the query log around its DuckDB engine. */
function faultyBackend(lake: TestLake, plan: EngineFaultPlan): { backend: LakeBackend; faults: FaultyQueryEngine; queryLog: string } {
  const faults = withEngineFaults(lake.backend.engine, plan);
  const queryLog = path.join(lake.dir, 'queries.jsonl');
  const engine = withQueryLog(faults, { file: queryLog, table: lake.config.tables.curated });
  return { backend: { ...lake.backend, engine, close: () => lake.backend.close() }, faults, queryLog };
}

/** In one worker process every query is remembered: never two queries for one (hour, step, run, epoch). */
function assertOneQueryPerEpoch(q: QueryLogSummary): void {
  assert.deepEqual(q.undecoded, []);
  assert.deepEqual(q.repeatedTokens, [], 'no (hour, step, run, epoch) got a second engine query');
  for (const [key, epochs] of q.epochs) assert.deepEqual(epochs, [...epochs.keys()], `${key}: epochs ${epochs} are consecutive from 0`);
}

describe('fault: the engine fails, refuses, and throttles (fault layer around the real DuckDB engine)', () => {
  let lake: TestLake;
  beforeEach(async () => {
    lake = await makeTestLake();
  });
  afterEach(async () => {
    await lake.cleanup();
  });

  it('a third of the queries fail with a retryable reason: each retry is the next epoch with one new query, and every hour recovers', async function () {
    this.timeout(5 * 60_000);
    const { client } = await testTemporal();
    const hours = hourRange('2024-04-03T00', '2024-04-03T11');
    const expected = await seedHours(lake, hours);
    const raw = await rawFingerprint(lake);
    const { backend, faults, queryLog } = faultyBackend(lake, { seed: 3, retryableFailureRate: 0.35, maxConsecutiveFailures: 2 });
    const result = await withWorker(lake, async () => (await startBackfill(client, lake.config, { from: hours[0]!, to: hours[11]!, concurrency: 4 })).result(), backend);

    await assertLakeEndState(lake, expected, { result });
    await assertRawUnchanged(lake, raw);
    const q = summarizeQueryLog(readQueryLog(queryLog));
    assertOneQueryPerEpoch(q);
    assert.ok(faults.stats.injectedRetryable >= 3, `some queries failed (${faults.stats.injectedRetryable})`);
    const extraEpochs = [...q.epochs.values()].reduce((n, e) => n + e.length - 1, 0);
    assert.equal(extraEpochs, faults.stats.injectedRetryable, 'each injected failure cost exactly one more epoch, nothing else');
    assert.equal(q.submissions, faults.stats.submitted);
  });

  it('one hour failing non-retryably is reported failed with its reason, publishes nothing, and the other hours finish', async function () {
    this.timeout(5 * 60_000);
    const { client } = await testTemporal();
    const hours = hourRange('2024-04-04T00', '2024-04-04T05');
    const bad = hours[2]!;
    const expected = await seedHours(lake, hours);
    // Everything published once without faults, so the failing hour has data readers must keep.
    await withWorker(lake, async () => (await startBackfill(client, lake.config, { from: hours[0]!, to: hours[5]!, concurrency: 3 })).result());
    const before = await curatedPartition(lake, bad);
    const raw = await rawFingerprint(lake);

    const reason = 'simulated: HIVE_BAD_DATA in raw file, fix the producer';
    const { backend, faults, queryLog } = faultyBackend(lake, { nonRetryableHours: { [bad]: reason } });
    const result = await withWorker(
      lake,
      async () => (await startBackfill(client, lake.config, { from: hours[0]!, to: hours[5]!, concurrency: 3, mode: 'all' })).result(),
      backend,
    );

    const why = new RegExp(`^QueryFailed: query fault-[0-9a-f-]+ failed: fault injected \\(non-retryable\\) for hour ${bad}: ${reason}`);
    await assertLakeEndState(lake, expected, { result, failed: { [bad]: why } });
    assert.equal(result.succeeded, 5);
    assert.deepEqual(await curatedPartition(lake, bad), before, 'the failed hour kept its published partition');
    assert.equal((await publishedRows(lake, bad)).length, expected[bad]!.curatedRows);
    await assertRawUnchanged(lake, raw);

    // The hour's own workflow failed with the typed, non-retryable failure the UI shows.
    const err = await client.workflow.getHandle(hourWorkflowId(lake.config.tables.curated, parseHour(bad))).result().catch((e: unknown) => e);
    assert.ok(err instanceof WorkflowFailedError && err.cause instanceof ActivityFailure && err.cause.cause instanceof ApplicationFailure, String(err));
    assert.equal(err.cause.cause.type, 'QueryFailed');
    assert.equal(err.cause.cause.nonRetryable, true);

    const q = summarizeQueryLog(readQueryLog(queryLog));
    assertOneQueryPerEpoch(q);
    const badQueries = [...q.epochs.entries()].filter(([k]) => k.startsWith(`${bad}|`));
    assert.deepEqual(badQueries.map(([k, e]) => [k.split('|')[1], e]), [['curate', [0]]], 'one query, not retried, validation never ran');
    assert.equal(faults.stats.injectedNonRetryable, 1);
  });

  it('throttled status calls: activities back off and reattach to the same query; nothing is resubmitted', async function () {
    this.timeout(5 * 60_000);
    const { client } = await testTemporal();
    const hours = hourRange('2024-04-05T00', '2024-04-05T11');
    const expected = await seedHours(lake, hours);
    const raw = await rawFingerprint(lake);
    // Four hours in flight poll every 20-200 ms; 10 status calls a second is well below that.
    const { backend, faults, queryLog } = faultyBackend(lake, { statusRateLimit: { perSecond: 10, burst: 5 } });
    const result = await withWorker(lake, async () => (await startBackfill(client, lake.config, { from: hours[0]!, to: hours[11]!, concurrency: 4 })).result(), backend);

    await assertLakeEndState(lake, expected, { result });
    await assertRawUnchanged(lake, raw);
    assert.ok(faults.stats.throttledStatusCalls > 0, 'status calls were throttled');
    const q = summarizeQueryLog(readQueryLog(queryLog));
    assertOneQueryPerEpoch(q);
    for (const [key, epochs] of q.epochs) assert.deepEqual(epochs, [0], `${key}: throttling never moved to a new query`);
    assert.equal(q.submissions, hours.length * 2, 'exactly one curation and one validation query per hour');
    console.log(`      ${faults.stats.throttledStatusCalls} status calls throttled`);
  });
});
