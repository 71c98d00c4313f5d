/**
 * The whole hourly workflow on the `trino` backend, and every part of it real: the Temporal dev
 * server, a pipeline worker (bootstrap included), moto's S3 and Glue, and a real Trino 476 that
 * executes the sql/athena statements: the two views at bootstrap, the curation CTAS that writes
 * Parquet into the run's staging folder, and the validation counts. The curated rows asserted
 * here are read back through Trino from the published Glue partition.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { GetTableCommand } from '@aws-sdk/client-glue';
import { startHour } from '../../../client/hourlyStarter';
import { PARTITION_KEYS, partitionValues, parseHour } from '../../../core/hours';
import { stagingTableName } from '../../../lake/aws/glueTables';
import { runToEnd } from '../../../lake/trino/trinoProtocol';
import { createPipelineWorker } from '../../../workers/createPipelineWorker';
import { makeRawHourS3 } from '../../support/aws/awsTestLake';
import { workflowBundle } from '../../support/pipelineWorker';
import { testTemporal } from '../../support/temporalServer';
import { makeTrinoTestLake, testTrinoStack, type TrinoTestLake } from '../../support/trino/trinoStack';

const HOUR = '2024-06-02T13';
const VALUES = PARTITION_KEYS.map((k) => partitionValues(parseHour(HOUR))[k]);

describe('hourly workflow on the trino backend (dev server, real worker, moto S3 + Glue, real Trino executing the SQL)', function () {
  this.timeout(300_000);
  let lake: TrinoTestLake;

  beforeEach(async () => {
    lake = await makeTrinoTestLake(await testTrinoStack(), { overrides: { CLICKSTREAM_TASK_QUEUE: `trino-hourly-${randomUUID()}` } });
  });
  afterEach(async () => {
    await lake?.close();
  });

  async function trinoRows(sql: string): Promise<unknown[][]> {
    const { trino } = await testTrinoStack();
    return (await runToEnd({ server: trino.url, user: 'test', catalog: trino.catalog, schema: lake.config.tables.database }, sql)).rows;
  }

  it('publishes an hour twice: Trino curates and validates it, the Glue partition swaps, readers see exactly one copy of each event', async () => {
    const { client, nativeConnection } = await testTemporal();
    const { database, curated } = lake.config.tables;
    const bucket = lake.config.lake.bucket;
    const raw = await makeRawHourS3(lake, { hour: HOUR, rows: 40, malformed: 4, duplicates: 3, files: 3 });
    const curatedKeys = async () => (await lake.backend.store.list(bucket, 'curated/')).map((o) => o.key);

    const worker = await createPipelineWorker({
      config: lake.config,
      backend: lake.backend,
      connection: nativeConnection,
      workflowBundle: await workflowBundle(),
      workerOptions: { shutdownGraceTime: '2 seconds' },
    });
    const { first, afterFirst, second } = await worker.runUntil(async () => {
      const first = await (await startHour(client, lake.config, HOUR)).result();
      const afterFirst = await curatedKeys();
      const second = await (await startHour(client, lake.config, HOUR)).result();
      return { first, afterFirst, second };
    });

    for (const report of [first, second]) {
      assert.equal(report.status, 'published');
      // The counts are Trino's: the validation statement executed on the raw hour and the staging table.
      assert.deepEqual(report.counts, raw.expected);
      assert.match(report.queries.curate.queryId, /^\d{8}_\d{6}_\d{5}_\w+$/, 'a Trino query id');
      assert.ok(report.queries.curate.statusCalls >= 1);
      const staging = stagingTableName(curated, report.location);
      await assert.rejects(lake.clients.glue.send(new GetTableCommand({ DatabaseName: database, Name: staging })), /EntityNotFound/, 'staging table dropped after publish');
    }
    assert.deepEqual(second.publish, { outcome: 'updated', previousLocation: first.location, deletedObjects: afterFirst.length });
    // What Trino's CTAS wrote: Parquet files under the second run's folder only.
    const keys = await curatedKeys();
    assert.ok(keys.length > 0);
    for (const k of keys) assert.ok(`s3://${bucket}/${k}`.startsWith(second.location), `${k} is in the published run folder`);

    // Readers through Trino: the published partition holds each curated event exactly once, typed.
    const where = `year = '${VALUES[0]}' AND month = '${VALUES[1]}' AND day = '${VALUES[2]}' AND hour = '${VALUES[3]}'`;
    const [[rows, ids]] = (await trinoRows(`SELECT count(*), count(DISTINCT event_id) FROM ${database}.${curated} WHERE ${where}`)) as [[number, number]];
    assert.equal(rows, raw.expected.curatedRows);
    assert.equal(ids, raw.expected.curatedRows);
    const [[type]] = (await trinoRows(`SELECT typeof(event_time) FROM ${database}.${curated} WHERE ${where} LIMIT 1`)) as [[string]];
    assert.match(type, /^timestamp\(\d\)$/);
    // The rejected-lines view (created by the worker's bootstrap on Trino) lists every line curation did not keep.
    const [[rejected, duplicates]] = (await trinoRows(
      `SELECT count_if(outcome = 'rejected'), count_if(outcome = 'duplicate') FROM ${database}.${lake.config.tables.raw}_rejected WHERE ${where}`,
    )) as [[number, number]];
    assert.deepEqual({ rejected, duplicates }, { rejected: raw.expected.rejected, duplicates: raw.expected.duplicates });

    const lineage = (await lake.backend.catalog.getPartition(database, curated, VALUES))!.parameters;
    assert.equal(lineage.validated, 'true');
    assert.equal(lineage.curate_query_id, second.queries.curate.queryId);
    // Two views + two runs x (curate, validate): each statement submitted to Trino exactly once.
    assert.equal(lake.backend.engine.counts.submissions, 6);
  });
});
