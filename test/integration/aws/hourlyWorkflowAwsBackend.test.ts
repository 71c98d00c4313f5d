/**
 * The whole hourly workflow on the `aws` backend: the real dev server, a real pipeline worker
 * (createPipelineWorker, bootstrap included) and client/hourlyStarter.ts startHour. What is real:
 * - S3 and Glue: the Trino stack's moto (test/support/trino/trinoStack.ts), with this test's own
 *   bucket, Glue database and workgroup (that moto is never reset).
 * - SQL: the real Trino 476. Every statement the worker's Athena adapter starts (the two views at
 *   bootstrap, each hour's curation CTAS and validation counts) is executed there, so the Parquet
 *   under each run's staging folder, the staging tables and the counts the workflow validates are
 *   Trino's work on the raw fixture.
 * - Athena API: a test double, the Athena stand-in (test/support/aws/athenaStandIn.ts), between
 *   the worker's Athena client (CLICKSTREAM_AWS_ATHENA_ENDPOINT_URL) and Trino. Query states are
 *   Trino's, so how many polls a query takes depends on timing: the test asserts a valid
 *   progression and that the report, the engine and the wire agree on the count.
 * Everything else (the partition swap, dropping staging tables, deleting superseded objects) is
 * the pipeline's own work on moto's S3 and Glue.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { GetTableCommand } from '@aws-sdk/client-glue';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { startHour } from '../../../client/hourlyStarter';
import { PARTITION_KEYS, partitionValues, parseHour } from '../../../core/hours';
import { classifiedLinesViewName, rejectedLinesViewName, stagingTableName } from '../../../lake/aws/glueTables';
import { runToEnd } from '../../../lake/trino/trinoProtocol';
import { createPipelineWorker } from '../../../workers/createPipelineWorker';
import type { HourReport } from '../../../core/contracts/hourly';
import type { SeenQuery } from '../../support/aws/athenaStandIn';
import { makeAwsTestLakeOnTrino, makeRawHourS3, type AwsTestLakeOnTrino } from '../../support/aws/awsTestLake';
import { workflowBundle } from '../../support/pipelineWorker';
import { testTemporal } from '../../support/temporalServer';

// An hour no other test file runs, so a workflow left over on the shared dev server cannot be joined by mistake.
const HOUR = '2024-05-14T09';
const VALUES = PARTITION_KEYS.map((k) => partitionValues(parseHour(HOUR))[k]);
/** What a poller may see of one query on Athena: queued, then running, then done. */
const PROGRESSION = /^(QUEUED,)*(RUNNING,)*SUCCEEDED$/;

describe('hourly workflow on the aws backend (dev server, real worker; S3 + Glue = moto, SQL = real Trino, Athena API = stand-in)', function () {
  this.timeout(300_000);
  let lake: AwsTestLakeOnTrino;

  beforeEach(async () => {
    // No bootstrap here: the worker's own start-up creates the views, through Athena.
    lake = await makeAwsTestLakeOnTrino({ bootstrap: false, overrides: { CLICKSTREAM_TASK_QUEUE: `aws-hourly-${randomUUID()}` } });
  });
  afterEach(async () => {
    await lake?.close();
  });

  async function tableExists(name: string): Promise<boolean> {
    try {
      await lake.backend.clients.glue.send(new GetTableCommand({ DatabaseName: lake.config.tables.database, Name: name }));
      return true;
    } catch {
      return false;
    }
  }

  /** Keys of every object under the folder, each checked to be a Parquet file (PAR1 at both ends). */
  async function parquetKeys(bucket: string, prefix: string): Promise<string[]> {
    const keys = (await lake.backend.store.list(bucket, prefix)).map((o) => o.key);
    for (const k of keys) {
      const bytes = Buffer.from(await (await lake.backend.clients.s3.send(new GetObjectCommand({ Bucket: bucket, Key: k }))).Body!.transformToByteArray());
      assert.equal(`${bytes.subarray(0, 4).toString('latin1')}…${bytes.subarray(-4).toString('latin1')}`, 'PAR1…PAR1', `${k} is Parquet`);
    }
    return keys;
  }

  async function trinoRows(sql: string): Promise<unknown[][]> {
    const { trino } = lake.stack;
    return (await runToEnd({ server: trino.url, user: 'test-reader', catalog: trino.catalog, schema: lake.config.tables.database }, sql)).rows;
  }

  it('runs an hour twice: Trino curates and validates it, Glue partitions swap, superseded objects are deleted, every query polled to SUCCEEDED', async () => {
    const { client, nativeConnection } = await testTemporal();
    const { database, raw: rawTable, curated } = lake.config.tables;
    const bucket = lake.config.lake.bucket;
    const { standIn } = lake;
    const raw = await makeRawHourS3(lake, { hour: HOUR, rows: 40, malformed: 4, duplicates: 3, files: 3 });
    const rawPrefix = `s3://${bucket}/raw/clickstream/year=2024/month=05/day=14/hour=09/`;

    // Assertions wait until runUntil returns: a worker that is created but never run keeps the process alive.
    const worker = await createPipelineWorker({
      config: lake.config,
      backend: lake.backend,
      connection: nativeConnection,
      workflowBundle: await workflowBundle(),
      workerOptions: { shutdownGraceTime: '2 seconds' },
    });
    const { first, afterFirst, second } = await worker.runUntil(async () => {
      const first = await (await startHour(client, lake.config, HOUR)).result();
      const afterFirst = { keys: await parquetKeys(bucket, 'curated/'), partition: await lake.backend.catalog.getPartition(database, curated, VALUES) };
      const second = await (await startHour(client, lake.config, HOUR)).result();
      return { first, afterFirst, second };
    });

    // Bootstrap ran in createPipelineWorker: the two views, each one statement Trino executed.
    const views = standIn.ofKind('view');
    assert.deepEqual(
      views.map((v) => /VIEW \w+\.(\w+) AS/.exec(v.sql)![1]),
      [classifiedLinesViewName(rawTable), rejectedLinesViewName(rawTable)],
    );
    for (const v of views) assert.match(v.states.join(','), PROGRESSION);

    const [ctas1, ctas2] = standIn.ofKind('ctas');
    const [validation1, validation2] = standIn.ofKind('validation');
    assert.equal(standIn.ofKind('ctas').length, 2);
    assert.equal(standIn.ofKind('validation').length, 2);
    assert.equal(standIn.ofKind('other').length, 0, 'no statement the stand-in does not know');

    // Each run: counts as Trino computed them from the fixture, a staging folder unique to the run, queries polled to success.
    for (const [report, ctas, validation] of [
      [first, ctas1!, validation1!],
      [second, ctas2!, validation2!],
    ] as [HourReport, SeenQuery, SeenQuery][]) {
      assert.equal(report.status, 'published');
      assert.deepEqual(report.counts, raw.expected);
      assert.equal(report.counts.rawLines, report.counts.curatedRows + report.counts.rejected + report.counts.duplicates);
      assert.deepEqual({ prefix: report.raw.prefix, objects: report.raw.objects }, { prefix: rawPrefix, objects: 3 });
      assert.equal(report.location, `s3://${bucket}/curated/clickstream/year=2024/month=05/day=14/hour=09/run=${report.runId}/`);
      // Status calls: the workflow's report and the wire (every GetQueryExecution the stand-in answered) agree.
      assert.equal(ctas.queryId, report.queries.curate.queryId);
      assert.equal(validation.queryId, report.queries.validate.queryId);
      assert.equal(report.queries.curate.statusCalls, ctas.states.length);
      assert.equal(report.queries.validate.statusCalls, validation.states.length);
      assert.match(ctas.states.join(','), PROGRESSION);
      assert.match(validation.states.join(','), PROGRESSION);
      // The CTAS wrote into the run's staging folder, from the classified-lines view, pinned to the manifest's files.
      assert.ok(ctas.sql.includes(`CREATE TABLE ${database}.${stagingTableName(curated, report.location)}`));
      assert.ok(ctas.sql.includes(`external_location = '${report.location}'`));
      assert.ok(ctas.sql.includes(`FROM ${database}.${classifiedLinesViewName(rawTable)}`));
      assert.deepEqual(JSON.parse(ctas.executionParameters[4]!.slice(1, -1)), ['part-0000.jsonl', 'part-0001.jsonl', 'part-0002.jsonl'].map((f) => rawPrefix + f));
      assert.deepEqual(ctas.trino.sessionProperties, { [`${lake.stack.trino.catalog}.compression_codec`]: 'SNAPPY' });
      assert.match(ctas.clientRequestToken ?? '', /^[0-9a-f]{64}$/);
      assert.equal(ctas.starts, 1);
      assert.equal(await tableExists(stagingTableName(curated, report.location)), false, 'staging table metadata dropped after the swap');
    }
    assert.notEqual(second.runId, first.runId);
    assert.equal(second.workflowId, first.workflowId, 'one workflow ID per (table, hour): the second run is a deliberate re-run');
    assert.notEqual(ctas2!.clientRequestToken, ctas1!.clientRequestToken, 'a re-run gets a new token, so Athena runs a new query');

    // First run: the partition is created at run 1's folder, which holds the Parquet Trino's CTAS wrote (and nothing else).
    assert.deepEqual(first.publish, { outcome: 'created', previousLocation: null, deletedObjects: 0 });
    assert.equal(afterFirst.partition?.location, first.location);
    assert.ok(afterFirst.keys.length > 0);
    for (const k of afterFirst.keys) assert.ok(`s3://${bucket}/${k}`.startsWith(first.location), `${k} is in run 1's folder`);

    // Second run: UpdatePartition swaps the location, then run 1's objects are deleted.
    assert.deepEqual(second.publish, { outcome: 'updated', previousLocation: first.location, deletedObjects: afterFirst.keys.length });
    const keys = await parquetKeys(bucket, 'curated/');
    assert.ok(keys.length > 0);
    for (const k of keys) assert.ok(`s3://${bucket}/${k}`.startsWith(second.location), `${k} is in run 2's folder`);
    const curatedPartitions = await lake.backend.catalog.listPartitions(database, curated);
    assert.deepEqual(
      curatedPartitions.map((p) => [p.values, p.location]),
      [[VALUES, second.location]],
    );
    const lineage = curatedPartitions[0]!.parameters;
    assert.equal(lineage.validated, 'true');
    assert.equal(lineage.run_id, second.runId);
    assert.equal(lineage.curate_query_id, second.queries.curate.queryId);
    assert.equal(lineage.validate_query_id, second.queries.validate.queryId);
    assert.equal(lineage.manifest_fingerprint, second.raw.fingerprint);
    assert.equal(lineage.curated_rows, String(raw.expected.curatedRows));

    // The raw hour is registered once (the second run finds it unchanged).
    assert.deepEqual(
      (await lake.backend.catalog.listPartitions(database, rawTable)).map((p) => [p.values, p.location]),
      [[VALUES, rawPrefix]],
    );

    // A reader on Trino: the published partition holds each curated event once; the rejected-lines view lists the rest.
    const where = `year = '${VALUES[0]}' AND month = '${VALUES[1]}' AND day = '${VALUES[2]}' AND hour = '${VALUES[3]}'`;
    assert.deepEqual(await trinoRows(`SELECT count(*), count(DISTINCT event_id) FROM ${curated} WHERE ${where}`), [[raw.expected.curatedRows, raw.expected.curatedRows]]);
    assert.deepEqual(
      await trinoRows(`SELECT count_if(outcome = 'rejected'), count_if(outcome = 'duplicate') FROM ${rejectedLinesViewName(rawTable)} WHERE ${where}`),
      [[raw.expected.rejected, raw.expected.duplicates]],
    );

    // Totals: 2 bootstrap views + 2 runs x (curate, validate), each started once, every status call seen on the wire.
    assert.equal(lake.backend.engine.counts.starts, 6);
    assert.equal(standIn.queries.size, 6);
    assert.equal(standIn.statusCalls(), lake.backend.engine.counts.statusCalls);
  });
});
