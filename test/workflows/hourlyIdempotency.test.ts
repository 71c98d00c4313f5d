import assert from 'node:assert/strict';
import { WorkflowFailedError } from '@temporalio/client';
import { startHour } from '../../client/hourlyStarter';
import { deferred, withCatalogHook } from '../support/backendHooks';
import { curatedPartition, publishedRows } from '../support/lakeReads';
import { makeWorker, withWorker } from '../support/pipelineWorker';
import { testTemporal } from '../support/temporalServer';
import { makeRawHour, makeTestLake, type TestLake } from '../support/testLake';

const HOUR = '2024-05-10T13';

describe('re-running an hour never duplicates rows and never hides the published data', () => {
  let lake: TestLake;
  beforeEach(async () => {
    lake = await makeTestLake();
  });
  afterEach(async () => {
    await lake.cleanup();
  });

  it('the same hour run twice ends with the same rows, one run folder, and no duplicates', async () => {
    const { client } = await testTemporal();
    await makeRawHour(lake, { hour: HOUR, rows: 200, malformed: 4, duplicates: 6 });
    const [first, second] = await withWorker(lake, async () => {
      const a = await (await startHour(client, lake.config, HOUR)).result();
      const b = await (await startHour(client, lake.config, HOUR)).result();
      return [a, b];
    });
    assert.notEqual(first.runId, second.runId, 'a deliberate re-run is a new run');
    assert.notEqual(first.location, second.location, 'each run curates into its own staging folder');
    assert.equal(second.publish.previousLocation, first.location);
    assert.equal(second.publish.outcome, 'updated');
    assert.equal(second.publish.deletedObjects, 1, "the first run's Parquet file was deleted");
    assert.deepEqual(second.counts, first.counts);

    const rows = await publishedRows(lake, HOUR);
    assert.equal(rows.length, 200);
    assert.equal(new Set(rows.map((r) => r.event_id)).size, 200);
    const curatedObjects = await lake.backend.store.list(lake.config.lake.bucket, lake.config.lake.curatedPrefix + '/');
    assert.equal(curatedObjects.length, 1, 'only the published run folder remains');
    assert.ok(curatedObjects[0]!.key.startsWith(second.location.replace(/^s3:\/\/[^/]+\//, '')));
  });

  it('a run killed between curate and publish leaves the old data readable; the re-run converges', async () => {
    const { client } = await testTemporal();
    await makeRawHour(lake, { hour: HOUR, rows: 150, duplicates: 3 });
    const first = await withWorker(lake, async () => (await startHour(client, lake.config, HOUR)).result());
    const rowsBefore = await publishedRows(lake, HOUR);
    assert.equal(rowsBefore.length, 150);

    // Second run: hold it at the publish step, read the lake while it is held, then kill it.
    const reachedPublish = deferred();
    const gate = deferred();
    const gated = withCatalogHook(lake.backend, async (table) => {
      if (table !== lake.config.tables.curated) return;
      reachedPublish.resolve();
      await gate.promise;
    });
    const worker = await makeWorker(lake, gated);
    const handle = await worker.runUntil(async () => {
      const h = await startHour(client, lake.config, HOUR);
      await reachedPublish.promise;
      // Curated into staging, not yet published: readers still see exactly the first run's rows.
      assert.equal((await curatedPartition(lake, HOUR))?.location, first.location);
      assert.deepEqual(await publishedRows(lake, HOUR), rowsBefore);
      await h.terminate('test: killed between curate and publish');
      gate.reject(new Error('worker died'));
      return h;
    });
    await assert.rejects(handle.result(), (err: unknown) => err instanceof WorkflowFailedError);
    assert.equal((await curatedPartition(lake, HOUR))?.location, first.location, 'killed run published nothing');
    assert.deepEqual(await publishedRows(lake, HOUR), rowsBefore);
    const orphaned = await lake.backend.store.list(lake.config.lake.bucket, lake.config.lake.curatedPrefix + '/');
    assert.equal(orphaned.length, 2, "the killed run's staging output is still there (unpublished)");

    const third = await withWorker(lake, async () => (await startHour(client, lake.config, HOUR)).result());
    assert.equal(third.publish.previousLocation, first.location);
    assert.equal(third.publish.deletedObjects, 2, "first run's and killed run's files are both cleaned up");
    const rowsAfter = await publishedRows(lake, HOUR);
    assert.deepEqual(
      rowsAfter.map((r) => r.event_id),
      rowsBefore.map((r) => r.event_id),
    );
    const remaining = await lake.backend.store.list(lake.config.lake.bucket, lake.config.lake.curatedPrefix + '/');
    assert.equal(remaining.length, 1);
  });
});
