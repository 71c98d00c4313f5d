/**
 * The pipeline's real activities (createActivities) on the `aws` backend against moto server:
 * S3 and Glue for real; Athena with moto's manual state progression, so QUEUED -> RUNNING ->
 * SUCCEEDED is really polled by activities/runEngineQuery.ts, and the validation counts injected
 * through /moto-api/static/athena/query-results.
 *
 * moto records Athena statements but executes none: where Athena's CTAS would write Parquet into
 * the staging folder and create the staging table, the test does that itself (simulateCtas), so
 * what follows (validation, the partition swap, dropping the staging table, deleting superseded
 * objects) runs on real S3 and Glue state.
 */
import assert from 'node:assert/strict';
import { GetQueryExecutionCommand, type QueryExecution } from '@aws-sdk/client-athena';
import { CreateTableCommand, GetTableCommand } from '@aws-sdk/client-glue';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createActivities } from '../../../activities';
import type { QueryHeartbeat } from '../../../activities/runEngineQuery';
import { PARTITION_KEYS, partitionValues, parseHour } from '../../../core/hours';
import { parseS3Uri } from '../../../core/locations';
import { stagingTableName } from '../../../lake/aws/glueTables';
import { ensureAthenaViews } from '../../../lake/aws/createAwsBackend';
import { useMotoServer } from '../../support/aws/motoServer';
import { makeAwsTestLake, makeRawHourS3, type AwsTestLake } from '../../support/aws/awsTestLake';

const QUIET = new DefaultLogger('ERROR');
const HOUR = '2024-03-01T07';
const VALUES = PARTITION_KEYS.map((k) => partitionValues(parseHour(HOUR))[k]);
const COUNT_COLUMNS = ['raw_lines', 'curated_rows', 'rejected', 'duplicates', 'unknown_fields'];

describe('aws backend on moto: the real activities, hour by hour', function () {
  this.timeout(60_000);
  // Each state lasts two GetQueryExecution calls: the poller sees QUEUED, RUNNING, RUNNING, SUCCEEDED.
  const moto = useMotoServer({ athenaManualProgression: 2 });
  let lake: AwsTestLake;

  beforeEach(async () => {
    lake = await makeAwsTestLake(moto());
  });
  afterEach(async () => {
    await lake?.close();
  });

  function activities(l: AwsTestLake = lake) {
    return createActivities({ backend: l.backend, layout: l.config.lake, tables: l.config.tables, poll: l.config.engine.poll });
  }

  /** A mock activity context; `env.run` keeps the activity's result type (MockActivityEnvironment's own loses it). */
  function environment() {
    const mock = new MockActivityEnvironment(undefined, { logger: QUIET });
    const heartbeats: QueryHeartbeat[] = [];
    mock.on('heartbeat', (d: QueryHeartbeat) => heartbeats.push(d));
    const env = {
      run: <A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A): Promise<R> => mock.run(fn, ...args) as Promise<R>,
      on: (event: 'heartbeat', listener: (d: QueryHeartbeat) => void) => mock.on(event, listener),
      cancel: () => mock.cancel(),
    };
    return { env, heartbeats };
  }

  /** What Athena's CTAS does on success: Parquet objects in external_location and the staging table in Glue. */
  async function simulateCtas(stagingLocation: string, files = ['20240301_070000_00001_abcde_0.parquet']): Promise<void> {
    const { bucket, key } = parseS3Uri(stagingLocation);
    for (const f of files) await lake.backend.store.put(bucket, `${key}${f}`, 'PAR1 simulated PAR1');
    await lake.backend.clients.glue.send(
      new CreateTableCommand({
        DatabaseName: lake.config.tables.database,
        TableInput: { Name: stagingTableName(lake.config.tables.curated, stagingLocation), TableType: 'EXTERNAL_TABLE', StorageDescriptor: { Location: stagingLocation } },
      }),
    );
  }

  async function tableExists(name: string): Promise<boolean> {
    try {
      await lake.backend.clients.glue.send(new GetTableCommand({ DatabaseName: lake.config.tables.database, Name: name }));
      return true;
    } catch {
      return false;
    }
  }

  it('verify, register, curate, validate, publish: Glue partitions, the location swap, deleted superseded objects, status calls', async () => {
    const act = activities();
    const { env, heartbeats } = environment();
    const { database, raw, curated } = lake.config.tables;
    const bucket = lake.config.lake.bucket;
    const hour = await makeRawHourS3(lake, { hour: HOUR, rows: 20, malformed: 3, duplicates: 2, files: 2 });

    // verify: ListObjectsV2 on the raw hour
    const manifest = await env.run(act.verifyRawPartition, { hour: HOUR });
    assert.equal(manifest.prefix, `s3://${bucket}/raw/clickstream/year=2024/month=03/day=01/hour=07/`);
    assert.deepEqual(manifest.files, ['part-0000.jsonl', 'part-0001.jsonl']);
    assert.match(manifest.fingerprint, /^[0-9a-f]{64}$/);

    // register: Glue CreatePartition on the raw table; a second call is a no-op
    assert.equal(await env.run(act.registerRawPartition, { hour: HOUR }), 'created');
    assert.equal(await env.run(act.registerRawPartition, { hour: HOUR }), 'unchanged');
    assert.equal((await lake.backend.catalog.getPartition(database, raw, VALUES))?.location, manifest.prefix);

    // An earlier run already published this hour: its folder is what readers see until the swap.
    const oldLocation = `s3://${bucket}/curated/clickstream/year=2024/month=03/day=01/hour=07/run=old-run/`;
    await lake.backend.store.put(bucket, `${parseS3Uri(oldLocation).key}old.parquet`, 'PAR1 old PAR1');
    await lake.backend.catalog.upsertPartition(database, curated, { values: VALUES, location: oldLocation, parameters: {} });

    // curate: StartQueryExecution (CTAS) polled through QUEUED, RUNNING, RUNNING, SUCCEEDED
    const staging = await env.run(act.curateToStaging, { hour: HOUR, rawPrefix: manifest.prefix, files: manifest.files, runId: 'run-1' });
    assert.equal(staging.stagingLocation, `s3://${bucket}/curated/clickstream/year=2024/month=03/day=01/hour=07/run=run-1/`);
    assert.equal(staging.statusCalls, 4);
    assert.deepEqual(
      heartbeats.map((h) => h.polls),
      [0, 1, 2, 3, 4],
    );
    assert.ok(heartbeats.every((h) => h.queryId === staging.queryId && h.epoch === 0), 'every heartbeat carries the QueryExecutionId');
    const ctas = (await lake.backend.clients.athena.send(new GetQueryExecutionCommand({ QueryExecutionId: staging.queryId }))).QueryExecution!;
    assert.match(ctas.Query!, new RegExp(`^CREATE TABLE ${database}\\.${stagingTableName(curated, staging.stagingLocation)}\\b`, 'm'));
    assert.ok(ctas.Query!.includes(`external_location = '${staging.stagingLocation}'`));
    assert.ok(ctas.Query!.includes(`FROM ${database}.${raw}_classified`), 'curation selects from the classified-lines view');
    assert.equal(ctas.WorkGroup, lake.settings.athena.workGroup);
    assert.deepEqual(ctas.ExecutionParameters, [
      "'2024'",
      "'03'",
      "'01'",
      "'07'",
      `'${JSON.stringify(manifest.files.map((f) => `${manifest.prefix}${f}`))}'`,
    ]);
    await simulateCtas(staging.stagingLocation);

    // validate: one more polled query; the counts come back as Athena's strings
    heartbeats.length = 0;
    const e = hour.expected;
    // As Athena returns them: counts as strings, unknown_fields as a JSON-typed column.
    await moto().queueAthenaResult(
      COUNT_COLUMNS,
      [{ raw_lines: String(e.rawLines), curated_rows: String(e.curatedRows), rejected: String(e.rejected), duplicates: String(e.duplicates), unknown_fields: '["campaign","device"]' }],
      { raw_lines: 'bigint', curated_rows: 'bigint', rejected: 'bigint', duplicates: 'bigint', unknown_fields: 'json' },
    );
    const validated = await env.run(act.validateStaging, {
      hour: HOUR,
      rawPrefix: manifest.prefix,
      files: manifest.files,
      stagingLocation: staging.stagingLocation,
      runId: 'run-1',
    });
    assert.deepEqual(validated.counts, e);
    assert.deepEqual(validated.unknownFields, ['campaign', 'device']);
    assert.equal(e.rawLines, e.curatedRows + e.rejected + e.duplicates);
    assert.equal(validated.statusCalls, 4);
    assert.notEqual(validated.queryId, staging.queryId);

    // publish: UpdatePartition swaps the location, the staging table is dropped, the old folder deleted
    const published = await env.run(act.publishPartition, { hour: HOUR, stagingLocation: staging.stagingLocation, lineage: { validated: 'true' } });
    assert.deepEqual(published, { outcome: 'updated', previousLocation: oldLocation, deletedObjects: 1 });
    const swapped = await lake.backend.catalog.getPartition(database, curated, VALUES);
    assert.equal(swapped?.location, staging.stagingLocation);
    assert.deepEqual(swapped?.parameters, { validated: 'true', replaced_location: oldLocation });
    assert.equal(await tableExists(stagingTableName(curated, staging.stagingLocation)), false, 'staging table metadata dropped');
    assert.deepEqual(
      (await lake.backend.store.list(bucket, 'curated/')).map((o) => o.key),
      [`${parseS3Uri(staging.stagingLocation).key}20240301_070000_00001_abcde_0.parquet`],
    );

    // Publishing again converges: nothing to swap, nothing to delete; it still reports what the swap replaced.
    assert.deepEqual(await env.run(act.publishPartition, { hour: HOUR, stagingLocation: staging.stagingLocation, lineage: { validated: 'true' } }), {
      outcome: 'unchanged',
      previousLocation: oldLocation,
      deletedObjects: 0,
    });
    assert.deepEqual(await lake.backend.catalog.getPartition(database, curated, VALUES), swapped, 'the retry wrote nothing: lineage kept');
    assert.equal(lake.backend.engine.startCalls, 2, 'one StartQueryExecution per query step');
  });

  it('the first publish of an hour creates the curated partition', async () => {
    const act = activities();
    const { env } = environment();
    const staging = `s3://${lake.config.lake.bucket}/curated/clickstream/year=2024/month=03/day=01/hour=07/run=first/`;
    await simulateCtas(staging);
    const published = await env.run(act.publishPartition, { hour: HOUR, stagingLocation: staging, lineage: { validated: 'true' } });
    assert.deepEqual(published, { outcome: 'created', previousLocation: null, deletedObjects: 0 });
    assert.equal((await lake.backend.catalog.getPartition(lake.config.tables.database, lake.config.tables.curated, VALUES))?.location, staging);
  });

  it('a failed attempt\'s leftovers in the staging folder are cleared before the next CTAS; a succeeded CTAS\'s output is kept', async () => {
    const leftovers: string[][] = [];
    await lake.close();
    lake = await makeAwsTestLake(moto(), { createBucket: false, createWorkGroup: false, createTables: false, onLeftovers: (_l, keys) => leftovers.push(keys) });
    const act = activities();
    const { env } = environment();
    const bucket = lake.config.lake.bucket;
    await makeRawHourS3(lake, { hour: HOUR, rows: 5 });
    const manifest = await env.run(act.verifyRawPartition, { hour: HOUR });
    const stagingKey = 'curated/clickstream/year=2024/month=03/day=01/hour=07/run=run-2/';
    await lake.backend.store.put(bucket, `${stagingKey}partial-from-failed-attempt.parquet`, 'PAR1 partial');

    const staging = await env.run(act.curateToStaging, { hour: HOUR, rawPrefix: manifest.prefix, files: manifest.files, runId: 'run-2' });
    assert.deepEqual(leftovers, [[`${stagingKey}partial-from-failed-attempt.parquet`]]);
    assert.deepEqual(await lake.backend.store.list(bucket, stagingKey), [], 'the CTAS starts on an empty folder');

    // The CTAS succeeded: its output and table exist. Starting the same statement again (a retried start) must not touch them.
    await simulateCtas(staging.stagingLocation);
    const again = await env.run(act.curateToStaging, { hour: HOUR, rawPrefix: manifest.prefix, files: manifest.files, runId: 'run-2' });
    assert.equal(again.stagingLocation, staging.stagingLocation);
    assert.equal(leftovers.length, 1);
    assert.equal((await lake.backend.store.list(bucket, stagingKey)).length, 1);
  });

  it('cancelling the activity stops the Athena query (StopQueryExecution) and rethrows the cancellation', async () => {
    await moto().setAthenaManualProgression(1_000); // stays QUEUED
    const act = activities();
    const { env, heartbeats } = environment();
    await makeRawHourS3(lake, { hour: HOUR, rows: 5 });
    const manifest = await env.run(act.verifyRawPartition, { hour: HOUR });
    env.on('heartbeat', (d: QueryHeartbeat) => {
      if (d.polls === 3) env.cancel();
    });
    await assert.rejects(
      env.run(act.curateToStaging, { hour: HOUR, rawPrefix: manifest.prefix, files: manifest.files, runId: 'run-3' }),
      (err: unknown) => err instanceof CancelledFailure,
    );
    const queryId = heartbeats[0]!.queryId;
    const q = await lake.backend.clients.athena.send(new GetQueryExecutionCommand({ QueryExecutionId: queryId }));
    assert.equal(q.QueryExecution?.Status?.State, 'CANCELLED');
    assert.equal(lake.backend.engine.statusCalls, 3);
  });

  it('config pointing at a missing bucket or workgroup fails non-retryably with the setting to fix', async () => {
    await lake.close();
    lake = await makeAwsTestLake(moto(), { createBucket: false, createWorkGroup: false, createTables: false, overrides: { CLICKSTREAM_BUCKET: 'no-such-bucket' } });
    const { env } = environment();
    await assert.rejects(env.run(activities().verifyRawPartition, { hour: HOUR }), (err: unknown) => {
      assert.ok(err instanceof ApplicationFailure, String(err));
      assert.equal(err.type, 'EntityNotFound');
      assert.equal(err.nonRetryable, true);
      assert.match(err.message, /s3:\/\/no-such-bucket\/raw\/clickstream\/.*not found.*CLICKSTREAM_BUCKET/);
      return true;
    });

    await lake.close();
    // The bucket exists (made by beforeEach); only the workgroup is wrong.
    lake = await makeAwsTestLake(moto(), { createBucket: false, createWorkGroup: false, createTables: false, aws: { CLICKSTREAM_AWS_ATHENA_WORKGROUP: 'no-such-workgroup' } });
    await assert.rejects(
      env.run(activities().curateToStaging, { hour: HOUR, rawPrefix: `s3://${lake.config.lake.bucket}/raw/`, files: ['x.jsonl'], runId: 'run-4' }),
      (err: unknown) => {
        assert.ok(err instanceof ApplicationFailure, String(err));
        assert.equal(err.type, 'EntityNotFound');
        assert.equal(err.nonRetryable, true);
        assert.match(err.message, /Athena workgroup no-such-workgroup does not exist.*CLICKSTREAM_AWS_ATHENA_WORKGROUP/);
        return true;
      },
    );
    assert.equal(lake.backend.engine.startCalls, 1);
  });

  it('bootstrap creates the classified-lines view, then the rejected-lines view over it, each one polled Athena statement', async () => {
    const created = await ensureAthenaViews(lake.backend, lake.config.tables, lake.config.engine.poll);
    assert.deepEqual(
      created.map((c) => [c.view, c.statusCalls]),
      [
        ['clickstream_events_classified', 4],
        ['clickstream_events_rejected', 4],
      ],
    );
    const queries: QueryExecution[] = [];
    for (const c of created) queries.push((await lake.backend.clients.athena.send(new GetQueryExecutionCommand({ QueryExecutionId: c.queryId }))).QueryExecution!);
    assert.match(queries[0]!.Query!, /^CREATE OR REPLACE VIEW clickstream\.clickstream_events_classified AS/m);
    assert.match(queries[1]!.Query!, /^CREATE OR REPLACE VIEW clickstream\.clickstream_events_rejected AS/m);
    assert.ok(queries[1]!.Query!.includes('FROM clickstream.clickstream_events_classified'));
    for (const q of queries) {
      assert.equal(q.Status?.State, 'SUCCEEDED');
      assert.equal(q.QueryExecutionContext?.Database, 'clickstream');
    }
    assert.equal(lake.backend.engine.startCalls, 2, 'one StartQueryExecution per view');
  });
});
