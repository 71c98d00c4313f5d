import assert from 'node:assert/strict';
import { WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { startBackfill } from '../../client/backfillStarter';
import { WORKFLOW_TYPES } from '../../core/ids';
import { pauseSignal, progressQuery, resumeSignal, retryFailedSignal, setConcurrencyUpdate, skipUpdate } from '../../workflows/backfill';
import type { BackfillProgress } from '../../core/contracts/backfill';
import { curatedPartition } from '../support/lakeReads';
import { withWorker } from '../support/pipelineWorker';
import { testTemporal } from '../support/temporalServer';
import { makeRawHour, makeTestLake, type TestLake } from '../support/testLake';
import { waitFor } from '../support/waitFor';
import { hourRange as range } from '../support/testLake';


async function seed(lake: TestLake, hours: string[], rows = 8) {
  let seedNo = 1;
  for (const hour of hours) await makeRawHour(lake, { hour, rows, seed: seedNo++, files: 1 });
}


describe('backfill workflow (real dev server, real hourly children)', () => {
  let lake: TestLake;
  beforeEach(async () => {
    lake = await makeTestLake();
  });
  afterEach(async () => {
    await lake.cleanup();
  });

  it('a 48-hour backfill at concurrency 4 publishes and validates every hour', async () => {
    const { client } = await testTemporal();
    const hours = range('2024-02-01T00', '2024-02-02T23');
    await seed(lake, hours);
    const result = await withWorker(lake, async () => {
      const handle = await startBackfill(client, lake.config, { from: hours[0]!, to: hours[47]!, concurrency: 4 });
      let maxRunning = 0;
      const watching = (async () => {
        for (;;) {
          const p = await handle.query(progressQuery).catch(() => undefined);
          if (!p) return;
          maxRunning = Math.max(maxRunning, p.running);
          if (p.pending === 0 && p.running === 0) return;
          await new Promise((r) => setTimeout(r, 50));
        }
      })();
      const r = await handle.result();
      await watching;
      assert.ok(maxRunning <= 4, `never more than 4 children at once (saw ${maxRunning})`);
      return r;
    });
    assert.equal(result.total, 48);
    assert.equal(result.succeeded, 48);
    assert.equal(result.failed, 0);
    for (const hour of hours) {
      const p = await curatedPartition(lake, hour);
      assert.equal(p?.parameters.validated, 'true', `${hour} published and validated`);
      assert.equal(p?.parameters.curated_rows, '8');
    }
  });

  it('pause stops new children, setConcurrency resizes the window, resume finishes; mode missing skips published hours', async () => {
    const { client } = await testTemporal();
    const hours = range('2024-02-03T00', '2024-02-03T11');
    await seed(lake, hours);
    await withWorker(lake, async () => {
      const handle = await startBackfill(client, lake.config, { from: hours[0]!, to: hours[11]!, concurrency: 1 });
      await handle.signal(pauseSignal);
      const paused = await waitFor(() => handle.query(progressQuery), (p) => p.paused && p.running === 0, 'paused and drained');
      await new Promise((r) => setTimeout(r, 500));
      const still = await handle.query(progressQuery);
      assert.equal(still.succeeded, paused.succeeded, 'nothing new started while paused');
      assert.ok(still.pending > 0);

      const previous = await handle.executeUpdate(setConcurrencyUpdate, { args: [3] });
      assert.equal(previous, 1);
      await assert.rejects(handle.executeUpdate(setConcurrencyUpdate, { args: [0] }), (err: unknown) => {
        assert.ok(err instanceof WorkflowUpdateFailedError);
        assert.match(String((err.cause as Error).message), /setConcurrency argument must be a whole number from 1 to 64; got 0/);
        return true;
      });
      assert.equal((await handle.query(progressQuery)).concurrency, 3);

      await handle.signal(resumeSignal);
      const running = await waitFor(() => handle.query(progressQuery), (p) => p.running >= 2 || p.pending === 0, 'wider window');
      assert.ok(running.running <= 3);
      const result = await handle.result();
      assert.equal(result.succeeded, 12);
      assert.equal(result.paused, false);

      // Same range again in mode 'missing' (the default): everything is published, nothing runs.
      const again = await (await startBackfill(client, lake.config, { from: hours[0]!, to: hours[11]! })).result();
      assert.equal(again.succeeded, 0);
      assert.equal(again.skipped, 12);
    });
  });

  it('hours without raw data are failed with a reason without a child run; a dry run plans and starts nothing', async () => {
    const { client } = await testTemporal();
    const hours = range('2024-02-04T00', '2024-02-04T05');
    const missing = ['2024-02-04T02', '2024-02-04T04'];
    await seed(lake, hours.filter((h) => !missing.includes(h)));
    await withWorker(lake, async () => {
      const handle = await startBackfill(client, lake.config, { from: hours[0]!, to: hours[5]!, concurrency: 2 });
      const stuck = await waitFor(() => handle.query(progressQuery), (p) => p.pending === 0 && p.running === 0, 'first pass done');
      assert.equal(stuck.succeeded, 4);
      assert.deepEqual(stuck.failedHours.map((f) => f.hour), missing);
      assert.match(stuck.failedHours[0]!.reason, /^RawPartitionMissing: no \.jsonl objects under s3:\/\/clickstream-lake\/raw\/clickstream\/year=2024\/month=02\/day=04\/hour=02\//);
      const first = await handle.result();
      assert.equal(first.failed, 2);

      await seed(lake, missing);
      const retry = await startBackfill(client, lake.config, { from: hours[0]!, to: hours[5]!, mode: 'all', concurrency: 2, dryRun: true });
      const plan = await retry.result();
      assert.equal(plan.wouldRun?.length, 6, 'dry run plans all six');
      assert.equal(plan.succeeded, 0);
      assert.deepEqual(await listRuns(client, 'clickstream-hour:clickstream_events_curated:2024-02-04T02'), [], 'no hourly run was started for it');
    });
  });

  it('retryFailed (signal) re-runs exactly the failed hours while the backfill is still running', async () => {
    const { client } = await testTemporal();
    const hours = range('2024-02-05T00', '2024-02-05T11');
    await seed(lake, hours.filter((h) => h !== '2024-02-05T02'));
    await withWorker(lake, async () => {
      const handle = await startBackfill(client, lake.config, { from: hours[0]!, to: hours[11]!, concurrency: 1 });
      const early = await waitFor(() => handle.query(progressQuery), (p) => p.failed === 1, 'the no-raw hour reported failed');
      assert.ok(early.pending > 0, 'still running when retried');
      await seed(lake, ['2024-02-05T02']);
      await handle.signal(retryFailedSignal);
      const result = await handle.result();
      assert.equal(result.failed, 0);
      assert.equal(result.succeeded, 12);
      assert.equal((await curatedPartition(lake, '2024-02-05T02'))?.parameters.validated, 'true');
      const runsOf02 = await listRuns(client, 'clickstream-hour:clickstream_events_curated:2024-02-05T02');
      const runsOf03 = await listRuns(client, 'clickstream-hour:clickstream_events_curated:2024-02-05T03');
      assert.equal(runsOf02.length, 1, 'the failed hour ran once, after the retry');
      assert.equal(runsOf03.length, 1, 'a succeeded hour was not re-run');
    });
  });

  it('skip removes queued hours; continue-as-new keeps every run under its budget with state intact', async () => {
    const { client } = await testTemporal();
    const hours = range('2024-02-06T00', '2024-02-07T23');
    await seed(lake, hours, 3);
    await withWorker(lake, async () => {
      const handle = await startBackfill(client, lake.config, { from: hours[0]!, to: hours[47]!, concurrency: 2, historyEventBudget: 200 });
      await handle.signal(pauseSignal);
      const skipped = await handle.executeUpdate(skipUpdate, { args: [['2024-02-07T22', '2024-02-07T23']] });
      assert.ok(skipped >= 0);
      await handle.executeUpdate(setConcurrencyUpdate, { args: [3] });
      await handle.signal(resumeSignal);
      const result = await handle.result();
      assert.equal(result.succeeded, 46);
      assert.equal(result.skipped, 2);
      assert.equal(result.concurrency, 3, 'setConcurrency survived continue-as-new');
      assert.ok(result.continuedAsNew >= 1, `continued as new ${result.continuedAsNew} times`);
      assert.equal(await curatedPartition(lake, '2024-02-07T23'), undefined, 'skipped hour not run');

      // Every run of the chain stayed under the budget plus the drain allowance.
      let runId: string | undefined = (await handle.describe()).runId;
      let runs = 0;
      const seen = new Set<string>();
      for (const execution of await listRuns(client, handle.workflowId)) {
        const events = (await client.workflow.getHandle(handle.workflowId, execution).fetchHistory()).events!.length;
        assert.ok(events < 4096 && events < 200 + 100, `run ${execution} has ${events} events`);
        seen.add(execution);
        runs++;
      }
      assert.ok(runId && seen.has(runId));
      assert.equal(runs, result.continuedAsNew + 1);
    });
  });

  it('rejects bad input with one message per problem, before starting anything', async () => {
    const { client } = await testTemporal();
    await withWorker(lake, async () => {
      const handle = await client.workflow.start(WORKFLOW_TYPES.backfill, {
        taskQueue: lake.config.temporal.taskQueue,
        workflowId: `bad-backfill-${Date.now()}`,
        args: [{ from: '2024-02-30T00', to: '2999-01-01T00', concurrency: 0, mode: 'sometimes' }],
      });
      const err = await handle.result().catch((e) => e);
      assert.ok(err instanceof WorkflowFailedError && err.cause instanceof ApplicationFailure);
      assert.equal(err.cause.type, 'InvalidInput');
      const problems = (err.cause.details?.[0] as { problems: string[] }).problems;
      assert.equal(problems.length, 4, problems.join('\n'));
      assert.match(err.cause.message, /from '2024-02-30T00': day must be 01-29/);
      assert.match(err.cause.message, /to '2999-01-01T00' is in the future/);
      assert.match(err.cause.message, /concurrency must be a whole number from 1 to 64; got 0/);
      assert.match(err.cause.message, /mode must be one of missing, failed, all, changed; got "sometimes"/);
      const big = await startBackfill(client, lake.config, { from: '2020-01-01T00', to: '2021-01-01T00' }).catch((e) => e);
      assert.match(String(big.message), /range of 8785 hours is over 2208 \(92 days\); set "allowLargeRange": true/);
      const inverted = await startBackfill(client, lake.config, { from: '2024-01-02T00', to: '2024-01-01T00' }).catch((e) => e);
      assert.match(String(inverted.message), /to 2024-01-01T00 is before from 2024-01-02T00/);
    });
  });
});

async function listRuns(client: import('@temporalio/client').Client, workflowId: string): Promise<string[]> {
  const runs: string[] = [];
  for await (const w of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runs.push(w.runId);
  return runs;
}

export type { BackfillProgress };
