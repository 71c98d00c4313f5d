import assert from 'node:assert/strict';
import * as path from 'node:path';
import { startBackfill } from '../../client/backfillStarter';
import type { BackfillResult } from '../../core/contracts/backfill';
import { curatedPartition } from '../support/lakeReads';
import { testTemporal } from '../support/temporalServer';
import { hourRange, makeTestLake, type TestLake } from '../support/testLake';
import { readContinuously, seedHours, sleep } from './support/faultCase';
import { bundleOnDisk, startFaultWorker, type FaultWorker } from './support/faultWorkerProcess';
import { assertLakeEndState } from './support/lakeEndState';
import { readQueryLog, summarizeQueryLog, type QueryLogEntry } from './support/queryLog';
import { assertRawUnchanged, rawFingerprint } from './support/rawFingerprint';

/** At least 20 kills, per the issue. */
const KILLS = 21;
/** Alive time after the restarted worker started polling, for the timed kills. */
const SOON_MS: [number, number] = [300, 2_000];
const LATER_MS: [number, number] = [1_500, 4_000];
const between = ([min, max]: [number, number]) => min + Math.floor(Math.random() * (max - min));
/** A restarted worker may have nothing to do until the dead one's tasks time out (10-60 s). */
const MID_QUERY_WAIT_MS = 8_000;

describe('fault: the worker process is killed with kill -9, again and again, during a 24-hour backfill', () => {
  let lake: TestLake;
  const workers: FaultWorker[] = [];
  let backfill: { terminate(reason: string): Promise<unknown> } | undefined;
  afterEach(async () => {
    // A failed assertion must not leave the backfill running (its result() would outlive the connection).
    await backfill?.terminate('test over').catch(() => undefined);
    for (const w of workers.splice(0)) await w.kill9();
    await lake?.cleanup();
  });

  it('every hour ends published and validated with exact accounting and no duplicates; readers never see a wrong answer; raw is untouched', async function () {
    this.timeout(10 * 60_000);
    const { client, server } = await testTemporal();
    lake = await makeTestLake();
    const hours = hourRange('2024-04-01T00', '2024-04-01T23');
    const expected = await seedHours(lake, hours, 2000);
    const bundlePath = await bundleOnDisk();
    const queryLog = path.join(lake.dir, 'queries.jsonl');
    const start = () => {
      const w = startFaultWorker({ config: lake.config, address: server.address, queryLog, bundlePath });
      workers.push(w);
      return w;
    };

    // Four hours are published before the chaos, so there is data readers must keep seeing.
    const early = hours.slice(0, 4);
    const first = start();
    await first.ready;
    const pre = await (await startBackfill(client, lake.config, { from: early[0]!, to: early[3]!, concurrency: 4 })).result();
    assert.equal(pre.succeeded, 4);
    await first.stop();

    const raw = await rawFingerprint(lake);
    const reader = readContinuously(lake, Object.fromEntries(early.map((h) => [h, expected[h]!])));
    // mode 'all' re-runs the four published hours too: their partitions are swapped under the reader.
    const startedAt = new Date().toISOString();
    // Concurrency 1 keeps the backfill running long enough for every kill to land mid-backfill.
    const handle = await startBackfill(client, lake.config, { from: hours[0]!, to: hours[23]!, concurrency: 1, mode: 'all' });
    backfill = handle;
    const finished: Promise<BackfillResult> = handle.result();
    let done = false;
    finished.then(
      () => (done = true),
      () => (done = true),
    );

    const killed = new Set<number>();
    const kills: Array<{ trigger: string; aliveMs: number; doneBefore: number }> = [];
    // Progress is read from the catalog, not by querying the backfill: a query needs a workflow
    // task, which after a kill can wait on the dead worker's sticky queue for seconds.
    const republished = async () => {
      let n = 0;
      for (const h of hours) if (((await curatedPartition(lake, h))?.parameters.published_at ?? '') > startedAt) n++;
      return n;
    };
    const untilProgressOr = async (ms: number) => {
      const base = await republished();
      const deadline = Date.now() + ms;
      while (Date.now() < deadline && !done && (await republished()) === base) await sleep(25);
    };
    for (let i = 0; i < KILLS && !done; i++) {
      const w = start();
      await w.ready;
      const readyAt = Date.now();
      // Three kinds of random points, in turn: soon after start-up; after the worker had time to
      // pick up the tasks its dead predecessors left (so kills land amid progress, publishes
      // included); and just after it started an engine query (so some land inside curation or
      // validation).
      // A timed kill also comes as soon as this worker has published one more hour: once the dead
      // workers' tasks have timed out, one life can otherwise run most of the backfill (an hour
      // takes ~0.1 s of orchestration now), and the kills would stop landing mid-backfill.
      const trigger = (['soon', 'later', 'mid-query'] as const)[i % 3]!;
      if (trigger === 'soon') await untilProgressOr(between(SOON_MS));
      else if (trigger === 'later') await untilProgressOr(between(LATER_MS));
      else {
        await waitForQueryStart(queryLog, w.pid, MID_QUERY_WAIT_MS);
        await sleep(between([0, 300]));
      }
      const doneBefore = await republished();
      if (done || doneBefore === hours.length) break;
      await w.kill9();
      killed.add(w.pid);
      kills.push({ trigger, aliveMs: Date.now() - readyAt, doneBefore });
    }
    const trajectory = kills.map((k) => `${k.trigger} ${k.aliveMs}ms ${k.doneBefore}/24`).join(', ');
    assert.ok(killed.size >= 20, `at least 20 kills landed while the backfill ran (got ${killed.size}; it finished early): ${trajectory}`);

    const last = start();
    await last.ready;
    const t0 = Date.now();
    const result = await finished;
    const recoveryMs = Date.now() - t0;
    await last.stop();
    const reads = await reader.stop();

    await assertLakeEndState(lake, expected, { result });
    assert.equal(result.succeeded, 24);
    await assertRawUnchanged(lake, raw);
    assert.deepEqual(reads.problems, [], 'readers never saw a wrong answer while workers died');
    assert.ok(reads.reads > 0);

    // Engine queries, as the workers' engine wrapper logged them. The embedded engine lives in the
    // worker process, so a query dies with it; the retried activity then submits in a new epoch
    // (one per attempt), so no (hour, step, run, epoch) token is ever submitted twice.
    const log = readQueryLog(queryLog);
    const q = summarizeQueryLog(log);
    assert.deepEqual(q.undecoded, [], 'every token decodes to (hour, step, run, epoch)');
    assert.deepEqual(
      q.repeatedTokens.map((r) => r.key),
      [],
      'at most one engine query per (hour, step, run, epoch)',
    );
    for (const [key, epochs] of q.epochs) {
      assert.ok(epochs.length <= killed.size + 1, `${key}: a new epoch only after a kill (${epochs})`);
    }
    console.log(
      `      ${killed.size} kills (trigger, alive after ready, hours done before it: ${trajectory}); recovery after the last restart ${Math.round(recoveryMs / 1000)} s; ` +
        `${q.submissions} engine queries, ${[...q.epochs.values()].filter((e) => e.length > 1).length} steps resubmitted in a new epoch after a kill; ` +
        `${reads.reads} reads, ${reads.staleLocationRaces} stale-location races`,
    );
  });
});

/** Resolves when process `pid` logs a new engine query start, or after `timeoutMs`. */
async function waitForQueryStart(file: string, pid: number, timeoutMs: number): Promise<QueryLogEntry | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const mine = readQueryLog(file).find((e) => e.pid === pid && e.ev === 'start-request');
    if (mine) return mine;
    await sleep(20);
  }
  return undefined;
}
