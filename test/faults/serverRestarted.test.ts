import assert from 'node:assert/strict';
import * as path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { startBackfill } from '../../client/backfillStarter';
import { SEARCH_ATTRIBUTES } from '../../core/searchAttributes';
import { startDevServer, type DevServer } from '../../devserver/devServer';
import { freePort } from '../../devserver/freePort';
import type { BackfillResult } from '../../core/contracts/backfill';
import { curatedPartition } from '../support/lakeReads';
import { hourRange, makeTestLake, type TestLake } from '../support/testLake';
import { readContinuously, seedHours, sleep } from './support/faultCase';
import { waitFor } from '../support/waitFor';
import { bundleOnDisk, startFaultWorker, type FaultWorker } from './support/faultWorkerProcess';
import { assertLakeEndState } from './support/lakeEndState';
import { readQueryLog, summarizeQueryLog } from './support/queryLog';
import { assertRawUnchanged, rawFingerprint } from './support/rawFingerprint';

/** How long the server stays down: long enough that every poll and completion in flight fails. */
const DOWNTIME_MS = 3_000;

describe('fault: the Temporal server is restarted in the middle of a backfill', () => {
  let lake: TestLake | undefined;
  let server: DevServer | undefined;
  let worker: FaultWorker | undefined;
  let connection: Connection | undefined;
  afterEach(async () => {
    await worker?.kill9();
    await connection?.close().catch(() => undefined);
    await server?.stop();
    await lake?.cleanup();
  });

  it('the worker reconnects by itself and the backfill completes exactly as without the restart', async function () {
    this.timeout(6 * 60_000);
    lake = await makeTestLake();
    // Our own dev server: durable state in a SQLite file, on a fixed port it comes back on.
    const dbFile = path.join(lake.dir, 'temporal', 'temporal.db');
    const port = await freePort();
    const serverOpts = { dbFile, port, searchAttributes: SEARCH_ATTRIBUTES, logFile: path.join(lake.dir, 'temporal-server.log') };
    server = await startDevServer(serverOpts);
    connection = await Connection.connect({ address: server.address });
    const client = new Client({ connection });

    const hours = hourRange('2024-04-02T00', '2024-04-02T23');
    const expected = await seedHours(lake, hours, 500);
    const early = hours.slice(0, 4);
    const queryLog = path.join(lake.dir, 'queries.jsonl');
    worker = startFaultWorker({ config: lake.config, address: server.address, queryLog, bundlePath: await bundleOnDisk() });
    await worker.ready;
    await (await startBackfill(client, lake.config, { from: early[0]!, to: early[3]!, concurrency: 4 })).result();

    const raw = await rawFingerprint(lake);
    const reader = readContinuously(lake, Object.fromEntries(early.map((h) => [h, expected[h]!])));
    const startedAt = new Date().toISOString();
    const handle = await startBackfill(client, lake.config, { from: hours[0]!, to: hours[23]!, concurrency: 4, mode: 'all' });
    const runId = (await handle.describe()).runId;
    const finished: Promise<BackfillResult> = handle.result();
    finished.catch(() => undefined);

    // Stop the server once a few hours are through and the engine is working on one not yet published.
    const republished = async () => {
      let n = 0;
      for (const h of hours) if (((await curatedPartition(lake!, h))?.parameters.published_at ?? '') > startedAt) n++;
      return n;
    };
    const busyOnNewHour = async () => {
      if ((await republished()) < 4) return false;
      for (const e of readQueryLog(queryLog)) {
        if (e.ev !== 'started' || !e.hour || early.includes(e.hour)) continue;
        const publishedAt = (await curatedPartition(lake!, e.hour))?.parameters.published_at ?? '';
        if (publishedAt <= startedAt) return true;
      }
      return false;
    };
    await waitFor(busyOnNewHour, (busy) => busy === true, 'an engine query of an unpublished hour, after 4 published', 120_000, 20);
    const before = await republished();
    const stoppedAt = Date.now();
    await server.stop(); // SIGTERM, as an operator or an orchestrator would
    const publishedWhileDown = await republished();
    await sleep(DOWNTIME_MS);
    server = await startDevServer(serverOpts);
    assert.equal(server.address, `127.0.0.1:${port}`);

    const result = await finished;
    assert.equal((await handle.describe()).runId, runId, 'the same backfill run finished (state survived the restart)');
    assert.equal(worker.child.exitCode, null, 'the worker process survived the server restart');
    await worker.stop();
    const reads = await reader.stop();

    await assertLakeEndState(lake, expected, { result });
    assert.equal(result.succeeded, 24);
    assert.ok(before < 24, 'the restart happened mid-backfill');
    await assertRawUnchanged(lake, raw);
    assert.deepEqual(reads.problems, []);

    // The worker never died, so its engine remembers every query: exactly one per (hour, step, run, epoch).
    const log = readQueryLog(queryLog);
    const q = summarizeQueryLog(log);
    // Hours caught mid-flight: an engine query started before the stop, the hour published after it.
    const inFlight = new Set<string>();
    for (const e of log) {
      if (e.ev !== 'started' || e.at >= stoppedAt || !e.hour) continue;
      const p = await curatedPartition(lake, e.hour);
      if (p && Date.parse(p.parameters.published_at!) > stoppedAt) inFlight.add(e.hour);
    }
    assert.ok(inFlight.size >= 1, 'some hours were mid-flight across the restart');
    assert.deepEqual(q.undecoded, []);
    assert.deepEqual(q.repeatedTokens, [], 'no engine query was submitted twice');
    for (const [key, epochs] of q.epochs) assert.deepEqual(epochs, [0], `${key} used only epoch 0`);
    console.log(
      `      restart after ${before}/24 hours (${publishedWhileDown} when the server was down), ${inFlight.size} mid-flight; ${q.submissions} engine queries; ${reads.reads} reads`,
    );
  });
});
