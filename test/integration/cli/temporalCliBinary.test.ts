/**
 * The operator's other tool: the real `temporal` CLI binary steering a backfill by the names the
 * docs give (signal pause/resume/retryFailed, update setConcurrency/skip, query progress, cancel),
 * and the exact `equivalent:` lines our CLI prints, run through a shell.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { startBackfill } from '../../../client/backfillStarter';
import { parseHour } from '../../../core/hours';
import { backfillWorkflowId, WORKFLOW_TYPES } from '../../../core/ids';
import { resolveTemporalCli } from '../../../devserver/temporalCli';
import { progressQuery } from '../../../workflows/backfill';
import type { BackfillProgress } from '../../../core/contracts/backfill';
import { withWorker } from '../../support/pipelineWorker';
import { runCli } from '../../support/runCli';
import { testTemporal } from '../../support/temporalServer';
import { makeRawHour, makeTestLake, type TestLake } from '../../support/testLake';
import { waitFor } from '../../support/waitFor';
import { hourRange as range } from '../../support/testLake';

const execFileAsync = promisify(execFile);

async function temporal(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const { server } = await testTemporal();
  const bin = await resolveTemporalCli({ install: false });
  try {
    const r = await execFileAsync(bin, [...args, '--address', server.address], { timeout: 60_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** `temporal workflow query --type progress -o json`: the query result is the first element of queryResult. */
async function cliProgress(workflowId: string): Promise<BackfillProgress> {
  const r = await temporal(['workflow', 'query', '--workflow-id', workflowId, '--type', 'progress', '-o', 'json']);
  assert.equal(r.code, 0, r.stderr);
  const parsed = JSON.parse(r.stdout) as { queryResult: BackfillProgress[] };
  return parsed.queryResult[0]!;
}


async function seed(lake: TestLake, hours: string[]) {
  for (const [i, hour] of hours.entries()) await makeRawHour(lake, { hour, rows: 5, seed: i + 1, files: 1 });
}

describe('the real temporal CLI binary steers a backfill', () => {
  let lake: TestLake;
  beforeEach(async () => {
    lake = await makeTestLake();
  });
  afterEach(async () => {
    await lake.cleanup();
  });

  it('signal pause/resume, update setConcurrency and skip, query progress: each changes what progress reports', async () => {
    const { client } = await testTemporal();
    const hours = range('2024-09-01T00', '2024-09-01T09');
    await seed(lake, hours);
    await withWorker(lake, async () => {
      const handle = await startBackfill(client, lake.config, { from: hours[0]!, to: hours.at(-1)!, concurrency: 1 });
      const id = handle.workflowId;

      assert.equal((await temporal(['workflow', 'signal', '--workflow-id', id, '--name', 'pause'])).code, 0);
      const paused = await waitFor(() => cliProgress(id), (p) => p.paused && p.running === 0, 'paused and drained');
      assert.equal(paused.concurrency, 1);
      assert.ok(paused.pending > 0, 'work left while paused');

      const update = await temporal(['workflow', 'update', 'execute', '--workflow-id', id, '--name', 'setConcurrency', '--input', '2']);
      assert.equal(update.code, 0, update.stderr);
      assert.match(update.stdout, /\b1\b/, 'the update returns the previous concurrency');
      assert.equal((await cliProgress(id)).concurrency, 2);

      // The workflow's validator refuses a bad value; the temporal CLI shows why and fails.
      const refused = await temporal(['workflow', 'update', 'execute', '--workflow-id', id, '--name', 'setConcurrency', '--input', '0']);
      assert.notEqual(refused.code, 0);
      assert.match(refused.stderr + refused.stdout, /setConcurrency argument must be a whole number from 1 to 64; got 0/);
      assert.equal((await cliProgress(id)).concurrency, 2, 'a refused update changes nothing');

      const last = hours.at(-1)!;
      const skip = await temporal(['workflow', 'update', 'execute', '--workflow-id', id, '--name', 'skip', '--input', JSON.stringify([last])]);
      assert.equal(skip.code, 0, skip.stderr);
      const afterSkip = await cliProgress(id);
      assert.equal(afterSkip.skipped, paused.skipped + 1);
      assert.equal(afterSkip.pending, paused.pending - 1);

      assert.equal((await temporal(['workflow', 'signal', '--workflow-id', id, '--name', 'resume'])).code, 0);
      const resumed = await waitFor(() => cliProgress(id), (p) => !p.paused, 'resumed');
      assert.ok(resumed.running <= 2);
      const result = await handle.result();
      assert.equal(result.succeeded, hours.length - 1);
      assert.equal(result.skipped, 1);
      assert.equal(result.concurrency, 2);
      // The query also answers on a completed backfill (the worker replays it).
      assert.equal((await cliProgress(id)).succeeded, hours.length - 1);
    });
  });

  it('signal retryFailed re-runs the failed hour; workflow cancel stops a backfill and its running hours', async () => {
    const { client } = await testTemporal();
    const hours = range('2024-09-02T00', '2024-09-02T09');
    const missing = '2024-09-02T01';
    await seed(lake, hours.filter((h) => h !== missing));
    await withWorker(lake, async () => {
      const handle = await startBackfill(client, lake.config, { from: hours[0]!, to: hours.at(-1)!, concurrency: 1 });
      assert.equal((await temporal(['workflow', 'signal', '--workflow-id', handle.workflowId, '--name', 'pause'])).code, 0);
      const failed = await waitFor(() => cliProgress(handle.workflowId), (p) => p.failed === 1, 'the hour without raw data reported failed');
      assert.equal(failed.failedHours[0]!.hour, missing);
      await seed(lake, [missing]);
      assert.equal((await temporal(['workflow', 'signal', '--workflow-id', handle.workflowId, '--name', 'retryFailed'])).code, 0);
      assert.equal((await temporal(['workflow', 'signal', '--workflow-id', handle.workflowId, '--name', 'resume'])).code, 0);
      const result = await handle.result();
      assert.equal(result.failed, 0);
      assert.equal(result.succeeded, hours.length);

      // A second backfill over another range, cancelled with the plain temporal CLI.
      const more = range('2024-09-03T00', '2024-09-03T09');
      await seed(lake, more);
      const other = await startBackfill(client, lake.config, { from: more[0]!, to: more.at(-1)!, concurrency: 1 });
      await waitFor(() => other.query(progressQuery), (p) => p.running === 1 || p.succeeded > 0, 'a child running');
      const cancel = await temporal(['workflow', 'cancel', '--workflow-id', other.workflowId]);
      assert.equal(cancel.code, 0, cancel.stderr);
      const err = await other.result().catch((e: unknown) => e);
      assert.ok(err instanceof WorkflowFailedError && err.cause instanceof CancelledFailure, String(err));
      assert.equal((await other.describe()).status.name, 'CANCELLED');
    });
  });

  it('workflow start with JSON input (as the Web UI form sends it) runs a backfill; malformed input fails fast with a readable message', async () => {
    const { client } = await testTemporal();
    const hours = range('2024-09-04T00', '2024-09-04T02');
    await seed(lake, hours);
    const tq = lake.config.temporal.taskQueue;
    await withWorker(lake, async () => {
      const id = backfillWorkflowId(lake.config.tables.curated, parseHour(hours[0]!), parseHour(hours.at(-1)!));
      const input = JSON.stringify({ from: hours[0], to: hours.at(-1), concurrency: 2 });
      const start = await temporal(['workflow', 'start', '--type', WORKFLOW_TYPES.backfill, '--task-queue', tq, '--workflow-id', id, '--input', input]);
      assert.equal(start.code, 0, start.stderr);
      const result = await client.workflow.getHandle(id).result();
      assert.equal(result.succeeded, 3);

      const bad = await temporal([
        'workflow', 'execute', '--type', WORKFLOW_TYPES.backfill, '--task-queue', tq, '--workflow-id', `bad-${tq}`,
        '--input', JSON.stringify({ from: '2024-09-04', to: '2024-09-04T02', concurrency: 'lots' }),
      ]);
      assert.notEqual(bad.code, 0);
      const failure = await client.workflow.getHandle(`bad-${tq}`).result().catch((e: unknown) => e);
      assert.ok(failure instanceof WorkflowFailedError && failure.cause instanceof ApplicationFailure);
      assert.equal(failure.cause.type, 'InvalidInput');
      assert.match(failure.cause.message, /from '2024-09-04' is not in the form YYYY-MM-DDTHH/);
      assert.match(failure.cause.message, /concurrency must be a whole number from 1 to 64; got "lots"/);
      const history = await client.workflow.getHandle(`bad-${tq}`).fetchHistory();
      assert.ok(history.events!.length < 10, 'failed on the first workflow task, before any activity or child');
    });
  });

  it('the equivalent lines printed by clickstream backfill are real temporal commands', async () => {
    const { client, server } = await testTemporal();
    const hours = range('2024-09-05T00', '2024-09-05T05');
    await seed(lake, hours);
    const env = {
      TEMPORAL_ADDRESS: server.address,
      CLICKSTREAM_LAKE_DIR: lake.config.lake.dir,
      CLICKSTREAM_TASK_QUEUE: lake.config.temporal.taskQueue,
    };
    const bin = await resolveTemporalCli({ install: false });
    /** Runs the `equivalent: ...` line of a clickstream command's output through sh, with the binary on PATH. */
    const runEquivalent = async (output: string) => {
      const line = /^equivalent: (temporal .*)$/m.exec(output)?.[1];
      assert.ok(line, `an equivalent line in:\n${output}`);
      assert.match(line, new RegExp(`--address ${server.address.replace(/\./g, '\\.')}`));
      return execFileAsync('sh', ['-c', line], { env: { ...process.env, PATH: `${path.dirname(bin)}:${process.env.PATH}` } });
    };
    // Started and paused before any worker polls: the pause is handled before the first hour starts,
    // so the steps below never race the backfill finishing.
    const id = backfillWorkflowId(lake.config.tables.curated, parseHour(hours[0]!), parseHour(hours.at(-1)!));
    const started = await runCli(['backfill', 'start', '--from', hours[0]!, '--to', hours.at(-1)!, '--concurrency', '1'], env);
    assert.equal(started.code, 0, started.stderr);
    const pause = await runCli(['backfill', 'pause', '--id', id], env);
    assert.equal(pause.code, 0, pause.stderr);
    assert.match(pause.stdout, /^equivalent: temporal workflow signal --workflow-id \S+ --name pause --address /m);
    await withWorker(lake, async () => {
      await waitFor(() => client.workflow.getHandle(id).query(progressQuery), (p) => p.paused && p.running === 0, 'paused');

      // set-concurrency's equivalent, run by the shell, does what set-concurrency does.
      const setConc = await runCli(['backfill', 'set-concurrency', '3', '--id', id], env);
      assert.equal(setConc.code, 0, setConc.stderr);
      assert.match(setConc.stdout, /concurrency 1 -> 3/);
      assert.match(setConc.stdout, /^equivalent: temporal workflow update execute --workflow-id clickstream-backfill:\S+ --name setConcurrency --input 3 --address /m);
      await runEquivalent(setConc.stdout.replace('--input 3', '--input 2'));
      assert.equal((await client.workflow.getHandle(id).query(progressQuery)).concurrency, 2);

      const status = await runCli(['backfill', 'status', '--id', id, '--json'], env);
      assert.equal(status.code, 0, status.stderr);
      const viaShell = await runEquivalent(status.stderr);
      assert.match(viaShell.stdout, /"concurrency":\s*2/);
      assert.match(viaShell.stdout, /"paused":\s*true/);

      const resume = await runCli(['backfill', 'resume', '--id', id], env);
      assert.equal(resume.code, 0);
      await runEquivalent(resume.stdout); // resuming twice is harmless
      const result = await client.workflow.getHandle(id).result();
      assert.equal(result.succeeded, hours.length);

      // The start line recreates the same backfill (same id, same input) once the first has closed.
      await runEquivalent(started.stdout);
      const rerun = await client.workflow.getHandle(id).result();
      assert.equal(rerun.skipped, hours.length, 'mode missing: everything already published');
    });
  });
});
