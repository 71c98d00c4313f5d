import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import { startBackfill } from '../../client/backfillStarter';
import { startHour } from '../../client/hourlyStarter';
import { curatedPartition, publishedRows } from '../support/lakeReads';
import { withWorker } from '../support/pipelineWorker';
import { testTemporal } from '../support/temporalServer';
import { makeRawHour, makeTestLake, type TestLake } from '../support/testLake';
import { waitFor } from '../support/waitFor';
import { bundleOnDisk, startFaultWorker, type FaultWorker, type FaultWorkerOptions } from './support/faultWorkerProcess';
import { assertLakeEndState, type ExpectedCounts } from './support/lakeEndState';
import { assertRawUnchanged, rawFingerprint, type TreeFingerprint } from './support/rawFingerprint';

const PUBLISHED = '2024-04-07T01';
const NEW = '2024-04-07T02';

/**
 * A read-only lake needs the worker to really be unable to write. File modes do not bind root,
 * and a read-only mount needs privileges CI may not have, so: the lake is made read-only with
 * `chmod -R a-w`, and when the tests run as root the worker process runs as an unprivileged user
 * (nobody), so the kernel enforces the modes for it exactly as for any non-root worker.
 */
const UNPRIVILEGED = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};

/** Fails with what to do when the unprivileged user cannot read the checkout (e.g. a repo under /root). */
function assertUnprivilegedCanRunWorker(): void {
  if (UNPRIVILEGED.uid === undefined) return;
  const probe = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(require.resolve('tsx/cjs'))})`], { ...UNPRIVILEGED, encoding: 'utf8' });
  assert.equal(
    probe.status,
    0,
    `the read-only lake test runs its worker as uid ${UNPRIVILEGED.uid} (root ignores file modes), which cannot load ${__dirname}: ` +
      `make the checkout world-readable (chmod -R o+rX) or run the tests as a non-root user.\n${probe.stderr}`,
  );
}

function chmodTree(mode: string, dir: string): void {
  execFileSync('chmod', ['-R', mode, dir]);
}

/** The failure an hour workflow ended with (thrown by an activity or by the workflow itself). */
async function hourFailure(handle: WorkflowHandle): Promise<ApplicationFailure> {
  const err = await handle.result().then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(err instanceof WorkflowFailedError, `expected the hour to fail, got ${String(err)}`);
  const cause = err.cause instanceof ActivityFailure ? err.cause.cause : err.cause;
  assert.ok(cause instanceof ApplicationFailure, String(cause));
  return cause;
}

/** The server's stand-in for a retried activity's last failure over its size limit (4 KB); the original is its cause. */
const SERVER_SIZE_LIMIT = 'Failure exceeds size limit.';

/**
 * The last failure of the hour's pending (retrying) activity, as the Web UI shows it. When the
 * server replaced it because of its size, the message is the original's (the cause), and
 * `oversized` says so.
 */
async function retryingWith(handle: WorkflowHandle, pattern: RegExp): Promise<{ activity: string; attempt: number; message: string; oversized: boolean }> {
  const pending = await waitFor(
    async () => {
      const a = (await handle.describe()).raw.pendingActivities?.[0];
      const oversized = a?.lastFailure?.message === SERVER_SIZE_LIMIT;
      const failure = oversized ? a?.lastFailure?.cause : a?.lastFailure;
      return { activity: a?.activityType?.name ?? '', attempt: a?.attempt ?? 0, message: failure?.message ?? '', oversized };
    },
    (p) => p.attempt >= 2 && pattern.test(p.message),
    `a retrying activity whose last failure matches ${pattern}`,
    60_000,
  );
  return pending;
}

describe('fault: the lake folder or the catalog is broken', () => {
  let lake: TestLake;
  let expected: Record<string, ExpectedCounts>;
  let raw: TreeFingerprint;
  const workers: FaultWorker[] = [];

  beforeEach(async () => {
    lake = await makeTestLake({ CLICKSTREAM_RAW_WAIT_SECONDS: '0' });
    expected = {
      [PUBLISHED]: (await makeRawHour(lake, { hour: PUBLISHED, rows: 40, malformed: 2, duplicates: 2 })).expected,
      [NEW]: (await makeRawHour(lake, { hour: NEW, rows: 30, malformed: 1, duplicates: 1 })).expected,
    };
    const { client } = await testTemporal();
    await withWorker(lake, async () => (await startHour(client, lake.config, PUBLISHED)).result());
    raw = await rawFingerprint(lake);
  });
  afterEach(async () => {
    for (const w of workers.splice(0)) await w.kill9();
    chmodTree('u+w', lake.dir);
    await lake.cleanup();
  });

  async function worker(opts: Partial<FaultWorkerOptions> = {}): Promise<FaultWorker> {
    const { server } = await testTemporal();
    // The unprivileged worker must be able to read the test folder and write its query log.
    await fs.chmod(lake.dir, 0o755);
    const queryLog = path.join(lake.dir, 'queries.jsonl');
    await fs.appendFile(queryLog, '');
    await fs.chmod(queryLog, 0o666);
    const w = startFaultWorker({ config: lake.config, address: server.address, queryLog, bundlePath: await bundleOnDisk(), ...opts });
    workers.push(w);
    await w.ready;
    return w;
  }

  it('read-only lake folder: the failing write is retried with an error naming the path; once writable, the hour finishes', async function () {
    this.timeout(3 * 60_000);
    const { client } = await testTemporal();
    assertUnprivilegedCanRunWorker();
    chmodTree('a-w', lake.config.lake.dir);
    await worker(UNPRIVILEGED);
    const handle = await startHour(client, lake.config, NEW);

    // The catalog lives in the lake folder by default, so registering the raw partition is the first write to fail.
    const catalogFile = path.join(lake.config.lake.catalogDir, 'clickstream', 'clickstream_events', 'partitions', 'year=2024', 'month=04', 'day=07', 'hour=02', 'partition.json');
    const pending = await retryingWith(handle, /EACCES: permission denied/);
    assert.equal(pending.activity, 'registerRawPartition');
    assert.ok(pending.message.startsWith(`cannot write catalog file ${catalogFile}: EACCES`), pending.message);
    if (pending.oversized) console.log(`      note: the UI shows '${SERVER_SIZE_LIMIT}' on top; the message above is its cause`);
    assert.equal((await publishedRows(lake, PUBLISHED)).length, expected[PUBLISHED]!.curatedRows, 'published data stays readable');

    chmodTree('a+w', lake.config.lake.dir); // the operator fixes the mount
    const report = await handle.result();
    assert.deepEqual(report.counts, expected[NEW]);
    await assertLakeEndState(lake, expected);
    await assertRawUnchanged(lake, raw);
  });

  it('read-only lake folder with the catalog elsewhere: curation fails the hour at once, naming the folder it could not create', async function () {
    this.timeout(2 * 60_000);
    const { client } = await testTemporal();
    // Same lake, but the catalog moved out of it (CLICKSTREAM_CATALOG_DIR), writable.
    const catalogDir = path.join(lake.dir, 'catalog-elsewhere');
    await fs.cp(lake.config.lake.catalogDir, catalogDir, { recursive: true });
    chmodTree('a+w', catalogDir);
    const config = { ...lake.config, lake: { ...lake.config.lake, catalogDir } };
    assertUnprivilegedCanRunWorker();
    chmodTree('a-w', lake.config.lake.dir);
    await worker({ ...UNPRIVILEGED, config });

    const failure = await hourFailure(await startHour(client, config, NEW));
    assert.equal(failure.type, 'QueryFailed');
    assert.match(failure.message, new RegExp(`EACCES: permission denied, mkdir '${lake.config.lake.dir}/clickstream-lake/curated`));
    assert.equal((await publishedRows(lake, PUBLISHED)).length, expected[PUBLISHED]!.curatedRows);
    await assertRawUnchanged(lake, raw);
  });

  it('lake folder gone while the worker runs (unmounted): retried with an error naming the folder; when it is back, the hour finishes', async function () {
    this.timeout(3 * 60_000);
    const { client } = await testTemporal();
    await worker();
    const away = `${lake.config.lake.dir}.unmounted`;
    await fs.rename(lake.config.lake.dir, away);
    const handle = await startHour(client, lake.config, NEW);
    const pending = await retryingWith(handle, /lake folder/);
    assert.equal(pending.activity, 'verifyRawPartition');
    assert.equal(pending.message, `lake folder ${lake.config.lake.dir} is missing or not a folder; create it or set CLICKSTREAM_LAKE_DIR`);

    await fs.rename(away, lake.config.lake.dir);
    assert.deepEqual((await handle.result()).counts, expected[NEW]);
    await assertLakeEndState(lake, expected);
    await assertRawUnchanged(lake, raw);
  });

  it('lake folder missing when the worker starts: a clear error naming the folder, and nothing is created in its place', async function () {
    this.timeout(2 * 60_000);
    const { client } = await testTemporal();
    const missing = path.join(lake.dir, 'no-such-lake');
    const config = { ...lake.config, lake: { ...lake.config.lake, dir: missing, catalogDir: path.join(missing, '_catalog') } };
    const w = startFaultWorker({ config, address: (await testTemporal()).server.address, entry: 'cli' });
    workers.push(w);
    const started = await Promise.race([w.ready.then(() => true), w.exited.then(() => false)]);
    let message = w.output();
    if (started) {
      // A worker that starts anyway must fail the hour naming the folder, not a raw prefix.
      const failure = await hourFailure(await startHour(client, config, NEW));
      message = failure.message;
    }
    assert.match(message, new RegExp(`lake folder ${missing} is missing`), `what the operator is told: ${message}`);
    await assert.rejects(fs.stat(missing), 'the missing lake folder was not silently created');
    await assertRawUnchanged(lake, raw);
  });

  it('a truncated curated partition file is detected and kept, never reset: the hour fails naming it, a backfill fails only that hour', async function () {
    this.timeout(2 * 60_000);
    const { client } = await testTemporal();
    const before = await curatedPartition(lake, PUBLISHED);
    const file = path.join(lake.config.lake.catalogDir, 'clickstream', 'clickstream_events_curated', 'partitions', 'year=2024', 'month=04', 'day=07', 'hour=01', 'partition.json');
    const full = await fs.readFile(file, 'utf8');
    const truncated = full.slice(0, Math.floor(full.length / 2)); // what a crash mid-write leaves with a non-atomic writer
    await fs.writeFile(file, truncated);
    const corrupt = new RegExp(`^catalog file ${file} is not valid JSON \\(truncated or edited\\?\\); restore it from backup or delete it and re-run the affected hours`);

    await worker();
    const failure = await hourFailure(await startHour(client, lake.config, PUBLISHED));
    assert.equal(failure.type, 'CatalogCorrupt');
    assert.equal(failure.nonRetryable, true);
    assert.match(failure.message, corrupt);

    // A backfill fails just that hour, naming the file, and carries on with the others.
    const result = await (await startBackfill(client, lake.config, { from: PUBLISHED, to: NEW, mode: 'all' })).result();
    assert.deepEqual(result.failedHours.map((f) => f.hour), [PUBLISHED]);
    assert.match(result.failedHours[0]!.reason, new RegExp(`^CatalogCorrupt: ${corrupt.source.slice(1)}`));
    assert.equal(result.succeeded, 1);
    assert.equal(await fs.readFile(file, 'utf8'), truncated, 'the damaged file is left as evidence, not rewritten');
    assert.equal((await curatedPartition(lake, NEW))?.parameters.validated, 'true', 'the healthy hour was published');

    // The message's remedy works: delete the file and re-run; the old run's output is cleaned up.
    await fs.rm(file);
    await (await startHour(client, lake.config, PUBLISHED)).result();
    await (await startHour(client, lake.config, NEW)).result();
    assert.notEqual((await curatedPartition(lake, PUBLISHED))?.location, before?.location);
    await assertLakeEndState(lake, expected);
    await assertRawUnchanged(lake, raw);
  });

  it('a truncated table definition stops the worker at start-up, naming the file, and leaves it as it is', async function () {
    this.timeout(2 * 60_000);
    const file = path.join(lake.config.lake.catalogDir, 'clickstream', 'clickstream_events_curated', 'table.json');
    const truncated = (await fs.readFile(file, 'utf8')).slice(0, 40);
    await fs.writeFile(file, truncated);
    const w = startFaultWorker({ config: lake.config, address: (await testTemporal()).server.address, entry: 'cli' });
    workers.push(w);
    const { code } = await w.exited;
    assert.equal(code, 1, w.output());
    assert.match(w.output(), new RegExp(`catalog file ${file} is not valid JSON \\(truncated or edited\\?\\)`));
    assert.doesNotMatch(w.output(), /\n\s+at /, 'a message, not a stack trace');
    assert.equal(await fs.readFile(file, 'utf8'), truncated);
    await assertRawUnchanged(lake, raw);
  });
});
