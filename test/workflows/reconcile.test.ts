import assert from 'node:assert/strict';
import { startBackfill } from '../../client/backfillStarter';
import { parseHour } from '../../core/hours';
import { hourWorkflowId } from '../../core/ids';
import { rawHourPrefix } from '../../core/locations';
import { generateHour } from '../../generator/clickstreamGenerator';
import { curatedPartition } from '../support/lakeReads';
import { withWorker } from '../support/pipelineWorker';
import { testTemporal } from '../support/temporalServer';
import { makeRawHour, makeTestLake, type TestLake } from '../support/testLake';
import { hourRange as range } from '../support/testLake';


async function runCount(client: import('@temporalio/client').Client, workflowId: string): Promise<number> {
  let n = 0;
  for await (const _ of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) n++;
  return n;
}

describe('reconcile (backfill mode "changed", real dev server)', () => {
  let lake: TestLake;
  beforeEach(async () => {
    lake = await makeTestLake();
  });
  afterEach(async () => {
    await lake.cleanup();
  });

  it('re-runs exactly the hours whose raw files changed since publishing (a late file, a replaced file); the rest are skipped', async () => {
    const { client } = await testTemporal();
    const published = range('2024-08-01T00', '2024-08-01T03');
    const neverRun = '2024-08-01T04';
    const late = '2024-08-01T01';
    const replaced = '2024-08-01T02';
    for (const [i, hour] of published.entries()) await makeRawHour(lake, { hour, rows: 10, seed: i + 1, files: 2 });

    await withWorker(lake, async () => {
      const first = await (await startBackfill(client, lake.config, { from: published[0]!, to: published.at(-1)!, concurrency: 2 })).result();
      assert.equal(first.succeeded, 4);
      await makeRawHour(lake, { hour: neverRun, rows: 10, seed: 9, files: 1 });
      const before = new Map<string, Record<string, string>>();
      for (const hour of published) before.set(hour, (await curatedPartition(lake, hour))!.parameters);

      // A late file lands in one hour; a file of another hour is replaced with different content.
      const { bucket } = lake.config.lake;
      // The generator numbers events per hour from 0, so the late events get ids of their own.
      const lateLines = generateHour({ hour: parseHour(late), events: 5, seed: 101 }).lines.map((l) =>
        JSON.stringify({ ...JSON.parse(l), event_id: `late-${JSON.parse(l).event_id}` }),
      );
      await lake.backend.store.put(bucket, `${rawHourPrefix(lake.config.lake, parseHour(late))}part-late.jsonl`, lateLines.join('\n') + '\n');
      const replacement = generateHour({ hour: parseHour(replaced), events: 7, seed: 202 }).lines;
      await lake.backend.store.put(bucket, `${rawHourPrefix(lake.config.lake, parseHour(replaced))}part-0000.jsonl`, replacement.join('\n') + '\n');

      const range5 = { from: published[0]!, to: neverRun };
      const plan = await (await startBackfill(client, lake.config, { ...range5, mode: 'changed', dryRun: true })).result();
      assert.deepEqual(plan.wouldRun, [late, replaced], 'the dry run names exactly the changed hours');

      const result = await (await startBackfill(client, lake.config, { ...range5, mode: 'changed', concurrency: 2 })).result();
      assert.equal(result.succeeded, 2);
      assert.equal(result.skipped, 3, 'two unchanged hours and one never published (reconcile is not "missing")');
      assert.equal(result.failed, 0);

      for (const hour of published) {
        const runs = await runCount(client, hourWorkflowId(lake.config.tables.curated, parseHour(hour)));
        const after = (await curatedPartition(lake, hour))!.parameters;
        if (hour === late || hour === replaced) {
          assert.equal(runs, 2, `${hour} ran again`);
          assert.notEqual(after.run_id, before.get(hour)!.run_id, `${hour} republished by a new run`);
          assert.notEqual(after.manifest_fingerprint, before.get(hour)!.manifest_fingerprint, `${hour} lineage records the new raw manifest`);
        } else {
          assert.equal(runs, 1, `${hour} was not re-run`);
          assert.deepEqual(after, before.get(hour), `${hour} untouched`);
        }
      }
      assert.equal(await runCount(client, hourWorkflowId(lake.config.tables.curated, parseHour(neverRun))), 0);
      assert.equal(await curatedPartition(lake, neverRun), undefined);

      // The new data is what readers see: the late file's rows were added, the replaced file's rows swapped.
      const lateRows = Number((await curatedPartition(lake, late))!.parameters.curated_rows);
      assert.equal(lateRows, Number(before.get(late)!.curated_rows) + 5);
      const replacedParams = (await curatedPartition(lake, replaced))!.parameters;
      assert.notEqual(replacedParams.raw_lines, before.get(replaced)!.raw_lines);

      // Reconciled: running it again finds nothing to do.
      const again = await (await startBackfill(client, lake.config, { ...range5, mode: 'changed' })).result();
      assert.equal(again.succeeded, 0);
      assert.equal(again.skipped, 5);
    });
  });
});
