import assert from 'node:assert/strict';
import { startBackfill } from '../../client/backfillStarter';
import { startHour } from '../../client/hourlyStarter';
import { formatHour, hoursBetween, parseHour } from '../../core/hours';
import { duckdbStatements } from '../../lake/local/duckdbStatements';
import { loadSql } from '../../lake/sqlFiles';
import { progressQuery } from '../../workflows/backfill';
import { withStatements } from '../support/backendHooks';
import { withWorker } from '../support/pipelineWorker';
import { testTemporal } from '../support/temporalServer';
import { makeRawHour, makeTestLake, type TestLake } from '../support/testLake';

describe('live hours get engine slots ahead of a saturating backfill', () => {
  let lake: TestLake;
  beforeEach(async () => {
    lake = await makeTestLake({ CLICKSTREAM_ENGINE_SLOTS_LIVE: '1', CLICKSTREAM_ENGINE_SLOTS_BACKFILL: '1' });
  });
  afterEach(async () => {
    await lake.cleanup();
  });

  it('a live hour finishes while a backfill holding every backfill slot still has hours waiting', async () => {
    const { client } = await testTemporal();
    const backfillHours = hoursBetween(parseHour('2024-04-01T00'), parseHour('2024-04-01T07')).map(formatHour);
    for (const h of [...backfillHours, '2024-04-02T12']) await makeRawHour(lake, { hour: h, rows: 5, files: 1 });

    // Every curation takes ~1.5 s of real DuckDB work (a deliberately heavy statement around the
    // real one), so the backfill keeps its single slot busy and queues the rest behind it.
    const slow = withStatements(lake.backend, {
      ...duckdbStatements,
      curateHour: (input) => ({
        ...duckdbStatements.curateHour(input),
        sql: loadSql('duckdb', 'curate_hour').replace(
          'SELECT * FROM clickstream_curated_events($raw_files)',
          'SELECT c.* FROM clickstream_curated_events($raw_files) c, (SELECT count(*) FROM range(60000000) t(i) WHERE i % 7 = 3) AS busy',
        ),
      }),
    });
    await withWorker(
      lake,
      async () => {
        const backfill = await startBackfill(client, lake.config, { from: backfillHours[0]!, to: backfillHours[7]!, concurrency: 8 });
        // Wait until the backfill is saturated: 8 children started, only one can hold the engine slot.
        for (let p = await backfill.query(progressQuery); p.running < 8 && p.succeeded === 0; p = await backfill.query(progressQuery)) {
          await new Promise((r) => setTimeout(r, 100));
        }
        const live = await (await startHour(client, lake.config, '2024-04-02T12')).result();
        const during = await backfill.query(progressQuery);
        assert.equal(live.counts.curatedRows, 5);
        assert.ok(during.pending + during.running >= 4, `backfill still busy when the live hour finished: ${JSON.stringify(during)}`);
        const done = await backfill.result();
        assert.equal(done.succeeded, 8);
      },
      slow,
    );
  });
});
