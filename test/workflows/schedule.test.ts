import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ScheduleNotFoundError, ScheduleOverlapPolicy, type Client, type ScheduleHandle } from '@temporalio/client';
import { defineSearchAttributeKey } from '@temporalio/common';
import { startBackfill } from '../../client/backfillStarter';
import { ensureHourlySchedule, hourForNominalTime, nominalTimeFor } from '../../client/hourlySchedule';
import { parseHour } from '../../core/hours';
import { hourlyScheduleId, hourWorkflowId } from '../../core/ids';
import { progressQuery } from '../../workflows/backfill';
import type { ScheduledHourResult } from '../../workflows/scheduledHour';
import { curatedPartition } from '../support/lakeReads';
import { deferred, holdPublish } from '../support/backendHooks';
import { withWorker } from '../support/pipelineWorker';
import { testTemporal } from '../support/temporalServer';
import { makeRawHour, makeTestLake, type TestLake } from '../support/testLake';
import { waitFor } from '../support/waitFor';

const SCHEDULED_START = defineSearchAttributeKey('TemporalScheduledStartTime', 'DATETIME');

/** A table of its own per test: it keys the schedule id and the per-hour workflow ids. */
function uniqueTable(): string {
  return `t_sched_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
}


interface RunSpan {
  runId: string;
  start: number;
  close: number;
  status: string;
}

async function runsOf(client: Client, workflowId: string): Promise<RunSpan[]> {
  const runs: RunSpan[] = [];
  for await (const w of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
    runs.push({ runId: w.runId, start: w.startTime.getTime(), close: w.closeTime?.getTime() ?? Infinity, status: w.status.name });
  }
  return runs.sort((a, b) => a.start - b.start);
}

describe('hourly schedule (real dev server, real scheduled runs)', () => {
  let lake: TestLake;
  let table: string;
  let schedule: ScheduleHandle | undefined;
  beforeEach(async () => {
    table = uniqueTable();
    lake = await makeTestLake({ CLICKSTREAM_CURATED_TABLE: table, CLICKSTREAM_RAW_WAIT_SECONDS: '0', CLICKSTREAM_SCHEDULE_MINUTE: '10' });
  });
  afterEach(async () => {
    await schedule?.delete().catch((err) => {
      if (!(err instanceof ScheduleNotFoundError)) throw err;
    });
    schedule = undefined;
    await lake.cleanup();
  });

  /** Creates the schedule paused: no regular fire can interleave; catch-up and trigger still act. */
  async function pausedSchedule(client: Client): Promise<ScheduleHandle> {
    assert.equal(await ensureHourlySchedule(client, lake.config), 'created');
    schedule = client.schedule.getHandle(hourlyScheduleId(table));
    await schedule.pause('test: only catch-up runs');
    return schedule;
  }

  it('catch-up through the schedule\'s backfill API runs exactly the missed hours, each from its nominal time', async () => {
    const { client } = await testTemporal();
    for (const [i, hour] of ['2024-04-01T00', '2024-04-01T01', '2024-04-01T02', '2024-04-01T03', '2024-04-01T04'].entries()) {
      await makeRawHour(lake, { hour, rows: 6, seed: i + 1, files: 1 });
    }
    const handle = await pausedSchedule(client);
    await withWorker(lake, async () => {
      // The server was "down" from 02:00 to 04:30: the fires at 02:10, 03:10 and 04:10 were missed.
      await handle.backfill([{ start: new Date('2024-04-01T02:00:00Z'), end: new Date('2024-04-01T04:30:00Z'), overlap: ScheduleOverlapPolicy.ALLOW_ALL }]);
      const d = await waitFor(() => handle.describe(), (x) => x.info.recentActions.length >= 3, 'three catch-up actions');
      assert.equal(d.info.recentActions.length, 3);
      const results: ScheduledHourResult[] = [];
      for (const action of d.info.recentActions) {
        const run = client.workflow.getHandle(action.action.workflow.workflowId);
        results.push(await run.result());
        // The hour comes from the nominal time the schedule stamped on the run, not the wall clock.
        const nominal = (await run.describe()).typedSearchAttributes.get(SCHEDULED_START);
        assert.equal(nominal?.toISOString(), action.scheduledAt.toISOString());
        assert.equal(results.at(-1)!.hour, hourForNominalTime(action.scheduledAt));
      }
      assert.deepEqual(results.map((r) => r.hour).sort(), ['2024-04-01T01', '2024-04-01T02', '2024-04-01T03']);
      assert.deepEqual(
        d.info.recentActions.map((a) => a.scheduledAt.toISOString()).sort(),
        ['2024-04-01T02:10:00.000Z', '2024-04-01T03:10:00.000Z', '2024-04-01T04:10:00.000Z'],
      );
    });
    for (const hour of ['2024-04-01T01', '2024-04-01T02', '2024-04-01T03']) {
      const p = await curatedPartition(lake, hour);
      assert.equal(p?.parameters.validated, 'true', `${hour} published`);
      assert.equal(p?.parameters.workflow_id, hourWorkflowId(table, parseHour(hour)), 'under the per-hour workflow id');
    }
    assert.equal(await curatedPartition(lake, '2024-04-01T00'), undefined, 'the hour before the gap was not touched');
    assert.equal(await curatedPartition(lake, '2024-04-01T04'), undefined, 'the hour after the gap was not touched');
    assert.equal(nominalTimeFor(parseHour('2024-04-01T03'), 10).toISOString(), '2024-04-01T04:10:00.000Z');
  });

  it('a backfill never runs an hour while a scheduled run holds it: the hour is deferred and runs after, never overlapping', async () => {
    const { client } = await testTemporal();
    const held = '2024-04-02T05';
    const other = '2024-04-02T06';
    await makeRawHour(lake, { hour: held, rows: 6, seed: 1, files: 1 });
    await makeRawHour(lake, { hour: other, rows: 6, seed: 2, files: 1 });
    // The scheduled run of `held` stops just before publishing until the test lets it go.
    const { backend, reached: reachedPublish, release } = holdPublish(lake.backend, table, held, { once: true });
    const handle = await pausedSchedule(client);
    await withWorker(
      lake,
      async () => {
        const nominal = nominalTimeFor(parseHour(held), 10);
        await handle.backfill([{ start: new Date(nominal.getTime() - 1000), end: new Date(nominal.getTime() + 1000), overlap: ScheduleOverlapPolicy.ALLOW_ALL }]);
        await reachedPublish;

        const backfill = await startBackfill(client, lake.config, { from: held, to: other, concurrency: 2, mode: 'all' });
        // The other hour runs at once; the held one is refused its id and waits (deferred, still pending).
        const p = await waitFor(() => backfill.query(progressQuery), (x) => x.succeeded === 1 && x.running === 0, 'other hour done, held hour deferred');
        assert.equal(p.pending, 1);
        assert.equal((await runsOf(client, hourWorkflowId(table, parseHour(held)))).length, 1, 'only the scheduled run has used the id so far');

        release();
        const result = await backfill.result();
        assert.equal(result.succeeded, 2);
        assert.equal(result.failed, 0);
      },
      backend,
    );
    const runs = await runsOf(client, hourWorkflowId(table, parseHour(held)));
    assert.equal(runs.length, 2, 'scheduled run, then the backfill run');
    assert.ok(runs.every((r) => r.status === 'COMPLETED'));
    assert.ok(runs[0]!.close <= runs[1]!.start, `no overlap: first closed ${new Date(runs[0]!.close).toISOString()}, second started ${new Date(runs[1]!.start).toISOString()}`);
    const p = await curatedPartition(lake, held);
    assert.equal(p?.parameters.run_id, runs[1]!.runId, 'the later (backfill) run published last');
  });

  it('a scheduled run of an hour a backfill is running does not start a second run of it', async () => {
    const { client } = await testTemporal();
    const hour = '2024-04-03T09';
    await makeRawHour(lake, { hour, rows: 6, seed: 3, files: 1 });
    const { backend, reached: reachedPublish, release } = holdPublish(lake.backend, table, hour, { once: true });
    const handle = await pausedSchedule(client);
    await withWorker(
      lake,
      async () => {
        const backfill = await startBackfill(client, lake.config, { from: hour, to: hour, mode: 'all' });
        await reachedPublish;
        const nominal = nominalTimeFor(parseHour(hour), 10);
        await handle.backfill([{ start: new Date(nominal.getTime() - 1000), end: new Date(nominal.getTime() + 1000), overlap: ScheduleOverlapPolicy.ALLOW_ALL }]);
        const d = await waitFor(() => handle.describe(), (x) => x.info.recentActions.length === 1, 'the scheduled action');
        const scheduled: ScheduledHourResult = await client.workflow.getHandle(d.info.recentActions[0]!.action.workflow.workflowId).result();
        assert.deepEqual(scheduled, { hour, status: 'already-running', workflowId: hourWorkflowId(table, parseHour(hour)) });
        release();
        assert.equal((await backfill.result()).succeeded, 1);
      },
      backend,
    );
    assert.equal((await runsOf(client, hourWorkflowId(table, parseHour(hour)))).length, 1, 'one run of the hour in all');
  });
});
