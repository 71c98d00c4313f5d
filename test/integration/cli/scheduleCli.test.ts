/** `clickstream schedule ...` as real processes against the shared dev server, with a real worker. */
import assert from 'node:assert/strict';
import { defineSearchAttributeKey } from '@temporalio/common';
import { formatHour, parseHour, previousCompleteHour } from '../../../core/hours';
import { hourlyScheduleId, hourWorkflowId } from '../../../core/ids';
import type { ScheduledHourResult } from '../../../workflows/scheduledHour';
import type { ScheduleView } from '../../../cli/commands/schedule';
import { curatedPartition } from '../../support/lakeReads';
import { withWorker } from '../../support/pipelineWorker';
import { runCli } from '../../support/runCli';
import { makeCliLake, type CliLake } from '../../support/cliLake';
import { testTemporal } from '../../support/temporalServer';
import { makeRawHour, type TestLake } from '../../support/testLake';
import { waitFor } from '../../support/waitFor';

const SCHEDULED_START = defineSearchAttributeKey('TemporalScheduledStartTime', 'DATETIME');


describe('clickstream schedule (real CLI process, real dev server)', () => {
  let lake: TestLake;
  let table: string;
  let env: Record<string, string>;
  let minute: number;
  let cliLake: CliLake;
  // A table of its own keys a schedule id of its own; the fire minute is half an hour away, so no
  // regular fire lands during the test (trigger and catch-up are what the tests exercise).
  beforeEach(async () => {
    cliLake = await makeCliLake('t_cli');
    ({ lake, table, env, minute } = cliLake);
  });
  afterEach(() => cliLake.cleanup());

  it('create (idempotent), describe, pause, trigger processes the hour before the nominal time, unpause, delete', async () => {
    const { client } = await testTemporal();
    const id = hourlyScheduleId(table);
    // The trigger's nominal time is "now": seed the previous hour and the current one, in case the hour turns mid-test.
    const now = Date.now();
    const candidates = [formatHour(previousCompleteHour(now)), formatHour(previousCompleteHour(now + 3_600_000))];
    for (const [i, hour] of candidates.entries()) await makeRawHour(lake, { hour, rows: 7, seed: i + 1, files: 1 });

    const created = await runCli(['schedule', 'create'], env);
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, new RegExp(`^schedule ${id} created: fires every hour at :${String(minute).padStart(2, '0')} UTC and processes the previous hour; overlap BufferOne, catch-up window 24h`, 'm'));
    assert.match(
      created.stdout,
      new RegExp(`^equivalent: temporal schedule create --schedule-id ${id} --interval 1h/${minute}m --type scheduledHourWorkflow --task-queue \\S+ --workflow-id ${id}-workflow --input '\\{"table":"${table}","rawWait":\\{"timeoutSeconds":0,"recheckSeconds":300\\}\\}' --overlap-policy BufferOne --catchup-window 24h --address `, 'm'),
    );
    const updated = await runCli(['schedule', 'create'], env);
    assert.equal(updated.code, 0, updated.stderr);
    assert.match(updated.stdout, new RegExp(`^schedule ${id} updated`, 'm'));
    assert.match(updated.stdout, /^equivalent: temporal schedule update /m);

    const pause = await runCli(['schedule', 'pause', '--note', 'maintenance window'], env);
    assert.equal(pause.code, 0, pause.stderr);
    assert.match(pause.stdout, new RegExp(`^equivalent: temporal schedule toggle --schedule-id ${id} --pause --reason 'maintenance window'`, 'm'));
    const described = await runCli(['schedule', 'describe', '--json'], env);
    assert.equal(described.code, 0, described.stderr);
    const view = JSON.parse(described.stdout) as ScheduleView;
    assert.equal(view.paused, true);
    assert.equal(view.note, 'maintenance window');
    assert.equal(view.overlap, 'BUFFER_ONE');
    assert.equal(view.catchupWindowMs, 24 * 3_600_000);
    assert.deepEqual(view.intervals, [{ everyMs: 3_600_000, offsetMs: minute * 60_000 }]);
    assert.equal(view.workflowType, 'scheduledHourWorkflow');
    const text = await runCli(['schedule', 'describe'], env);
    assert.match(text.stdout, /: PAUSED \(maintenance window\)/);
    assert.match(text.stdout, /policies: overlap BUFFER_ONE, catch-up window 24h00m/);

    await withWorker(lake, async () => {
      // Trigger acts even on a paused schedule; the run's hour comes from its nominal time.
      const trigger = await runCli(['schedule', 'trigger'], env);
      assert.equal(trigger.code, 0, trigger.stderr);
      assert.match(trigger.stdout, /triggered: the run processes hour \d{4}-\d\d-\d\dT\d\d/);
      assert.match(trigger.stdout, new RegExp(`^equivalent: temporal schedule trigger --schedule-id ${id} --overlap-policy AllowAll`, 'm'));
      const d = await waitFor(() => client.schedule.getHandle(id).describe(), (x) => x.info.recentActions.length === 1, 'the triggered action');
      const run = client.workflow.getHandle(d.info.recentActions[0]!.action.workflow.workflowId);
      const result: ScheduledHourResult = await run.result();
      const nominal = (await run.describe()).typedSearchAttributes.get(SCHEDULED_START)!;
      const expected = formatHour(previousCompleteHour(nominal.getTime()));
      assert.ok(candidates.includes(expected));
      assert.equal(result.hour, expected);
      assert.equal(result.workflowId, hourWorkflowId(table, parseHour(expected)));
      const p = await curatedPartition(lake, expected);
      assert.equal(p?.parameters.validated, 'true');
      assert.equal(p?.parameters.curated_rows, '7');
      for (const other of candidates.filter((h) => h !== expected)) assert.equal(await curatedPartition(lake, other), undefined, 'only that hour');

      const after = JSON.parse((await runCli(['schedule', 'describe', '--json'], env)).stdout) as ScheduleView;
      assert.equal(after.recent.length, 1);
      assert.equal(after.recent[0]!.hour, expected, 'describe shows which hour each run processed');
      assert.equal(after.next.length > 0, true);
      assert.match(after.next[0]!.at, new RegExp(`T\\d\\d:${String(minute).padStart(2, '0')}:00`));
    });

    const unpause = await runCli(['schedule', 'unpause'], env);
    assert.equal(unpause.code, 0, unpause.stderr);
    assert.equal((await client.schedule.getHandle(id).describe()).state.paused, false);
    const del = await runCli(['schedule', 'delete'], env);
    assert.equal(del.code, 0, del.stderr);
    assert.match(del.stdout, new RegExp(`^equivalent: temporal schedule delete --schedule-id ${id}`, 'm'));
    const gone = await runCli(['schedule', 'describe'], env);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, new RegExp(`no schedule '${id}' in namespace default; create it with: clickstream schedule create`));
  });

  it('catch-up replays the schedule for exactly the given hours, each at its regular nominal time', async () => {
    const { client } = await testTemporal();
    const id = hourlyScheduleId(table);
    const hours = ['2024-11-01T04', '2024-11-01T05', '2024-11-01T06', '2024-11-01T07'];
    for (const [i, hour] of hours.entries()) await makeRawHour(lake, { hour, rows: 4, seed: i + 1, files: 1 });
    assert.equal((await runCli(['schedule', 'create'], env)).code, 0);
    assert.equal((await runCli(['schedule', 'pause'], env)).code, 0);
    await withWorker(lake, async () => {
      const r = await runCli(['schedule', 'catch-up', '--from', hours[1]!, '--to', hours[2]!], env);
      assert.equal(r.code, 0, r.stderr);
      const mm = String(minute).padStart(2, '0');
      assert.match(r.stdout, new RegExp(`2 catch-up run\\(s\\) for hours 2024-11-01T05..2024-11-01T06, nominal times 2024-11-01T06:${mm}:00.000Z..2024-11-01T07:${mm}:00.000Z`));
      assert.match(r.stdout, /^equivalent: temporal schedule backfill --schedule-id \S+ --start-time \S+ --end-time \S+ --overlap-policy BufferAll/m);
      const d = await waitFor(() => client.schedule.getHandle(id).describe(), (x) => x.info.recentActions.length === 2 && x.info.runningActions.length === 0, 'two catch-up runs done');
      const processed: string[] = [];
      for (const a of d.info.recentActions) processed.push(((await client.workflow.getHandle(a.action.workflow.workflowId).result()) as ScheduledHourResult).hour);
      assert.deepEqual(processed.sort(), [hours[1], hours[2]]);
    });
    assert.equal(await curatedPartition(lake, hours[0]!), undefined);
    assert.equal((await curatedPartition(lake, hours[1]!))?.parameters.validated, 'true');
    assert.equal((await curatedPartition(lake, hours[2]!))?.parameters.validated, 'true');
    assert.equal(await curatedPartition(lake, hours[3]!), undefined);
  });
});
