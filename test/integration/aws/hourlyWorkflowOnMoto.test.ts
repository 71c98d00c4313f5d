/**
 * The whole hourly workflow on the `aws` backend against moto: the real dev server, a real
 * pipeline worker (createPipelineWorker, bootstrap included) and client/hourlyStarter.ts startHour.
 * S3 and Glue are moto's, for real. Athena is moto's too, under manual state progression, so
 * every query is really polled through QUEUED, RUNNING, RUNNING, SUCCEEDED.
 *
 * moto executes no SQL, so an Athena stand-in (test/support/aws/athenaStandIn.ts) sits between
 * the worker's Athena client and moto and plays the SQL engine's part, side effects only: when a
 * curation CTAS succeeds it writes the Parquet objects and the staging Glue table the CTAS would
 * have written, and it injects the fixture's validation counts through moto's
 * /moto-api/static/athena/query-results. Everything else (the partition swap, dropping staging
 * tables, deleting superseded objects) is the pipeline's own work on moto's S3 and Glue.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { GetTableCommand } from '@aws-sdk/client-glue';
import { startHour } from '../../../client/hourlyStarter';
import { PARTITION_KEYS, partitionValues, parseHour } from '../../../core/hours';
import { createAwsClients, destroyAwsClients, type AwsClients } from '../../../lake/aws/awsClients';
import { classifiedLinesViewName, rejectedLinesViewName, stagingTableName } from '../../../lake/aws/glueTables';
import { createPipelineWorker } from '../../../workers/createPipelineWorker';
import type { HourReport } from '../../../workflows/types';
import { AthenaStandIn, type SeenQuery } from '../../support/aws/athenaStandIn';
import { awsSettingsFor, makeAwsTestLake, makeRawHourS3, type AwsTestLake } from '../../support/aws/awsTestLake';
import { MOTO_CREDENTIALS, useMotoServer } from '../../support/aws/motoServer';
import { workflowBundle } from '../../support/pipelineWorker';
import { testTemporal } from '../../support/temporalServer';

// An hour no other test file runs, so a workflow left over on the shared dev server cannot be joined by mistake.
const HOUR = '2024-05-14T09';
const VALUES = PARTITION_KEYS.map((k) => partitionValues(parseHour(HOUR))[k]);
/** moto's manual progression: each state lasts two GetQueryExecution calls. */
const TICKS_PER_STATE = 2;
const POLLED_STATES = ['QUEUED', 'RUNNING', 'RUNNING', 'SUCCEEDED'];
const FILES_PER_CTAS = 2;

describe('hourly workflow on the aws backend against moto (dev server, real worker, Athena stand-in)', function () {
  this.timeout(120_000);
  const moto = useMotoServer({ athenaManualProgression: TICKS_PER_STATE });
  let motoClients: AwsClients;
  let standIn: AthenaStandIn;
  let lake: AwsTestLake;
  let raw: Awaited<ReturnType<typeof makeRawHourS3>>;

  beforeEach(async () => {
    motoClients = createAwsClients(awsSettingsFor(moto()), { credentials: MOTO_CREDENTIALS });
    standIn = await AthenaStandIn.start({
      moto: moto(),
      clients: motoClients,
      filesPerCtas: FILES_PER_CTAS,
      // What Athena would count for this hour: the generator knows the fixture's lines.
      answerValidation: (q) => {
        assert.deepEqual(q.executionParameters.slice(0, 4), VALUES.map((v) => `'${v}'`), 'validation names the hour');
        const e = raw.expected;
        return { raw_lines: e.rawLines, curated_rows: e.curatedRows, rejected: e.rejected, duplicates: e.duplicates, unknown_fields: [] };
      },
    });
    lake = await makeAwsTestLake(moto(), {
      overrides: { CLICKSTREAM_TASK_QUEUE: `aws-hourly-${randomUUID()}` },
      // The worker's Athena client goes through the stand-in; S3 and Glue go straight to moto.
      aws: { CLICKSTREAM_AWS_ATHENA_ENDPOINT_URL: standIn.url },
    });
  });
  afterEach(async () => {
    await lake?.close();
    await standIn?.stop();
    if (motoClients) destroyAwsClients(motoClients);
  });

  async function tableExists(name: string): Promise<boolean> {
    try {
      await motoClients.glue.send(new GetTableCommand({ DatabaseName: lake.config.tables.database, Name: name }));
      return true;
    } catch {
      return false;
    }
  }

  it('runs an hour twice: Glue partitions, the location swap, superseded objects deleted, every query polled QUEUED -> RUNNING -> SUCCEEDED', async () => {
    const { client, nativeConnection } = await testTemporal();
    const { database, raw: rawTable, curated } = lake.config.tables;
    const bucket = lake.config.lake.bucket;
    raw = await makeRawHourS3(lake, { hour: HOUR, rows: 40, malformed: 4, duplicates: 3, files: 3 });
    const rawPrefix = `s3://${bucket}/raw/clickstream/year=2024/month=05/day=14/hour=09/`;
    const curatedKeys = async () => (await lake.backend.store.list(bucket, 'curated/')).map((o) => o.key);

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
      const afterFirst = { keys: await curatedKeys(), partition: await lake.backend.catalog.getPartition(database, curated, VALUES) };
      const second = await (await startHour(client, lake.config, HOUR)).result();
      return { first, afterFirst, second };
    });

    // Bootstrap ran in createPipelineWorker: the two views, each one polled statement.
    const views = standIn.ofKind('view');
    assert.deepEqual(
      views.map((v) => /VIEW \w+\.(\w+) AS/.exec(v.sql)![1]),
      [classifiedLinesViewName(rawTable), rejectedLinesViewName(rawTable)],
    );
    for (const v of views) assert.deepEqual(v.states, POLLED_STATES);

    const [ctas1, ctas2] = standIn.ofKind('ctas');
    const [validation1, validation2] = standIn.ofKind('validation');
    assert.equal(standIn.ofKind('ctas').length, 2);
    assert.equal(standIn.ofKind('validation').length, 2);
    assert.equal(standIn.ofKind('other').length, 0, 'no statement the stand-in does not know');

    // Each run: counts as validated, the staging folder unique to the run, queries polled to success.
    for (const [report, ctas, validation] of [
      [first, ctas1!, validation1!],
      [second, ctas2!, validation2!],
    ] as [HourReport, SeenQuery, SeenQuery][]) {
      assert.equal(report.status, 'published');
      assert.deepEqual(report.counts, raw.expected);
      assert.equal(report.counts.rawLines, report.counts.curatedRows + report.counts.rejected + report.counts.duplicates);
      assert.deepEqual({ prefix: report.raw.prefix, objects: report.raw.objects }, { prefix: rawPrefix, objects: 3 });
      assert.equal(report.location, `s3://${bucket}/curated/clickstream/year=2024/month=05/day=14/hour=09/run=${report.runId}/`);
      // Status calls: the workflow's report, the wire (every GetQueryExecution that reached moto) and moto's states agree.
      assert.equal(report.queries.curate.statusCalls, POLLED_STATES.length);
      assert.equal(report.queries.validate.statusCalls, POLLED_STATES.length);
      assert.equal(ctas.queryId, report.queries.curate.queryId);
      assert.equal(validation.queryId, report.queries.validate.queryId);
      assert.deepEqual(ctas.states, POLLED_STATES);
      assert.deepEqual(validation.states, POLLED_STATES);
      // The CTAS wrote into the run's staging folder, from the classified-lines view, pinned to the manifest's files.
      assert.deepEqual(ctas.wrote && { table: ctas.wrote.table, location: ctas.wrote.location }, {
        table: stagingTableName(curated, report.location),
        location: report.location,
      });
      assert.ok(ctas.sql.includes(`FROM ${database}.${classifiedLinesViewName(rawTable)}`));
      assert.deepEqual(JSON.parse(ctas.executionParameters[4]!.slice(1, -1)), ['part-0000.jsonl', 'part-0001.jsonl', 'part-0002.jsonl'].map((f) => rawPrefix + f));
      assert.match(ctas.clientRequestToken ?? '', /^[0-9a-f]{64}$/);
      assert.equal(await tableExists(stagingTableName(curated, report.location)), false, 'staging table metadata dropped after the swap');
    }
    assert.notEqual(second.runId, first.runId);
    assert.equal(second.workflowId, first.workflowId, 'one workflow ID per (table, hour): the second run is a deliberate re-run');
    assert.notEqual(ctas2!.clientRequestToken, ctas1!.clientRequestToken, 'a re-run gets a new token, so Athena runs a new query');

    // First run: the partition is created at run 1's folder, which holds what its CTAS wrote.
    assert.deepEqual(first.publish, { outcome: 'created', previousLocation: null, deletedObjects: 0 });
    assert.equal(afterFirst.partition?.location, first.location);
    assert.deepEqual(afterFirst.keys, ctas1!.wrote!.keys);

    // Second run: UpdatePartition swaps the location, then run 1's objects are deleted.
    assert.deepEqual(second.publish, { outcome: 'updated', previousLocation: first.location, deletedObjects: FILES_PER_CTAS });
    assert.deepEqual(await curatedKeys(), ctas2!.wrote!.keys);
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

    // Totals: 2 bootstrap views + 2 runs x (curate, validate), each started once and polled 4 times, all over the wire.
    assert.equal(lake.backend.engine.startCalls, 6);
    assert.equal(lake.backend.engine.statusCalls, 6 * POLLED_STATES.length);
    assert.equal(standIn.statusCalls(), lake.backend.engine.statusCalls);
  });
});
