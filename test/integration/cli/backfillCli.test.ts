/** `clickstream backfill ...` and `clickstream reconcile` as real processes against the shared dev server. */
import assert from 'node:assert/strict';
import { parseHour } from '../../../core/hours';
import { backfillWorkflowId } from '../../../core/ids';
import { rawHourPrefix } from '../../../core/locations';
import { progressQuery } from '../../../workflows/backfill';
import { holdPublish } from '../../support/backendHooks';
import { curatedPartition } from '../../support/lakeReads';
import { withWorker } from '../../support/pipelineWorker';
import { runCli } from '../../support/runCli';
import { testTemporal } from '../../support/temporalServer';
import { makeRawHour, makeTestLake, type TestLake } from '../../support/testLake';
import { waitFor } from '../../support/waitFor';
import { hourRange as range } from '../../support/testLake';



describe('clickstream backfill (real CLI process, real dev server)', () => {
  describe('rejects bad arguments with exit 2 before connecting anywhere', () => {
    // TEMPORAL_ADDRESS points at a closed port: reaching it would be exit 1 with "cannot reach Temporal".
    const env = { TEMPORAL_ADDRESS: '127.0.0.1:1' };
    const cases: Array<[string, string[], RegExp]> = [
      ['inverted range', ['backfill', 'start', '--from', '2024-01-02T00', '--to', '2024-01-01T00'], /--to 2024-01-01T00 is before --from 2024-01-02T00/],
      ['future hour', ['backfill', 'start', '--from', '2024-01-01T00', '--to', '2999-01-01T00'], /--to '2999-01-01T00' is in the future/],
      ['malformed hour', ['backfill', 'start', '--from', '2024-1-1', '--to', '2024-01-01T00'], /--from '2024-1-1' is not in the form YYYY-MM-DDTHH/],
      ['over the sanity cap', ['backfill', 'start', '--from', '2020-01-01T00', '--to', '2021-01-01T00'], /span 8785 hours, over the 2208-hour \(92-day\) sanity cap; add --allow-large-range/],
      ['concurrency 0', ['backfill', 'start', '--from', '2024-01-01T00', '--to', '2024-01-01T05', '--concurrency', '0'], /--concurrency must be a whole number from 1 to 64; got '0'/],
      ['unknown mode', ['backfill', 'start', '--from', '2024-01-01T00', '--to', '2024-01-01T05', '--mode', 'sometimes'], /--mode must be one of missing, failed, all, changed; got 'sometimes'/],
      ['no backfill named', ['backfill', 'pause'], /name the backfill with --from and --to .* or with --id <workflow id>/],
      ['both ways of naming', ['backfill', 'status', '--id', 'x', '--from', '2024-01-01T00', '--to', '2024-01-01T01'], /give either --id <workflow id> or --from\/--to, not both/],
      ['concurrency 65', ['backfill', 'set-concurrency', '65', '--id', 'x'], /set-concurrency <n> must be a whole number from 1 to 64; got '65'/],
      ['bad hour to skip', ['backfill', 'skip', '2024-02-30T00', '--id', 'x'], /hour to skip '2024-02-30T00': day must be 01-29 for 2024-02/],
      ['reconcile inverted', ['reconcile', '--from', '2024-01-02T00', '--to', '2024-01-01T00'], /--to 2024-01-01T00 is before --from 2024-01-02T00/],
    ];
    for (const [name, args, message] of cases) {
      it(name, async () => {
        const r = await runCli(args, env);
        assert.equal(r.code, 2, `stdout: ${r.stdout}\nstderr: ${r.stderr}`);
        assert.match(r.stderr, message);
        assert.doesNotMatch(r.stderr, /cannot reach Temporal/);
        assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      });
    }
  });

  describe('against a running worker', () => {
    let lake: TestLake;
    let env: Record<string, string>;
    beforeEach(async () => {
      const { server } = await testTemporal();
      lake = await makeTestLake();
      env = { TEMPORAL_ADDRESS: server.address, CLICKSTREAM_LAKE_DIR: lake.config.lake.dir, CLICKSTREAM_TASK_QUEUE: lake.config.temporal.taskQueue };
    });
    afterEach(async () => {
      await lake.cleanup();
    });

    it('start --watch draws a progress bar with counts and ETA until done, then prints the summary', async () => {
      const hours = range('2024-10-01T00', '2024-10-01T05');
      for (const [i, hour] of hours.entries()) await makeRawHour(lake, { hour, rows: 5, seed: i + 1, files: 1 });
      const r = await withWorker(lake, () =>
        runCli(['backfill', 'start', '--from', hours[0]!, '--to', hours.at(-1)!, '--concurrency', '2', '--watch', '--interval', '1'], env),
      );
      assert.equal(r.code, 0, r.stderr);
      const id = backfillWorkflowId(lake.config.tables.curated, parseHour(hours[0]!), parseHour(hours.at(-1)!));
      assert.match(r.stdout, new RegExp(`^started backfill ${id} \\(run [0-9a-f-]+\\): 2024-10-01T00..2024-10-01T05, mode missing, concurrency 2`, 'm'));
      assert.match(
        r.stdout,
        /^equivalent: temporal workflow start --type backfillWorkflow --task-queue \S+ --workflow-id \S+ --id-conflict-policy Fail --id-reuse-policy AllowDuplicate --input '\{"from":"2024-10-01T00","to":"2024-10-01T05","concurrency":2,"mode":"missing","table":"clickstream_events_curated"\}' --address /m,
      );
      assert.match(r.stdout, /^web UI: http:\/\/127\.0\.0\.1:8233\/namespaces\/default\/workflows\/clickstream-backfill%3A/m);
      // The bar (on stderr): one line per interval without a terminal, the last one complete.
      const bars = r.stderr.split('\n').filter((l) => l.startsWith('['));
      assert.ok(bars.length >= 1, r.stderr);
      assert.match(bars.at(-1)!, /^\[=+\] 100% \| 6\/6 hours \| ok 6 failed 0 skipped 0 running 0 \| conc 2 \| [\d.]+\/min \| ETA done$/);
      assert.match(r.stdout, /backfill \S+: completed \(run /);
      assert.match(r.stdout, /hours: 6 total \| 6 succeeded, 0 failed, 0 skipped, 0 running, 0 pending/);
      for (const hour of hours) assert.equal((await curatedPartition(lake, hour))?.parameters.validated, 'true');
    });

    it('pause, status, set-concurrency, resume, retry-failed, then status --watch; cancel, then steering a closed one is refused', async () => {
      const { client } = await testTemporal();
      const hours = range('2024-10-02T00', '2024-10-02T07');
      const missing = '2024-10-02T02';
      const held = hours.at(-1)!;
      for (const [i, hour] of hours.entries()) if (hour !== missing) await makeRawHour(lake, { hour, rows: 5, seed: i + 1, files: 1 });
      const named = ['--from', hours[0]!, '--to', hours.at(-1)!];
      const id = backfillWorkflowId(lake.config.tables.curated, parseHour(hours[0]!), parseHour(hours.at(-1)!));
      const more = range('2024-10-03T00', '2024-10-03T03');
      for (const [i, hour] of more.entries()) await makeRawHour(lake, { hour, rows: 5, seed: i + 1, files: 1 });
      const other = ['--from', more[0]!, '--to', more.at(-1)!];
      const otherId = backfillWorkflowId(lake.config.tables.curated, parseHour(more[0]!), parseHour(more.at(-1)!));

      // Started, paused and cancelled before a worker polls, so nothing races the steps below.
      assert.equal((await runCli(['backfill', 'start', ...named, '--concurrency', '1'], env)).code, 0);
      const again = await runCli(['backfill', 'start', ...named], env);
      assert.equal(again.code, 1, 'a second start of a running range is refused');
      assert.match(again.stderr, /a backfill of 2024-10-02T00..2024-10-02T07 is already running/);
      const pause = await runCli(['backfill', 'pause', ...named], env);
      assert.equal(pause.code, 0, pause.stderr);
      assert.match(pause.stdout, /paused \(running hours finish, no new ones start\)/);
      assert.equal((await runCli(['backfill', 'start', ...other], env)).code, 0);
      const cancel = await runCli(['backfill', 'cancel', ...other], env);
      assert.equal(cancel.code, 0, cancel.stderr);
      assert.match(cancel.stdout, /^equivalent: temporal workflow cancel --workflow-id \S+ --address /m);

      // The last hour's publish waits for the test, so the backfill cannot finish before retry-failed arrives.
      const { backend, release } = holdPublish(lake.backend, lake.config.tables.curated, held);
      await withWorker(
        lake,
        async () => {
          try {
            await waitFor(() => client.workflow.getHandle(otherId).describe(), (d) => d.status.name === 'CANCELLED', 'cancelled');
            const cancelled = await runCli(['backfill', 'status', ...other], env);
            assert.match(cancelled.stdout, /: cancelled \(run /);
            const steerClosed = await runCli(['backfill', 'pause', ...other], env);
            assert.equal(steerClosed.code, 1);
            assert.match(steerClosed.stderr, /no running backfill/);

            await waitFor(() => client.workflow.getHandle(id).query(progressQuery), (p) => p.paused, 'paused');
            const status = await runCli(['backfill', 'status', ...named], env);
            assert.equal(status.code, 0, status.stderr);
            assert.match(status.stdout, /^equivalent: temporal workflow query --workflow-id \S+ --type progress --address /m);
            assert.match(status.stdout, /: running \(run /);
            assert.match(status.stdout, /concurrency 1, PAUSED/);

            const conc = await runCli(['backfill', 'set-concurrency', '2', ...named], env);
            assert.equal(conc.code, 0, conc.stderr);
            assert.match(conc.stdout, /concurrency 1 -> 2/);

            assert.equal((await runCli(['backfill', 'resume', ...named], env)).code, 0);
            await waitFor(() => client.workflow.getHandle(id).query(progressQuery), (p) => p.failed === 1 && p.runningHours.includes(held), 'missing hour failed, last hour held');
            const json = await runCli(['backfill', 'status', ...named, '--json'], env);
            const view = JSON.parse(json.stdout) as { state: string; progress: { failedHours: Array<{ hour: string; reason: string }> } };
            assert.equal(view.state, 'running');
            assert.deepEqual(view.progress.failedHours.map((f) => f.hour), [missing]);
            assert.match(view.progress.failedHours[0]!.reason, /^RawPartitionMissing/);
            assert.match(json.stderr, /^equivalent: temporal workflow query /m, 'under --json the equivalent goes to stderr');

            await makeRawHour(lake, { hour: missing, rows: 5, seed: 99, files: 1 });
            const retry = await runCli(['backfill', 'retry-failed', ...named], env);
            assert.equal(retry.code, 0, retry.stderr);
            assert.match(retry.stdout, /^equivalent: temporal workflow signal --workflow-id \S+ --name retryFailed/m);
            release();

            const watched = await runCli(['backfill', 'status', ...named, '--watch', '--interval', '1'], env);
            assert.equal(watched.code, 0, watched.stdout + watched.stderr);
            assert.match(watched.stdout, /hours: 8 total \| 8 succeeded, 0 failed/);
            assert.equal((await curatedPartition(lake, missing))?.parameters.validated, 'true');
          } finally {
            release();
          }
        },
        backend,
      );
    });

    it('reconcile --dry-run names the changed hours; reconcile re-runs them and waits', async () => {
      const hours = range('2024-10-04T00', '2024-10-04T03');
      for (const [i, hour] of hours.entries()) await makeRawHour(lake, { hour, rows: 5, seed: i + 1, files: 1 });
      await withWorker(lake, async () => {
        const first = await runCli(['backfill', 'start', '--from', hours[0]!, '--to', hours.at(-1)!, '--watch', '--interval', '1'], env);
        assert.equal(first.code, 0, first.stderr);
        const changed = hours[2]!;
        const before = (await curatedPartition(lake, changed))!.parameters.run_id;
        await lake.backend.store.put(lake.config.lake.bucket, `${rawHourPrefix(lake.config.lake, parseHour(changed))}part-late.jsonl`, '{"event_id":"late-1","user_id":"u9","event_time":"2024-10-04T02:30:00Z","event_type":"click"}\n');

        const plan = await runCli(['reconcile', '--from', hours[0]!, '--to', hours.at(-1)!, '--dry-run'], env);
        assert.equal(plan.code, 0, plan.stderr);
        assert.match(plan.stdout, /mode changed/);
        assert.match(plan.stdout, /"mode":"changed"/, 'the equivalent start carries mode changed');
        assert.match(plan.stdout, new RegExp(`would run: ${changed}$`, 'm'));

        const run = await runCli(['reconcile', '--from', hours[0]!, '--to', hours.at(-1)!, '--interval', '1'], env);
        assert.equal(run.code, 0, run.stderr);
        assert.match(run.stdout, /hours: 4 total \| 1 succeeded, 0 failed, 3 skipped/);
        const after = (await curatedPartition(lake, changed))!.parameters;
        assert.notEqual(after.run_id, before);
        assert.equal(after.curated_rows, '6');
      });
    });
  });
});
