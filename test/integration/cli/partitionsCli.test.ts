/** `clickstream partitions` as a real process: catalog + raw listing + each hour's last run, one letter per hour. */
import assert from 'node:assert/strict';
import { WorkflowFailedError } from '@temporalio/client';
import { startHour } from '../../../client/hourlyStarter';
import { parseHour } from '../../../core/hours';
import { rawHourPrefix } from '../../../core/locations';
import type { PartitionsReport } from '../../../cli/commands/partitions';
import { holdPublish } from '../../support/backendHooks';
import { withWorker } from '../../support/pipelineWorker';
import { runCli } from '../../support/runCli';
import { testTemporal } from '../../support/temporalServer';
import { makeRawHour, makeTestLake, type TestLake } from '../../support/testLake';

const blank = ' '.repeat(6);

describe('clickstream partitions (real CLI process, real dev server)', () => {
  let lake: TestLake;
  beforeEach(async () => {
    lake = await makeTestLake({ CLICKSTREAM_RAW_WAIT_SECONDS: '0' });
  });
  afterEach(async () => {
    await lake.cleanup();
  });

  it('shows published, changed, failed, running, missing-raw and never-run hours as distinct letters, with counts and --json', async () => {
    const { client, server } = await testTemporal();
    const env = { TEMPORAL_ADDRESS: server.address, CLICKSTREAM_LAKE_DIR: lake.config.lake.dir, CLICKSTREAM_TASK_QUEUE: lake.config.temporal.taskQueue };
    const withRaw = ['2024-06-01T20', '2024-06-01T21', '2024-06-01T22', '2024-06-01T23', '2024-06-02T00', '2024-06-02T03'];
    for (const [i, hour] of withRaw.entries()) await makeRawHour(lake, { hour, rows: 4, seed: i + 1, files: 1 });
    const running = '2024-06-02T03';
    const { backend, reached, release } = holdPublish(lake.backend, lake.config.tables.curated, running);

    await withWorker(
      lake,
      async () => {
        try {
          for (const hour of ['2024-06-01T20', '2024-06-01T21', '2024-06-01T22']) await (await startHour(client, lake.config, hour)).result();
          // 02 has no raw data: its run fails (no wait configured). 01 has none either and never ran.
          const failed = await (await startHour(client, lake.config, '2024-06-02T02')).result().catch((e: unknown) => e);
          assert.ok(failed instanceof WorkflowFailedError);
          // 22 gets a late file after publishing; 03 is running (held before its publish) while we look.
          await lake.backend.store.put(lake.config.lake.bucket, `${rawHourPrefix(lake.config.lake, parseHour('2024-06-01T22'))}late.jsonl`, '{"event_id":"late","user_id":"u","event_time":"2024-06-01T22:59:00Z"}\n');
          const held = await startHour(client, lake.config, running);
          await reached;

          const r = await runCli(['partitions', '--from', '2024-06-01T20', '--to', '2024-06-02T03'], env);
          assert.equal(r.code, 0, r.stderr);
          const lines = r.stdout.split('\n');
          assert.equal(lines[0], 'clickstream_events_curated  2024-06-01T20..2024-06-02T03  (8 hours)');
          assert.equal(lines[1], 'hour (UTC)  000000 000011 111111 112222');
          assert.equal(lines[2], '            012345 678901 234567 890123');
          assert.equal(lines[3], `2024-06-01  ${blank} ${blank} ${blank}   PPC.   C:1 P:2 .:1`);
          assert.equal(lines[4], `2024-06-02  .MFR   ${blank} ${blank} ${blank}   R:1 F:1 M:1 .:1`);
          assert.match(r.stdout, /^totals: R running 1 \| F failed 1 \| C changed 1 \| P published 2 \| M missing-raw 1 \| \. not-run 2$/m);
          for (const letter of ['R', 'F', 'C', 'P', 'M', '.']) assert.match(r.stdout, new RegExp(`^  \\${letter}  \\S`, 'm'), `legend has ${letter}`);

          const json = await runCli(['partitions', '--from', '2024-06-01T20', '--to', '2024-06-02T03', '--json'], env);
          assert.equal(json.code, 0, json.stderr);
          const report = JSON.parse(json.stdout) as PartitionsReport;
          assert.equal(report.temporal, 'checked');
          assert.deepEqual(report.counts, { running: 1, failed: 1, changed: 1, published: 2, 'missing-raw': 1, 'not-run': 2 });
          assert.deepEqual(
            report.hours.map((h) => [h.hour, h.state, h.lastRun, h.rawObjects]),
            [
              ['2024-06-01T20', 'published', 'completed', 1],
              ['2024-06-01T21', 'published', 'completed', 1],
              ['2024-06-01T22', 'changed', 'completed', 2],
              ['2024-06-01T23', 'not-run', 'none', 1],
              ['2024-06-02T00', 'not-run', 'none', 1],
              ['2024-06-02T01', 'missing-raw', 'none', 0],
              ['2024-06-02T02', 'failed', 'failed', 0],
              ['2024-06-02T03', 'running', 'running', 1],
            ],
          );
          assert.equal(report.hours[0]!.curatedRows, 4);
          release();
          await held.result();
        } finally {
          release();
        }
      },
      backend,
    );

    // Without Temporal only the catalog and the raw listing speak: the failed hour reads as missing raw.
    const offline = await runCli(['--temporal-address', '127.0.0.1:1', 'partitions', '--from', '2024-06-02T00', '--to', '2024-06-02T03', '--no-temporal'], env);
    assert.equal(offline.code, 0, offline.stderr);
    assert.match(offline.stdout, new RegExp(`^2024-06-02  \\.MMP   ${blank} ${blank} ${blank}   P:1 M:2 \\.:1$`, 'm'));
    assert.match(offline.stdout, /note: Temporal was not consulted/);
  });

  it('rejects a bad range with exit 2 before reading anything', async () => {
    const r = await runCli(['--lake-dir', lake.config.lake.dir, 'partitions', '--from', '2024-06-02T00', '--to', '2024-06-01T00']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--to 2024-06-01T00 is before --from 2024-06-02T00/);
  });
});
