/**
 * `--json` on every command that has it, as real CLI processes against the shared dev server and
 * a real worker: stdout must parse as one JSON document (JSON lines for `query --json`) and carry
 * nothing else; the hints a person reads (the equivalent `temporal` command, links) go to stderr.
 */
import assert from 'node:assert/strict';
import { parseHour } from '../../../core/hours';
import { rawHourPrefix } from '../../../core/locations';
import { backfillWorkflowId, hourlyScheduleId } from '../../../core/ids';
import { withWorker } from '../../support/pipelineWorker';
import { runCli, type CliResult } from '../../support/runCli';
import { makeCliLake, type CliLake } from '../../support/cliLake';
import { testTemporal } from '../../support/temporalServer';
import { hourRange, makeRawHour, type TestLake } from '../../support/testLake';

type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Exit 0 and stdout is exactly one JSON document. */
function jsonDoc(r: CliResult, what: string): Doc {
  assert.equal(r.code, 0, `${what} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  try {
    return JSON.parse(r.stdout) as Doc;
  } catch {
    throw new assert.AssertionError({ message: `${what}: stdout is not one JSON document:\n${r.stdout}` });
  }
}

describe('clickstream --json: stdout carries only the JSON document (real CLI, real dev server and worker)', () => {
  let lake: TestLake;
  let table: string;
  let env: Record<string, string>;
  let cliLake: CliLake;
  const cli = (...args: string[]) => runCli(args, env);
  beforeEach(async () => {
    cliLake = await makeCliLake('t_json');
    ({ lake, table, env } = cliLake);
  });
  afterEach(() => cliLake.cleanup());

  it('generate, run-hour (waiting and not), query, partitions, doctor', async () => {
    const gen = jsonDoc(await cli('generate', '--from', '2024-05-01T00', '--to', '2024-05-01T01', '--events-per-hour', '30', '--malformed-rate', '0.1', '--json'), 'generate');
    assert.deepEqual(
      gen.hours.map((h: Doc) => [h.hour, h.rawLines, h.curatedRows, h.rejected]),
      [
        ['2024-05-01T00', 33, 30, 3],
        ['2024-05-01T01', 33, 30, 3],
      ],
    );

    await withWorker(lake, async () => {
      const run = await cli('run-hour', '2024-05-01T00', '--json');
      const report = jsonDoc(run, 'run-hour --json');
      assert.equal(report.hour, '2024-05-01T00');
      assert.equal(report.counts.curatedRows, 30);
      assert.match(run.stderr, /^equivalent: temporal workflow start --type hourlyPipelineWorkflow /m, 'the hint is on stderr');

      const started = jsonDoc(await cli('run-hour', '2024-05-01T01', '--no-wait', '--json'), 'run-hour --no-wait --json');
      assert.match(started.workflowId, new RegExp(`^clickstream-hour:${table}:2024-05-01T01`));
      assert.match(started.runId, /^[0-9a-f-]{36}$/);
      const { client } = await testTemporal();
      await client.workflow.getHandle(started.workflowId).result();
    });

    const ndjson = await cli('query', `SELECT hour, count(*) AS n FROM ${table} GROUP BY hour ORDER BY hour`, '--json');
    assert.equal(ndjson.code, 0, ndjson.stderr);
    assert.deepEqual(ndjson.stdout.trim().split('\n').map((l) => JSON.parse(l)), [{ hour: '00', n: 30 }, { hour: '01', n: 30 }]);
    const array = jsonDoc(await cli('query', `SELECT count(*) AS n FROM ${table}`, '--format', 'json'), 'query --format json');
    assert.deepEqual(array, [{ n: 60 }]);

    const grid = jsonDoc(await cli('partitions', '--from', '2024-05-01T00', '--to', '2024-05-01T02', '--json'), 'partitions --json');
    assert.deepEqual(grid.counts, { running: 0, failed: 0, changed: 0, published: 2, 'missing-raw': 1, 'not-run': 0 });

    const doctor = jsonDoc(await cli('doctor', '--json'), 'doctor --json');
    assert.equal(doctor.ok, true);
    assert.deepEqual(doctor.checks.map((c: Doc) => [c.name, c.ok]), [['config', true], ['lake folder', true], ['temporal', true]]);
    // A failed check is exit 1, and stdout is still the document.
    const failing = await runCli(['doctor', '--json'], { ...env, CLICKSTREAM_LAKE_DIR: `${lake.dir}/missing` });
    assert.equal(failing.code, 1, failing.stderr);
    assert.equal((JSON.parse(failing.stdout) as Doc).ok, false);
  });

  it('every schedule command', async () => {
    const id = hourlyScheduleId(table);
    assert.deepEqual(pick(jsonDoc(await cli('schedule', 'create', '--json'), 'schedule create'), 'scheduleId', 'outcome'), { scheduleId: id, outcome: 'created' });
    const paused = await cli('schedule', 'pause', '--note', 'json test', '--json');
    assert.deepEqual(jsonDoc(paused, 'schedule pause'), { scheduleId: id, paused: true, note: 'json test' });
    assert.match(paused.stderr, /^equivalent: temporal schedule toggle /m);
    const described = jsonDoc(await cli('schedule', 'describe', '--json'), 'schedule describe');
    assert.equal(described.paused, true);
    assert.equal(jsonDoc(await cli('schedule', 'unpause', '--json'), 'schedule unpause').paused, false);
    // Trigger and catch-up start scheduled runs; a worker takes them (hours without raw data fail, which is not what is tested here).
    await withWorker(lake, async () => {
      const trigger = jsonDoc(await cli('schedule', 'trigger', '--json'), 'schedule trigger');
      assert.equal(trigger.triggered, true);
      assert.match(trigger.hour, /^\d{4}-\d\d-\d\dT\d\d$/);
      const catchUp = jsonDoc(await cli('schedule', 'catch-up', '--from', '2024-05-02T00', '--to', '2024-05-02T01', '--json'), 'schedule catch-up');
      assert.deepEqual(catchUp.runs.map((r: Doc) => r.hour), ['2024-05-02T00', '2024-05-02T01']);
    });
    assert.deepEqual(jsonDoc(await cli('schedule', 'delete', '--json'), 'schedule delete'), { scheduleId: id, deleted: true });
  });

  it('every backfill command and reconcile', async () => {
    const { client } = await testTemporal();
    const hours = hourRange('2024-06-01T00', '2024-06-01T11');
    for (const [i, hour] of hours.entries()) await makeRawHour(lake, { hour, rows: 5, seed: i + 1, files: 1 });
    const [from, to] = [hours[0]!, hours.at(-1)!];
    const id = backfillWorkflowId(table, parseHour(from), parseHour(to));

    // Started before a worker runs, so it is still running (nothing taken) when steered.
    const start = await cli('backfill', 'start', '--from', from, '--to', to, '--concurrency', '1', '--json');
    const started = jsonDoc(start, 'backfill start --json');
    assert.equal(started.workflowId, id);
    assert.equal(started.input.concurrency, 1);
    assert.match(start.stderr, /^equivalent: temporal workflow start --type backfillWorkflow /m);
    assert.match(start.stderr, /^web UI: /m);
    assert.deepEqual(jsonDoc(await cli('backfill', 'pause', '--id', id, '--json'), 'backfill pause'), { workflowId: id, signal: 'pause' });
    // Updates and queries need a worker; while paused, no hour runs.
    await withWorker(lake, async () => {
      assert.deepEqual(jsonDoc(await cli('backfill', 'set-concurrency', '2', '--id', id, '--json'), 'backfill set-concurrency'), { workflowId: id, previous: 1, concurrency: 2 });
      const skip = jsonDoc(await cli('backfill', 'skip', hours[11]!, '--from', from, '--to', to, '--json'), 'backfill skip');
      assert.deepEqual(skip.skipped, [hours[11]]);
      const status = jsonDoc(await cli('backfill', 'status', '--id', id, '--json'), 'backfill status');
      assert.equal(status.workflowId, id);
      assert.equal(status.progress.paused, true);
    });
    // Signals and the cancel request with no worker running: the next worker sees them in one
    // workflow task, so the backfill ends cancelled instead of racing to finish its hours first.
    assert.equal(jsonDoc(await cli('backfill', 'resume', '--id', id, '--json'), 'backfill resume').signal, 'resume');
    assert.equal(jsonDoc(await cli('backfill', 'retry-failed', '--id', id, '--json'), 'backfill retry-failed').signal, 'retryFailed');
    assert.deepEqual(jsonDoc(await cli('backfill', 'cancel', '--id', id, '--json'), 'backfill cancel'), { workflowId: id, cancellationRequested: true });
    await withWorker(lake, async () => {
      await assert.rejects(client.workflow.getHandle(id).result(), 'the backfill ends cancelled');

      // --watch --json: the final status only; the bar is on stderr.
      const watched = await cli('backfill', 'start', '--from', hours[0]!, '--to', hours[1]!, '--mode', 'all', '--watch', '--interval', '1', '--json');
      const final = jsonDoc(watched, 'backfill start --watch --json');
      assert.equal(final.state, 'completed');
      assert.equal(final.progress.succeeded, 2);

      // A late file under a published hour: reconcile re-runs it.
      await lake.backend.store.put(lake.config.lake.bucket, `${rawHourPrefix(lake.config.lake, parseHour(hours[0]!))}part-late.jsonl`, '{"event_id":"late-1","user_id":"u9","event_time":"2024-06-01T00:30:00Z","event_type":"click"}\n');
      const noWait = jsonDoc(await cli('reconcile', '--from', hours[0]!, '--to', hours[1]!, '--no-wait', '--json'), 'reconcile --no-wait --json');
      assert.equal(noWait.input.mode, 'changed');
      const result = await client.workflow.getHandle(noWait.workflowId).result();
      assert.deepEqual([result.succeeded, result.skipped], [1, 1], 'the changed hour re-ran');
      // Nothing changed since: a waited reconcile completes with both hours skipped.
      const reconciled = jsonDoc(await cli('reconcile', '--from', hours[0]!, '--to', hours[1]!, '--interval', '1', '--json'), 'reconcile --json');
      assert.equal(reconciled.state, 'completed');
      assert.equal(reconciled.progress.skipped, 2);
    });
  });
});

function pick(doc: Doc, ...keys: string[]): Doc {
  return Object.fromEntries(keys.map((k) => [k, doc[k]]));
}
