import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { curatedHourPrefix, parseS3Uri, rawHourPrefix } from '../../../core/locations';
import { parseHour } from '../../../core/hours';
import { curatedPartition, publishedRows, rawPartition } from '../../support/lakeReads';
import { makeRawHour, makeTestLake, type TestLake } from '../../support/testLake';
import { localActivities, runActivity, runHourSteps } from './pipelineSteps';

const HOUR = '2024-03-01T07';
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('pipeline activities on the embedded backend (verify, register, publish)', () => {
  let lake: TestLake;
  beforeEach(async () => {
    lake = await makeTestLake();
  });
  afterEach(async () => {
    await lake.cleanup();
  });

  const bucket = () => lake.config.lake.bucket;
  const rawKey = (name: string) => `${rawHourPrefix(lake.config.lake, parseHour(HOUR))}${name}`;
  const curatedKeys = async (hour = HOUR) => (await lake.backend.store.list(bucket(), curatedHourPrefix(lake.config.lake, parseHour(hour)))).map((o) => o.key);

  describe('verifyRawPartition', () => {
    it('an empty hour has no objects and no fingerprint', async () => {
      const m = await runActivity(localActivities(lake).verifyRawPartition, { hour: HOUR });
      assert.deepEqual(m, {
        prefix: `s3://${bucket()}/raw/clickstream/year=2024/month=03/day=01/hour=07/`,
        files: [],
        objects: 0,
        bytes: 0,
        fingerprint: '',
      });
    });

    it('lists the .jsonl files with bytes and a fingerprint that is stable while nothing changes', async () => {
      await makeRawHour(lake, { hour: HOUR, rows: 30, files: 2 });
      const verify = localActivities(lake).verifyRawPartition;
      const a = await runActivity(verify, { hour: HOUR });
      assert.deepEqual(a.files, ['part-0000.jsonl', 'part-0001.jsonl']);
      assert.equal(a.objects, 2);
      const sizes = await Promise.all(a.files.map(async (f) => (await fs.stat(lake.backend.store.pathOf(bucket(), rawKey(f)))).size));
      assert.equal(a.bytes, sizes[0]! + sizes[1]!);
      assert.match(a.fingerprint, /^[0-9a-f]{64}$/);
      assert.deepEqual(await runActivity(verify, { hour: HOUR }), a);

      // Markers are not data: they change neither the file list nor the fingerprint.
      await lake.backend.store.put(bucket(), rawKey('_SUCCESS'), '');
      await lake.backend.store.put(bucket(), rawKey('part-0000.jsonl.crc'), 'abc');
      assert.deepEqual(await runActivity(verify, { hour: HOUR }), a);
      // Neither does another hour's data.
      await makeRawHour(lake, { hour: '2024-03-01T08', rows: 5, files: 1 });
      assert.deepEqual(await runActivity(verify, { hour: HOUR }), a);
    });

    it('the fingerprint changes when a file is replaced (even with the same size) or added', async () => {
      await makeRawHour(lake, { hour: HOUR, rows: 30, files: 2 });
      const verify = localActivities(lake).verifyRawPartition;
      const seen = new Set<string>();
      const original = await runActivity(verify, { hour: HOUR });
      seen.add(original.fingerprint);

      const path1 = lake.backend.store.pathOf(bucket(), rawKey('part-0001.jsonl'));
      const text = await fs.readFile(path1, 'utf8');
      await pause(20);
      await lake.backend.store.put(bucket(), rawKey('part-0001.jsonl'), text.replace('"u', '"v')); // same size, new content
      const sameSize = await runActivity(verify, { hour: HOUR });
      assert.equal(sameSize.bytes, original.bytes);
      assert.ok(!seen.has(sameSize.fingerprint), 'same-size replacement changes the fingerprint');
      seen.add(sameSize.fingerprint);

      await pause(20);
      await lake.backend.store.put(bucket(), rawKey('part-0001.jsonl'), `${text}{"event_id":"late"}\n`);
      const bigger = await runActivity(verify, { hour: HOUR });
      assert.ok(bigger.bytes > original.bytes);
      assert.ok(!seen.has(bigger.fingerprint));
      seen.add(bigger.fingerprint);

      await lake.backend.store.put(bucket(), rawKey('part-0002.jsonl'), '{"event_id":"x"}\n');
      const added = await runActivity(verify, { hour: HOUR });
      assert.equal(added.objects, 3);
      assert.deepEqual(added.files, ['part-0000.jsonl', 'part-0001.jsonl', 'part-0002.jsonl']);
      assert.ok(!seen.has(added.fingerprint));
    });
  });

  describe('registerRawPartition', () => {
    it("is 'created' then 'unchanged', pointing at the raw hour's prefix", async () => {
      const register = localActivities(lake).registerRawPartition;
      assert.equal(await runActivity(register, { hour: HOUR }), 'created');
      assert.equal(await runActivity(register, { hour: HOUR }), 'unchanged');
      const p = await rawPartition(lake, HOUR);
      assert.deepEqual(p, { values: ['2024', '03', '01', '07'], location: `s3://${bucket()}/raw/clickstream/year=2024/month=03/day=01/hour=07/`, parameters: {} });
      assert.equal((await lake.backend.catalog.listPartitions(lake.config.tables.database, lake.config.tables.raw)).length, 1);
    });

    it('a bad hour fails before touching the catalog', async () => {
      await assert.rejects(runActivity(localActivities(lake).registerRawPartition, { hour: '2024-02-30T00' }), /day must be 01-29 for 2024-02/);
      assert.deepEqual(await lake.backend.catalog.listPartitions(lake.config.tables.database, lake.config.tables.raw), []);
    });
  });

  describe('publishPartition', () => {
    it("publishing the same staging twice: the second is 'unchanged' and deletes nothing", async () => {
      await makeRawHour(lake, { hour: HOUR, rows: 40 });
      const first = await runHourSteps(lake, HOUR, 'run-a');
      assert.deepEqual(first.published, { outcome: 'created', previousLocation: null, deletedObjects: 0 });
      const before = await curatedPartition(lake, HOUR);
      assert.equal(before?.location, first.staging.stagingLocation);
      assert.equal(before?.parameters.run_id, 'run-a');

      const again = await runActivity(localActivities(lake).publishPartition, {
        hour: HOUR,
        stagingLocation: first.staging.stagingLocation,
        lineage: { validated: 'true', run_id: 'run-a' },
      });
      // A retried publish still reports what the first attempt replaced (nothing, here), not itself.
      assert.deepEqual(again, { outcome: 'unchanged', previousLocation: null, deletedObjects: 0 });
      assert.deepEqual(await curatedPartition(lake, HOUR), before);
      assert.equal((await publishedRows(lake, HOUR)).length, 40);
      assert.deepEqual(await curatedKeys(), [`${parseS3Uri(first.staging.stagingLocation).key}part-00000.parquet`]);
    });

    it("publishing a second run swaps the location, then deletes the first run's objects; old data stays readable until then", async () => {
      await makeRawHour(lake, { hour: HOUR, rows: 40, duplicates: 4, malformed: 2 });
      const a = await runHourSteps(lake, HOUR, 'run-a');
      const rowsA = await publishedRows(lake, HOUR);
      assert.equal(rowsA.length, 40);

      // Run B curates and validates; until it publishes, readers still see run A, untouched.
      const b = await runHourSteps(lake, HOUR, 'run-b', { publish: false });
      assert.notEqual(b.staging.stagingLocation, a.staging.stagingLocation);
      assert.equal((await curatedPartition(lake, HOUR))?.location, a.staging.stagingLocation);
      assert.deepEqual(await publishedRows(lake, HOUR), rowsA);
      assert.equal((await curatedKeys()).length, 2);

      const published = await runActivity(localActivities(lake).publishPartition, {
        hour: HOUR,
        stagingLocation: b.staging.stagingLocation,
        lineage: { validated: 'true', run_id: 'run-b' },
      });
      assert.deepEqual(published, { outcome: 'updated', previousLocation: a.staging.stagingLocation, deletedObjects: 1 });
      const after = await curatedPartition(lake, HOUR);
      assert.equal(after?.location, b.staging.stagingLocation);
      assert.deepEqual(after?.parameters, { validated: 'true', run_id: 'run-b', replaced_location: a.staging.stagingLocation });
      assert.deepEqual(await curatedKeys(), [`${parseS3Uri(b.staging.stagingLocation).key}part-00000.parquet`]);
      await assert.rejects(fs.stat(lake.backend.store.pathOf(bucket(), parseS3Uri(a.staging.stagingLocation).key)), { code: 'ENOENT' }, "run A's folder is pruned");
      // Same input, same rows: re-running an hour never duplicates.
      assert.deepEqual(
        (await publishedRows(lake, HOUR)).map((r) => r.event_id),
        rowsA.map((r) => r.event_id),
      );
    });

    it('re-publishing converges: output left by an interrupted run is deleted, other hours are untouched', async () => {
      await makeRawHour(lake, { hour: HOUR, rows: 20 });
      await makeRawHour(lake, { hour: '2024-03-01T08', rows: 10 });
      const a = await runHourSteps(lake, HOUR, 'run-a');
      await runHourSteps(lake, '2024-03-01T08', 'run-other');
      // A later run curated but was killed before publishing.
      const killed = await runHourSteps(lake, HOUR, 'run-killed', { publish: false });
      assert.equal((await curatedKeys()).length, 2);

      const again = await runActivity(localActivities(lake).publishPartition, {
        hour: HOUR,
        stagingLocation: a.staging.stagingLocation,
        lineage: { validated: 'true', run_id: 'run-a' },
      });
      assert.deepEqual(again, { outcome: 'unchanged', previousLocation: null, deletedObjects: 1 });
      assert.deepEqual(await curatedKeys(), [`${parseS3Uri(a.staging.stagingLocation).key}part-00000.parquet`]);
      assert.ok(!(await curatedKeys()).some((k) => k.includes(parseS3Uri(killed.staging.stagingLocation).key)));
      assert.equal((await curatedKeys('2024-03-01T08')).length, 1);
      assert.equal((await publishedRows(lake, '2024-03-01T08')).length, 10);
    });
  });

  describe('curate and validate read exactly the manifest', () => {
    it('a manifest file that vanished before curation is not silently skipped', async () => {
      await makeRawHour(lake, { hour: HOUR, rows: 40, files: 2 });
      const acts = localActivities(lake);
      const manifest = await runActivity(acts.verifyRawPartition, { hour: HOUR });
      assert.equal(manifest.objects, 2);
      // The second file disappears between verify and curate (producer rewrite, operator mistake).
      await lake.backend.store.deleteKeys(bucket(), [rawKey('part-0001.jsonl')]);

      let counts: unknown;
      try {
        const staging = await runActivity(acts.curateToStaging, { hour: HOUR, rawPrefix: manifest.prefix, files: manifest.files, runId: 'run-gone' });
        const validation = await runActivity(acts.validateStaging, {
          hour: HOUR,
          rawPrefix: manifest.prefix,
          files: manifest.files,
          stagingLocation: staging.stagingLocation,
          runId: 'run-gone',
        });
        counts = validation.counts;
      } catch (err) {
        // Failing (either step) is the acceptable outcome: the hour is not published from half its files.
        assert.ok(err instanceof Error);
        return;
      }
      assert.fail(
        `curation and validation read 1 of the manifest's 2 files without an error, and the counts still add up ` +
          `(${JSON.stringify(counts)}), so half the hour would be published as validated`,
      );
    });
  });

  describe('the query poll on the embedded engine', () => {
    it("wakes when DuckDB's query ends, not when the poll's sleep would have: one status call, long before a 10 s first poll", async () => {
      const slowPoll = await makeTestLake({ CLICKSTREAM_QUERY_POLL_INITIAL_MS: '10000', CLICKSTREAM_QUERY_POLL_MAX_MS: '10000' });
      try {
        await makeRawHour(slowPoll, { hour: HOUR, rows: 20, files: 1 });
        const acts = localActivities(slowPoll);
        const manifest = await runActivity(acts.verifyRawPartition, { hour: HOUR });
        const t0 = Date.now();
        const staging = await runActivity(acts.curateToStaging, { hour: HOUR, rawPrefix: manifest.prefix, files: manifest.files, runId: 'run-wake' });
        const waitedMs = Date.now() - t0;
        assert.equal(staging.statusCalls, 1);
        assert.ok(waitedMs < 10_000, `returned after ${waitedMs} ms: the first poll slept its whole 10 s`);
      } finally {
        await slowPoll.cleanup();
      }
    });
  });
});
