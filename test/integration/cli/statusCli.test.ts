/** `clickstream status` as a real process against the shared dev server and a test lake: every part of the screen, in text and --json. */
import assert from 'node:assert/strict';
import { startBackfill } from '../../../client/backfillStarter';
import { deleteHourlySchedule, ensureHourlySchedule, hourForNominalTime, pauseHourlySchedule } from '../../../client/hourlySchedule';
import { startHour } from '../../../client/hourlyStarter';
import type { PipelineStatus } from '../../../client/pipelineStatus';
import { hourStartMs, parseHour } from '../../../core/hours';
import { holdPublish } from '../../support/backendHooks';
import { withWorker } from '../../support/pipelineWorker';
import { runCli } from '../../support/runCli';
import { testTemporal } from '../../support/temporalServer';
import { makeRawHour, makeTestLake, type TestLake } from '../../support/testLake';
import { waitFor } from '../../support/waitFor';

describe('clickstream status (real CLI process, real dev server, real worker)', () => {
  let lake: TestLake;
  beforeEach(async () => {
    // Its own table: the schedule and the hour workflow IDs are keyed by it, apart from other tests' on the shared server.
    lake = await makeTestLake({ CLICKSTREAM_RAW_WAIT_SECONDS: '0', CLICKSTREAM_CURATED_TABLE: 'status_cli_curated' });
  });
  afterEach(async () => {
    const { client } = await testTemporal();
    await deleteHourlySchedule(client, lake.config).catch(() => undefined);
    await lake.cleanup();
  });

  it('shows the schedule, the newest published hour and its freshness, failed hours with type and message (not re-run ones), and a running backfill', async () => {
    const { client, server } = await testTemporal();
    const env = {
      TEMPORAL_ADDRESS: server.address,
      CLICKSTREAM_LAKE_DIR: lake.config.lake.dir,
      CLICKSTREAM_TASK_QUEUE: lake.config.temporal.taskQueue,
      CLICKSTREAM_CURATED_TABLE: lake.config.tables.curated,
    };
    const status = async (): Promise<PipelineStatus> => {
      const r = await runCli(['status', '--json'], env);
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout) as PipelineStatus; // stdout holds only the document
    };

    // Nothing yet: no schedule (with the fix), nothing published, no failures, no backfills.
    const empty = await status();
    assert.deepEqual(
      { schedule: empty.schedule, newestPublished: empty.newestPublished, failedHours: empty.failedHours, runningBackfills: empty.runningBackfills },
      {
        schedule: { scheduleId: 'clickstream-hourly:status_cli_curated', state: 'missing', fix: 'clickstream schedule create' },
        newestPublished: null,
        failedHours: [],
        runningBackfills: [],
      },
    );

    await makeRawHour(lake, { hour: '2024-07-01T05', rows: 10 });
    for (const hour of ['2024-07-02T00', '2024-07-02T01']) await makeRawHour(lake, { hour, rows: 5 });
    const { backend, reached, release } = holdPublish(lake.backend, lake.config.tables.curated, '2024-07-02T00');

    await withWorker(
      lake,
      async () => {
        await (await startHour(client, lake.config, '2024-07-01T05')).result();
        // 07 never gets raw data; 08 fails first, then its raw lands and a re-run publishes it.
        for (const hour of ['2024-07-01T07', '2024-07-01T08']) await (await startHour(client, lake.config, hour)).result().catch(() => undefined);
        await makeRawHour(lake, { hour: '2024-07-01T08', rows: 3 });
        await (await startHour(client, lake.config, '2024-07-01T08')).result();
        // A backfill held at its first hour's publish is running while we look.
        const backfill = await startBackfill(client, lake.config, { from: '2024-07-02T00', to: '2024-07-02T01', concurrency: 1 });
        await reached;
        await ensureHourlySchedule(client, lake.config);

        const s = await status();
        assert.equal(s.table, 'status_cli_curated');
        assert.equal(s.schedule.state, 'active');
        const next = s.schedule.state === 'active' ? s.schedule.nextRun! : assert.fail('active');
        assert.equal(next.hour, hourForNominalTime(new Date(next.at)));
        assert.ok(Date.parse(next.at) > Date.parse(s.at) - 60_000);
        // The newest published hour is 08 (05 and 08 are published; 02T00 is held before its publish).
        assert.equal(s.newestPublished!.hour, '2024-07-01T08');
        assert.equal(s.newestPublished!.freshnessSeconds, Math.round((Date.parse(s.at) - hourStartMs(parseHour('2024-07-01T09'))) / 1000));
        assert.deepEqual(
          s.failedHours.map((f) => ({ hour: f.hour, type: f.errorType })),
          [{ hour: '2024-07-01T07', type: 'RawPartitionMissing' }],
          'the re-run 08 is not failed any more',
        );
        assert.match(s.failedHours[0]!.message, /^raw partition \S+ has no \.jsonl objects after 1 checks over 0s; check that the producer delivered hour 2024-07-01T07/);
        assert.equal(s.runningBackfills.length, 1);
        assert.equal(s.runningBackfills[0]!.workflowId, backfill.workflowId);
        assert.deepEqual(
          (({ total, running, pending, succeeded }) => ({ total, running, pending, succeeded }))(s.runningBackfills[0]!.progress!),
          { total: 2, running: 1, pending: 1, succeeded: 0 },
        );

        // The same screen for people.
        await pauseHourlySchedule(client, lake.config, 'maintenance window');
        const text = await runCli(['status'], env);
        assert.equal(text.code, 0, text.stderr);
        const lines = text.stdout.split('\n');
        assert.equal(lines[1], 'schedule   clickstream-hourly:status_cli_curated: PAUSED (maintenance window)');
        assert.match(lines[2]!, /^published {2}newest hour 2024-07-01T08 \(ended 2024-07-01T09:00:00\.000Z\), \d+h\d\dm ago {2}LATE \(over 2h00m\)$/);
        assert.equal(lines[3], 'failed     1 hour in the last 24 h, latest run failed:');
        assert.match(lines[4]!, /^ {2}2024-07-01T07 {2}RawPartitionMissing {2}at \d{4}-/);
        assert.match(lines[5]!, /^ {4}raw partition /);
        assert.equal(lines[6], '  re-run one with: clickstream run-hour <hour>');
        assert.equal(lines[7], 'backfills  1 running:');
        assert.match(lines[8]!, new RegExp(`^ {2}${backfill.workflowId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: 0/2 done \\(0 ok, 0 failed, 0 skipped\\), 1 running, 1 pending; ETA \\?, concurrency 1$`));

        release();
        await backfill.result();
        const after = await waitFor(status, (x) => x.runningBackfills.length === 0, 'the backfill to be listed as done');
        assert.equal(after.newestPublished!.hour, '2024-07-02T01');
      },
      backend,
    );
  });
});
