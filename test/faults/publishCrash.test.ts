import assert from 'node:assert/strict';
import * as path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { startHour } from '../../client/hourlyStarter';
import { parseHour } from '../../core/hours';
import { curatedHourPrefix, parseS3Uri } from '../../core/locations';
import type { LakeBackend } from '../../lake/ports';
import type { HourReport } from '../../core/contracts/hourly';
import { deferred, withDeleteHook } from '../support/backendHooks';
import { curatedPartition, publishedRows } from '../support/lakeReads';
import { makeWorker } from '../support/pipelineWorker';
import { testTemporal } from '../support/temporalServer';
import { makeRawHour, makeTestLake, type TestLake } from '../support/testLake';
import { bundleOnDisk, startFaultWorker, type FaultWorker } from './support/faultWorkerProcess';
import { assertLakeEndState } from './support/lakeEndState';
import { readQueryLog, summarizeQueryLog } from './support/queryLog';
import { assertRawUnchanged, rawFingerprint } from './support/rawFingerprint';

const HOUR = '2024-04-06T09';

/** Run folders (run=...) holding objects under the hour's curated prefix. */
async function runFolders(lake: TestLake, hour: string): Promise<string[]> {
  const objects = await lake.backend.store.list(lake.config.lake.bucket, curatedHourPrefix(lake.config.lake, parseHour(hour)));
  return [...new Set(objects.map((o) => /run=[^/]+\//.exec(o.key)![0]))].sort();
}

const folderOf = (location: string) => /run=[^/]+\//.exec(parseS3Uri(location).key)![0];

describe("fault: a crash between publish's location swap and the deletion of superseded output", () => {
  let lake: TestLake;
  let expected: { rawLines: number; curatedRows: number; rejected: number; duplicates: number };
  const workers: FaultWorker[] = [];
  beforeEach(async () => {
    lake = await makeTestLake();
    expected = (await makeRawHour(lake, { hour: HOUR, rows: 300, malformed: 5, duplicates: 7, files: 3 })).expected;
  });
  afterEach(async () => {
    for (const w of workers.splice(0)) await w.kill9();
    await lake.cleanup();
  });

  it('kill -9 at that point: readers see only the new run meanwhile; the retried publish deletes the garbage', async function () {
    this.timeout(5 * 60_000);
    const { client, server } = await testTemporal();
    const queryLog = path.join(lake.dir, 'queries.jsonl');
    const bundlePath = await bundleOnDisk();
    const start = (crashOnDelete: boolean) => {
      const w = startFaultWorker({ config: lake.config, address: server.address, queryLog, bundlePath, crashOnDelete });
      workers.push(w);
      return w;
    };

    const normal = start(false);
    await normal.ready;
    const first: HourReport = await (await startHour(client, lake.config, HOUR)).result();
    await normal.stop();
    const raw = await rawFingerprint(lake);

    const crashing = start(true);
    await crashing.ready;
    const handle = await startHour(client, lake.config, HOUR);
    const died = await crashing.exited;
    assert.equal(died.signal, 'SIGKILL', `the worker killed itself at the deletion point:\n${crashing.output()}`);
    assert.match(crashing.output(), /crashing before deleting 1 superseded object/);

    // The crash window: the catalog already points at the new run, the old run's files are still there.
    const swapped = await curatedPartition(lake, HOUR);
    assert.notEqual(swapped?.location, first.location, 'the swap happened before the crash');
    assert.deepEqual(await runFolders(lake, HOUR), [folderOf(first.location), folderOf(swapped!.location)].sort(), 'old output not yet deleted');
    const during = await publishedRows(lake, HOUR);
    assert.equal(during.length, expected.curatedRows, 'readers see exactly one run: the orphaned files are not served');
    assert.equal(new Set(during.map((r) => r.event_id)).size, during.length);

    // A fresh worker; publish ran as a local activity, so the dead worker's workflow task times out (10 s) and the new worker runs publish again.
    const recovery = start(false);
    await recovery.ready;
    const report: HourReport = await handle.result();
    await recovery.stop();
    assert.equal(report.location, swapped!.location);
    assert.equal(report.publish.deletedObjects, 1, "the retried publish deleted the first run's file");
    assert.deepEqual(await runFolders(lake, HOUR), [folderOf(swapped!.location)], 'garbage cleaned up');
    await assertLakeEndState(lake, { [HOUR]: expected });
    await assertRawUnchanged(lake, raw);
    assert.deepEqual(summarizeQueryLog(readQueryLog(queryLog)).repeatedTokens, [], 'the crash after the queries cost no query');
    console.log(`      retried publish reported outcome '${report.publish.outcome}', previousLocation ${report.publish.previousLocation === report.location ? 'its own location' : report.publish.previousLocation}`);
  });

  it('the crashed run never resumes (terminated): the next run of the hour converges and deletes both old runs', async function () {
    this.timeout(3 * 60_000);
    const { client } = await testTemporal();
    const first = await runWith(lake.backend, () => startHour(client, lake.config, HOUR).then((h) => h.result()));
    const raw = await rawFingerprint(lake);

    const reached = deferred();
    const gate = deferred();
    gate.promise.catch(() => undefined);
    const held = withDeleteHook(lake.backend, async () => {
      reached.resolve();
      await gate.promise;
    });
    const worker = await makeWorker(lake, held);
    const crashed = await worker.runUntil(async () => {
      const h = await startHour(client, lake.config, HOUR);
      await reached.promise;
      await h.terminate('test: the worker died between the swap and the deletion, and the run is abandoned');
      gate.reject(new Error('worker died'));
      return h;
    });
    await assert.rejects(crashed.result(), (e: unknown) => e instanceof WorkflowFailedError);
    const orphanedRun = await curatedPartition(lake, HOUR);
    assert.notEqual(orphanedRun?.location, first.location, 'the abandoned run had swapped the partition to its output');
    assert.equal((await runFolders(lake, HOUR)).length, 2);
    assert.equal((await publishedRows(lake, HOUR)).length, expected.curatedRows);

    const third = await runWith(lake.backend, () => startHour(client, lake.config, HOUR).then((h) => h.result()));
    assert.equal(third.publish.previousLocation, orphanedRun!.location);
    assert.equal(third.publish.deletedObjects, 2, "the first run's and the abandoned run's files");
    assert.deepEqual(await runFolders(lake, HOUR), [folderOf(third.location)]);
    await assertLakeEndState(lake, { [HOUR]: expected });
    await assertRawUnchanged(lake, raw);
  });

  /** Runs `body` with an in-process worker over `backend`. */
  async function runWith<T>(backend: LakeBackend, body: () => Promise<T>): Promise<T> {
    const worker = await makeWorker(lake, backend);
    return worker.runUntil(body);
  }
});
