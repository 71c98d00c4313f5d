import assert from 'node:assert/strict';
import { startHour } from '../../client/hourlyStarter';
import { PipelineError } from '../../core/errors';
import { withCatalogHook } from '../support/backendHooks';
import { activityCalls } from '../support/historyEvents';
import { curatedPartition, publishedRows, publishedSchema, rawPartition } from '../support/lakeReads';
import { withWorker } from '../support/pipelineWorker';
import { testTemporal } from '../support/temporalServer';
import { makeRawHour, makeTestLake, type TestLake } from '../support/testLake';

describe('hourly pipeline on the embedded default (real dev server, DuckDB, lake folder)', () => {
  let lake: TestLake;
  beforeEach(async () => {
    lake = await makeTestLake();
  });
  afterEach(async () => {
    await lake.cleanup();
  });

  it('curates one hour end to end: counts add up, Parquet is typed, catalog has both partitions and lineage', async () => {
    const { client } = await testTemporal();
    const raw = await makeRawHour(lake, { hour: '2024-03-01T07', rows: 300, malformed: 12, duplicates: 9, files: 3 });

    const report = await withWorker(lake, async () => (await startHour(client, lake.config, '2024-03-01T07')).result());

    assert.deepEqual(report.counts, raw.expected);
    assert.deepEqual(report.schemaDrift.unknownFields, [], 'generated events follow the contract');
    assert.equal(report.counts.rawLines, report.counts.curatedRows + report.counts.rejected + report.counts.duplicates);
    assert.equal(report.raw.objects, 3);
    assert.ok(report.bytesRead.curation > 0 && report.bytesRead.curation === report.raw.bytes);

    const rows = await publishedRows(lake, '2024-03-01T07');
    assert.equal(rows.length, 300);
    assert.equal(new Set(rows.map((r) => r.event_id)).size, 300, 'no duplicate event_id in curated output');
    const schema = await publishedSchema(lake, '2024-03-01T07');
    assert.equal(schema.event_time, 'TIMESTAMP');
    assert.equal(schema.event_id, 'VARCHAR');
    assert.ok(rows.every((r) => r.event_time instanceof Object), 'event_time read back as a timestamp value');

    const curated = await curatedPartition(lake, '2024-03-01T07');
    assert.equal(curated?.location, report.location);
    assert.equal(curated?.parameters.validated, 'true');
    assert.equal(curated?.parameters.curated_rows, '300');
    assert.equal(curated?.parameters.manifest_fingerprint, report.raw.fingerprint);
    assert.equal(curated?.parameters.workflow_id, 'clickstream-hour:clickstream_events_curated:2024-03-01T07');
    const rawPart = await rawPartition(lake, '2024-03-01T07');
    assert.match(rawPart!.location, /raw\/clickstream\/year=2024\/month=03\/day=01\/hour=07\/$/);
  });

  it('runs verify, register and publish as local activities and only the two engine queries as remote ones', async () => {
    const { client } = await testTemporal();
    const raw = await makeRawHour(lake, { hour: '2024-03-01T07', rows: 20 });
    const handle = await withWorker(lake, async () => {
      const h = await startHour(client, lake.config, '2024-03-01T07');
      await h.result();
      return h;
    });
    const { events } = await handle.fetchHistory();
    assert.deepEqual(activityCalls(events), {
      remote: ['curateToStaging', 'validateStaging'],
      local: ['verifyRawPartition', 'registerRawPartition', 'publishPartition'],
    });
    assert.ok(events!.length <= 24, `${events!.length} history events for one hour (37 when every step was a remote activity)`);
    assert.equal((await publishedRows(lake, '2024-03-01T07')).length, raw.expected.curatedRows);
  });

  it('a local attempt that fails with a retryable error is retried as a remote activity, and the hour publishes once', async () => {
    const { client } = await testTemporal();
    const raw = await makeRawHour(lake, { hour: '2024-03-01T07', rows: 20 });
    let curatedUpserts = 0;
    // The real catalog does the work; the hook only makes the first publish attempt fail as a flaky Glue call would.
    const flaky = withCatalogHook(lake.backend, async (table) => {
      if (table === lake.config.tables.curated && ++curatedUpserts === 1) {
        throw new PipelineError('TransientBackend', 'catalog briefly unavailable (injected by the test)', { retryable: true });
      }
    });
    const handle = await withWorker(
      lake,
      async () => {
        const h = await startHour(client, lake.config, '2024-03-01T07');
        await h.result();
        return h;
      },
      flaky,
    );
    const { events } = await handle.fetchHistory();
    assert.deepEqual(activityCalls(events), {
      remote: ['curateToStaging', 'validateStaging', 'publishPartition'],
      local: ['verifyRawPartition', 'registerRawPartition', 'publishPartition'],
    });
    assert.equal(curatedUpserts, 2, 'one failed local attempt, one remote attempt that published');
    const curated = await curatedPartition(lake, '2024-03-01T07');
    assert.equal(curated?.parameters.curated_rows, String(raw.expected.curatedRows));
    assert.equal((await publishedRows(lake, '2024-03-01T07')).length, raw.expected.curatedRows);
  });

  it('reports schema drift: unknown top-level fields are listed in the report and the lineage, not silently ignored', async () => {
    const { client } = await testTemporal();
    const base = { event_time: '2024-03-01T08:05:00Z', user_id: 'u1', session_id: 's1', event_type: 'click', page_url: '/', referrer: '', user_agent: 'ua', properties: {} };
    await makeRawHour(lake, {
      hour: '2024-03-01T08',
      lines: [
        JSON.stringify({ ...base, event_id: 'e1' }),
        JSON.stringify({ ...base, event_id: 'e2', ab_test: 'B', geo: { country: 'DE' } }),
        JSON.stringify({ ...base, event_id: 'e3', ab_test: 'A' }),
      ],
    });
    const report = await withWorker(lake, async () => (await startHour(client, lake.config, '2024-03-01T08')).result());
    assert.deepEqual(report.schemaDrift.unknownFields, ['ab_test', 'geo']);
    assert.equal(report.counts.curatedRows, 3, 'drift is reported, the rows are still curated');
    assert.equal((await curatedPartition(lake, '2024-03-01T08'))?.parameters.unknown_fields, 'ab_test,geo');
  });
});
