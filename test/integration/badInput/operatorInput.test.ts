import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { WorkflowFailedError, WorkflowNotFoundError, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { startBackfill } from '../../../client/backfillStarter';
import { WORKFLOW_TYPES } from '../../../core/ids';
import { resolveTemporalCli } from '../../../devserver/temporalCli';
import { pauseSignal, progressQuery, setConcurrencyUpdate, skipUpdate } from '../../../workflows/backfill';
import { withWorker } from '../../support/pipelineWorker';
import { testTemporal } from '../../support/temporalServer';
import { makeRawHour, makeTestLake, type TestLake } from '../../support/testLake';
import { sideEffectEvents } from '../../support/historyEvents';

/**
 * Operator input the existing tests do not cover (see docs/bad-input.md for the ones they do):
 * workflow input as the Web UI or `temporal workflow start` sends it, and steering messages.
 * Each is refused before any activity runs, with a message naming the field and the form.
 */
async function invalidInput(handle: WorkflowHandle): Promise<ApplicationFailure> {
  const err = await handle.result().catch((e: unknown) => e);
  assert.ok(err instanceof WorkflowFailedError && err.cause instanceof ApplicationFailure, `expected InvalidInput, got ${String(err)}`);
  assert.equal(err.cause.type, 'InvalidInput');
  assert.equal(err.cause.nonRetryable, true);
  const history = await handle.fetchHistory();
  assert.equal(sideEffectEvents(history.events).length, 0, 'no side effect');
  return err.cause;
}

describe('bad operator input: workflow input from the UI or the temporal CLI, and steering', () => {
  let lake: TestLake;
  beforeEach(async () => {
    lake = await makeTestLake();
  });
  afterEach(async () => {
    await lake.cleanup();
  });

  const start = async (type: string, args: unknown[]) => {
    const { client } = await testTemporal();
    return client.workflow.start(type, { taskQueue: lake.config.temporal.taskQueue, workflowId: `bad-input-${randomUUID()}`, args });
  };

  it('JSON that is not an object (null, array, number) is refused by both workflows, naming the expected form', async () => {
    await withWorker(lake, async () => {
      for (const input of [null, [], 42, ['2024-01-01T00']]) {
        const hourly = await invalidInput(await start(WORKFLOW_TYPES.hourly, [input]));
        assert.match(hourly.message, /^workflow input must be a JSON object like \{"hour": "2024-03-01T07"\}; got /);
        const backfill = await invalidInput(await start(WORKFLOW_TYPES.backfill, [input]));
        assert.match(backfill.message, /^backfill input must be a JSON object like \{"from": "2024-03-01T00", "to": "2024-03-02T23", "concurrency": 4\}/);
      }
    });
  });

  it('concurrency negative, fractional, a string or above 64 is refused, naming the field and the range', async () => {
    const { client } = await testTemporal();
    await withWorker(lake, async () => {
      for (const concurrency of [-1, -64, 1.5, '4', 65]) {
        const f = await invalidInput(await start(WORKFLOW_TYPES.backfill, [{ from: '2024-01-01T00', to: '2024-01-01T03', concurrency }]));
        assert.ok(f.message.includes(`concurrency must be a whole number from 1 to 64; got ${JSON.stringify(concurrency)}`), f.message);
      }
      // The CLI path validates with the same rules before anything is sent.
      await assert.rejects(startBackfill(client, lake.config, { from: '2024-01-01T00', to: '2024-01-01T03', concurrency: -2 }), /concurrency must be a whole number from 1 to 64; got -2/);
    });
  });

  it('a huge range is refused even with allowLargeRange beyond the hard limit (ten years)', async () => {
    await withWorker(lake, async () => {
      const f = await invalidInput(await start(WORKFLOW_TYPES.backfill, [{ from: '2010-01-01T00', to: '2024-01-01T00', allowLargeRange: true }]));
      assert.match(f.message, /range of 122713 hours is over the hard limit of 87840; split it/);
    });
  });

  it('a table name with SQL or path metacharacters is refused before anything runs', async () => {
    await withWorker(lake, async () => {
      for (const table of ['a;DROP TABLE x', '../x', 'x"y', "it's", 'Events', '']) {
        const f = await invalidInput(await start(WORKFLOW_TYPES.backfill, [{ from: '2024-01-01T00', to: '2024-01-01T03', table }]));
        assert.match(f.message, /table must match \[a-z_\]\[a-z0-9_\]\*; got /);
        assert.ok(f.message.includes(JSON.stringify(table)), f.message);
      }
    });
  });

  it('steering a running backfill with bad values is refused by the update validators; its state is unchanged', async () => {
    const { client } = await testTemporal();
    await makeRawHour(lake, { hour: '2024-01-02T00', rows: 3 });
    await withWorker(lake, async () => {
      const handle = await startBackfill(client, lake.config, { from: '2024-01-02T00', to: '2024-01-02T00', concurrency: 2 });
      await handle.signal(pauseSignal);
      for (const n of [0, -1, 1.5, 65]) {
        const err = await handle.executeUpdate(setConcurrencyUpdate, { args: [n] }).catch((e: unknown) => e);
        assert.ok(err instanceof WorkflowUpdateFailedError, String(err));
        assert.match(String((err.cause as Error).message), new RegExp(`setConcurrency argument must be a whole number from 1 to 64; got ${n}`));
      }
      for (const hours of [[], ['2024-02-30T00'], ['yesterday']]) {
        const err = await handle.executeUpdate(skipUpdate, { args: [hours] }).catch((e: unknown) => e);
        assert.ok(err instanceof WorkflowUpdateFailedError, String(err));
      }
      const p = await handle.query(progressQuery);
      assert.equal(p.concurrency, 2, 'rejected updates changed nothing');
      assert.equal(p.skipped, 0);
      // Rejected updates are not even written to the history (validators run before acceptance).
      const history = await handle.fetchHistory();
      assert.equal(history.events!.filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes).length, 0);
      await handle.terminate('test over');
    });
  });

  it('malformed JSON typed into `temporal workflow start --input` is refused by the CLI; no workflow exists', async function () {
    this.timeout(60_000);
    const { server, client } = await testTemporal();
    const cli = await resolveTemporalCli({ install: false });
    for (const input of ['{"hour": ', "{'hour': '2024-01-01T00'}", 'hello']) {
      const workflowId = `bad-json-${randomUUID()}`;
      const args = ['workflow', 'start', '--address', server.address, '--type', WORKFLOW_TYPES.hourly, '--task-queue', lake.config.temporal.taskQueue, '--workflow-id', workflowId, '--input', input];
      const r = await promisify(execFile)(cli, args).then(
        () => ({ code: 0, stderr: '' }),
        (e: { code: number; stderr: string }) => e,
      );
      assert.notEqual(r.code, 0, input);
      assert.match(r.stderr, /input #1 is not valid JSON/);
      await assert.rejects(client.workflow.getHandle(workflowId).describe(), WorkflowNotFoundError);
    }
  });

  it('an undecodable payload sent around the CLI (raw API): the workflow task fails and no activity runs; it stays open until terminated', async function () {
    this.timeout(60_000);
    const { client, connection } = await testTemporal();
    const workflowId = `bad-payload-${randomUUID()}`;
    // What a client that skips JSON validation would send: json/plain encoding, bytes that are not JSON.
    await connection.workflowService.startWorkflowExecution({
      namespace: 'default',
      workflowId,
      requestId: randomUUID(),
      workflowType: { name: WORKFLOW_TYPES.hourly },
      taskQueue: { name: lake.config.temporal.taskQueue },
      input: { payloads: [{ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('{"hour": ') }] },
    });
    const handle = client.workflow.getHandle(workflowId);
    await withWorker(lake, async () => {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const events = (await handle.fetchHistory()).events!;
        const failed = events.find((e) => e.workflowTaskFailedEventAttributes);
        if (failed) {
          assert.match(String(failed.workflowTaskFailedEventAttributes!.failure?.message), /JSON/);
          assert.equal(sideEffectEvents(events).length, 0, 'nothing ran');
          break;
        }
        assert.ok(Date.now() < deadline, 'the workflow task failed');
        await new Promise((r) => setTimeout(r, 200));
      }
    });
    assert.equal((await handle.describe()).status.name, 'RUNNING', 'Temporal keeps retrying the task: the run stays open');
    await handle.terminate('undecodable input');
  });
});
