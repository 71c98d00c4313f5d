/**
 * The pipeline's real activities (createActivities) on the `aws` backend, with the Athena SQL
 * executed for real. What is real here:
 * - S3 and Glue: the Trino stack's moto (test/support/trino/trinoStack.ts), one bucket, Glue
 *   database and workgroup per test, since that moto is never reset.
 * - SQL: the real Trino 476. The statements the Athena adapter (lake/aws/athenaEngine.ts) sends
 *   with StartQueryExecution run there, so the staging folder's Parquet files and the staging
 *   table are Trino's CTAS output, the validation counts are what the SQL counted in the raw
 *   fixture, the views are Trino views in Glue, and a failure carries Trino's own error.
 * - Athena API: a test double, the Athena stand-in (test/support/aws/athenaStandIn.ts), which
 *   runs each query on Trino and answers Start/Get/Stop/ListQueryExecutions and GetQueryResults in
 *   Athena's shapes. States are therefore timing-dependent: the tests assert a valid progression,
 *   not a count of polls. Athena shapes no engine produces on demand (a FAILED query of a given
 *   category, throttling, unknown states) are in test/unit/aws/athenaEngine.mock.test.ts.
 */
import assert from 'node:assert/strict';
import { GetQueryExecutionCommand, type QueryExecution } from '@aws-sdk/client-athena';
import { GetTableCommand } from '@aws-sdk/client-glue';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createActivities } from '../../../activities';
import type { QueryHeartbeat } from '../../../activities/runEngineQuery';
import { PARTITION_KEYS, partitionValues, parseHour } from '../../../core/hours';
import { parseS3Uri } from '../../../core/locations';
import { createAthenaStatements } from '../../../lake/aws/athenaStatements';
import { classifiedLinesViewName, rejectedLinesViewName, stagingTableName } from '../../../lake/aws/glueTables';
import { ensureAthenaViews } from '../../../lake/aws/createAwsBackend';
import { runToEnd } from '../../../lake/trino/trinoProtocol';
import { makeAwsTestLakeOnTrino, makeRawHourS3, type AwsTestLakeOnTrino } from '../../support/aws/awsTestLake';

const QUIET = new DefaultLogger('ERROR');
const HOUR = '2024-03-01T07';
const VALUES = PARTITION_KEYS.map((k) => partitionValues(parseHour(HOUR))[k]);
const HOUR_FOLDER = 'curated/clickstream/year=2024/month=03/day=01/hour=07/';
/** What a poller may see of one query on Athena: queued, then running, then done. */
const PROGRESSION = /^(QUEUED,)*(RUNNING,)*SUCCEEDED$/;

describe('aws backend: the real activities hour by hour, the Athena SQL executed on a real Trino (S3 + Glue = moto, Athena API = stand-in)', function () {
  this.timeout(240_000);
  const lakes: AwsTestLakeOnTrino[] = [];

  async function newLake(opts: Parameters<typeof makeAwsTestLakeOnTrino>[0] = {}): Promise<AwsTestLakeOnTrino> {
    const l = await makeAwsTestLakeOnTrino(opts);
    lakes.push(l);
    return l;
  }
  afterEach(async () => {
    for (const l of lakes.splice(0)) await l.close();
  });

  function activities(l: AwsTestLakeOnTrino) {
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

  async function tableExists(l: AwsTestLakeOnTrino, name: string): Promise<boolean> {
    try {
      await l.backend.clients.glue.send(new GetTableCommand({ DatabaseName: l.config.tables.database, Name: name }));
      return true;
    } catch {
      return false;
    }
  }

  /** A reader's query, straight on Trino (not through the pipeline), in the lake's database. */
  async function trinoRows(l: AwsTestLakeOnTrino, sql: string): Promise<unknown[][]> {
    return (await runToEnd({ server: l.stack.trino.url, user: 'test-reader', catalog: l.stack.trino.catalog, schema: l.config.tables.database }, sql)).rows;
  }

  /** Every object under the folder, each checked to be a Parquet file (PAR1 at both ends). */
  async function parquetKeys(l: AwsTestLakeOnTrino, location: string): Promise<string[]> {
    const { bucket, key } = parseS3Uri(location);
    const keys = (await l.backend.store.list(bucket, key)).map((o) => o.key);
    for (const k of keys) {
      const bytes = await (await l.backend.clients.s3.send(new GetObjectCommand({ Bucket: bucket, Key: k }))).Body!.transformToByteArray();
      const text = Buffer.from(bytes);
      assert.equal(text.subarray(0, 4).toString('latin1'), 'PAR1', `${k} starts as Parquet`);
      assert.equal(text.subarray(-4).toString('latin1'), 'PAR1', `${k} ends as Parquet`);
    }
    return keys;
  }

  it('verify, register, curate, validate, publish: Trino writes the staging Parquet and counts the fixture; the Glue partition swaps; superseded objects deleted', async () => {
    const lake = await newLake();
    const act = activities(lake);
    const { env, heartbeats } = environment();
    const { database, raw, curated } = lake.config.tables;
    const bucket = lake.config.lake.bucket;
    const hour = await makeRawHourS3(lake, { hour: HOUR, rows: 20, malformed: 3, duplicates: 2, files: 2, unknownFields: { campaign: 'spring', device: 'mobile' } });

    // verify: ListObjectsV2 on the raw hour
    const manifest = await env.run(act.verifyRawPartition, { hour: HOUR });
    assert.equal(manifest.prefix, `s3://${bucket}/raw/clickstream/year=2024/month=03/day=01/hour=07/`);
    assert.deepEqual(manifest.files, ['part-0000.jsonl', 'part-0001.jsonl']);
    assert.match(manifest.fingerprint, /^[0-9a-f]{64}$/);

    // register: Glue CreatePartition on the raw table; a second call is a no-op
    assert.equal(await env.run(act.registerRawPartition, { hour: HOUR }), 'created');
    assert.equal(await env.run(act.registerRawPartition, { hour: HOUR }), 'unchanged');
    assert.equal((await lake.backend.catalog.getPartition(database, raw, VALUES))?.location, manifest.prefix);

    // An earlier run, curated by Trino and published: the first publish of an hour creates the curated partition.
    const earlier = await env.run(act.curateToStaging, { hour: HOUR, rawPrefix: manifest.prefix, files: manifest.files, runId: 'run-0' });
    const earlierKeys = await parquetKeys(lake, earlier.stagingLocation);
    assert.ok(earlierKeys.length > 0, 'the earlier run wrote Parquet');
    assert.deepEqual(await env.run(act.publishPartition, { hour: HOUR, stagingLocation: earlier.stagingLocation, lineage: { validated: 'true' } }), {
      outcome: 'created',
      previousLocation: null,
      deletedObjects: 0,
    });
    assert.equal((await lake.backend.catalog.getPartition(database, curated, VALUES))?.location, earlier.stagingLocation);

    // curate: StartQueryExecution (CTAS), polled until Trino's query ended
    heartbeats.length = 0;
    const staging = await env.run(act.curateToStaging, { hour: HOUR, rawPrefix: manifest.prefix, files: manifest.files, runId: 'run-1' });
    assert.equal(staging.stagingLocation, `s3://${bucket}/${HOUR_FOLDER}run=run-1/`);
    assert.deepEqual(
      heartbeats.map((h) => h.polls),
      Array.from({ length: staging.statusCalls + 1 }, (_, i) => i),
    );
    assert.ok(heartbeats.every((h) => h.queryId === staging.queryId && h.epoch === 0), 'every heartbeat carries the QueryExecutionId');
    const seenCtas = lake.standIn.queries.get(staging.queryId)!;
    assert.match(seenCtas.states.join(','), PROGRESSION);
    assert.equal(seenCtas.states.length, staging.statusCalls);
    // The request as Athena received it.
    const ctas = (await lake.backend.clients.athena.send(new GetQueryExecutionCommand({ QueryExecutionId: staging.queryId }))).QueryExecution!;
    assert.match(ctas.Query!, new RegExp(`^CREATE TABLE ${database}\\.${stagingTableName(curated, staging.stagingLocation)}\\b`, 'm'));
    assert.ok(ctas.Query!.includes(`external_location = '${staging.stagingLocation}'`));
    assert.ok(ctas.Query!.includes("write_compression = 'SNAPPY'"), "Athena's text asks for Snappy as a table property");
    assert.ok(ctas.Query!.includes(`FROM ${database}.${raw}_classified`), 'curation selects from the classified-lines view');
    assert.equal(ctas.WorkGroup, lake.settings.athena.workGroup);
    assert.equal(ctas.QueryExecutionContext?.Database, database);
    const rawFiles = manifest.files.map((f) => `${manifest.prefix}${f}`);
    assert.deepEqual(ctas.ExecutionParameters, ["'2024'", "'03'", "'01'", "'07'", `'${JSON.stringify(rawFiles)}'`]);
    // What Trino ran: exactly the trino backend's statement (the one ENGINE_DIALECTS rule applied), the literals bound by USING.
    const trinoCurate = createAthenaStatements(lake.config.tables, { dialect: 'trino', catalog: lake.stack.trino.catalog }).curateHour({
      rawFiles,
      stagingLocation: staging.stagingLocation,
      idempotencyToken: 'x'.repeat(64),
      partition: partitionValues(parseHour(HOUR)),
    });
    assert.equal(seenCtas.trino.statement, trinoCurate.sql);
    assert.deepEqual(seenCtas.trino.sessionProperties, trinoCurate.sessionProperties);
    assert.ok(seenCtas.trino.sql.startsWith('EXECUTE IMMEDIATE '), seenCtas.trino.sql.slice(0, 40));
    // Its output: Parquet files under the staging folder, and the staging table over them in Glue.
    const stagingKeys = await parquetKeys(lake, staging.stagingLocation);
    assert.ok(stagingKeys.length > 0, 'Trino wrote Parquet into the staging folder');
    assert.ok(stagingKeys.every((k) => k.startsWith(`${HOUR_FOLDER}run=run-1/`)));
    assert.equal(await tableExists(lake, stagingTableName(curated, staging.stagingLocation)), true, "the CTAS's staging table is in Glue");

    // validate: one more query; the counts are what Trino's scan of the fixture found
    const e = hour.expected;
    const validated = await env.run(act.validateStaging, {
      hour: HOUR,
      rawPrefix: manifest.prefix,
      files: manifest.files,
      stagingLocation: staging.stagingLocation,
      runId: 'run-1',
    });
    assert.deepEqual(validated.counts, e);
    assert.deepEqual(validated.unknownFields, ['campaign', 'device']);
    assert.deepEqual(hour.unknownFields, ['campaign', 'device']);
    assert.equal(e.rawLines, e.curatedRows + e.rejected + e.duplicates);
    assert.match(lake.standIn.queries.get(validated.queryId)!.states.join(','), PROGRESSION);
    assert.equal(lake.standIn.queries.get(validated.queryId)!.kind, 'validation');
    assert.notEqual(validated.queryId, staging.queryId);

    // publish: UpdatePartition swaps the location, the staging table is dropped, the earlier run's folder deleted
    const published = await env.run(act.publishPartition, { hour: HOUR, stagingLocation: staging.stagingLocation, lineage: { validated: 'true' } });
    assert.deepEqual(published, { outcome: 'updated', previousLocation: earlier.stagingLocation, deletedObjects: earlierKeys.length });
    const swapped = await lake.backend.catalog.getPartition(database, curated, VALUES);
    assert.equal(swapped?.location, staging.stagingLocation);
    assert.deepEqual(swapped?.parameters, { validated: 'true', replaced_location: earlier.stagingLocation });
    assert.equal(await tableExists(lake, stagingTableName(curated, staging.stagingLocation)), false, 'staging table metadata dropped');
    assert.deepEqual((await lake.backend.store.list(bucket, 'curated/')).map((o) => o.key), stagingKeys);

    // A reader on Trino sees the published hour: each curated event once.
    const where = `year = '2024' AND month = '03' AND day = '01' AND hour = '07'`;
    assert.deepEqual(await trinoRows(lake, `SELECT count(*), count(DISTINCT event_id) FROM ${curated} WHERE ${where}`), [[e.curatedRows, e.curatedRows]]);

    // Publishing again converges: nothing to swap, nothing to delete; it still reports what the swap replaced.
    assert.deepEqual(await env.run(act.publishPartition, { hour: HOUR, stagingLocation: staging.stagingLocation, lineage: { validated: 'true' } }), {
      outcome: 'unchanged',
      previousLocation: earlier.stagingLocation,
      deletedObjects: 0,
    });
    assert.deepEqual(await lake.backend.catalog.getPartition(database, curated, VALUES), swapped, 'the retry wrote nothing: lineage kept');
    assert.equal(lake.backend.engine.counts.starts, 2 + 3, 'bootstrap views, then one StartQueryExecution per query step');
  });

  it("a failed attempt's leftovers are cleared before the CTAS (Trino refuses a non-empty external_location); a retried start reattaches by token and keeps the output", async () => {
    const leftovers: string[][] = [];
    const lake = await newLake({ onLeftovers: (_l, keys) => leftovers.push(keys) });
    const act = activities(lake);
    const { env } = environment();
    const bucket = lake.config.lake.bucket;
    await makeRawHourS3(lake, { hour: HOUR, rows: 5 });
    const manifest = await env.run(act.verifyRawPartition, { hour: HOUR });
    const stagingKey = `${HOUR_FOLDER}run=run-2/`;
    await lake.backend.store.put(bucket, `${stagingKey}partial-from-failed-attempt.parquet`, 'PAR1 partial');

    const staging = await env.run(act.curateToStaging, { hour: HOUR, rawPrefix: manifest.prefix, files: manifest.files, runId: 'run-2' });
    assert.deepEqual(leftovers, [[`${stagingKey}partial-from-failed-attempt.parquet`]]);
    // The CTAS succeeded on Trino, which fails HIVE_PATH_ALREADY_EXISTS on a non-empty folder: the leftover was gone before it started.
    const written = await parquetKeys(lake, staging.stagingLocation);
    assert.ok(written.length > 0);
    assert.ok(!written.includes(`${stagingKey}partial-from-failed-attempt.parquet`));

    // Starting the same statement again (a retried start, same token) returns the same query: Trino runs the CTAS once, its output stays.
    const again = await env.run(act.curateToStaging, { hour: HOUR, rawPrefix: manifest.prefix, files: manifest.files, runId: 'run-2' });
    assert.equal(again.queryId, staging.queryId, 'ClientRequestToken -> the same QueryExecutionId');
    assert.equal(again.stagingLocation, staging.stagingLocation);
    assert.equal(leftovers.length, 1);
    assert.deepEqual(await parquetKeys(lake, staging.stagingLocation), written);
    const ctas = lake.standIn.ofKind('ctas');
    assert.equal(ctas.length, 1, 'one query on Trino');
    assert.equal(ctas[0]!.starts, 2, 'two StartQueryExecution calls');
  });

  it('a statement Trino rejects comes back FAILED with Trino\'s error; the activity fails non-retryably with it', async () => {
    const lake = await newLake();
    const act = activities(lake);
    const { env } = environment();
    await makeRawHourS3(lake, { hour: HOUR, rows: 5 });
    const manifest = await env.run(act.verifyRawPartition, { hour: HOUR });
    // Validating a run that was never curated: its staging table does not exist.
    const stagingLocation = `s3://${lake.config.lake.bucket}/${HOUR_FOLDER}run=never-curated/`;
    await assert.rejects(env.run(act.validateStaging, { hour: HOUR, rawPrefix: manifest.prefix, files: manifest.files, stagingLocation, runId: 'never-curated' }), (err: unknown) => {
      assert.ok(err instanceof ApplicationFailure, String(err));
      assert.equal(err.type, 'QueryFailed');
      assert.equal(err.nonRetryable, true);
      assert.match(err.message, new RegExp(`TABLE_NOT_FOUND: .*${stagingTableName(lake.config.tables.curated, stagingLocation)}.* does not exist`));
      assert.match(err.message, /Athena error category USER/);
      return true;
    });
    const [validation] = lake.standIn.ofKind('validation');
    assert.equal(validation!.states.at(-1), 'FAILED');
  });

  it('cancelling the activity stops the Athena query (StopQueryExecution), which cancels the Trino query, and rethrows the cancellation', async () => {
    // The stand-in dispatches the CTAS to Trino and leaves it waiting there, so the activity is cancelled before it could end.
    const lake = await newLake({ standIn: { hold: (q) => q.kind === 'ctas' } });
    const act = activities(lake);
    const { env, heartbeats } = environment();
    await makeRawHourS3(lake, { hour: HOUR, rows: 5 });
    const manifest = await env.run(act.verifyRawPartition, { hour: HOUR });
    const bootstrapStatusCalls = lake.backend.engine.counts.statusCalls;
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
    assert.equal(lake.backend.engine.counts.statusCalls - bootstrapStatusCalls, 3);
    assert.deepEqual(lake.standIn.queries.get(queryId)!.states, ['QUEUED', 'QUEUED', 'QUEUED', 'CANCELLED']);
    // On Trino the query was really cancelled by the client.
    const trinoId = lake.standIn.queries.get(queryId)!.trino.queryId!;
    assert.deepEqual(await trinoRows(lake, `SELECT state, error_code FROM system.runtime.queries WHERE query_id = '${trinoId}'`), [['FAILED', 'USER_CANCELED']]);
  });

  it('config pointing at a missing bucket or workgroup fails non-retryably with the setting to fix', async () => {
    const missingBucket = await newLake({ createBucket: false, createWorkGroup: false, createTables: false, overrides: { CLICKSTREAM_BUCKET: 'no-such-bucket' } });
    const { env } = environment();
    await assert.rejects(env.run(activities(missingBucket).verifyRawPartition, { hour: HOUR }), (err: unknown) => {
      assert.ok(err instanceof ApplicationFailure, String(err));
      assert.equal(err.type, 'EntityNotFound');
      assert.equal(err.nonRetryable, true);
      assert.match(err.message, /s3:\/\/no-such-bucket\/raw\/clickstream\/.*not found.*CLICKSTREAM_BUCKET/);
      return true;
    });

    // The bucket exists; only the workgroup is wrong (the stand-in asks moto, which holds the workgroups).
    const missingWorkGroup = await newLake({ createWorkGroup: false, createTables: false, aws: { CLICKSTREAM_AWS_ATHENA_WORKGROUP: 'no-such-workgroup' } });
    await assert.rejects(
      env.run(activities(missingWorkGroup).curateToStaging, { hour: HOUR, rawPrefix: `s3://${missingWorkGroup.config.lake.bucket}/raw/`, files: ['x.jsonl'], runId: 'run-4' }),
      (err: unknown) => {
        assert.ok(err instanceof ApplicationFailure, String(err));
        assert.equal(err.type, 'EntityNotFound');
        assert.equal(err.nonRetryable, true);
        assert.match(err.message, /Athena workgroup no-such-workgroup does not exist.*CLICKSTREAM_AWS_ATHENA_WORKGROUP/);
        return true;
      },
    );
    assert.equal(missingWorkGroup.backend.engine.counts.starts, 1);
    assert.equal(missingWorkGroup.standIn.queries.size, 0, 'nothing reached Trino');
  });

  it('bootstrap creates the classified-lines view, then the rejected-lines view over it, each one Athena statement executed on Trino', async () => {
    const lake = await newLake({ bootstrap: false });
    const { database, raw } = lake.config.tables;
    const created = await ensureAthenaViews(lake.backend, lake.config.tables, lake.config.engine.poll);
    assert.deepEqual(
      created.map((c) => c.view),
      [classifiedLinesViewName(raw), rejectedLinesViewName(raw)],
    );
    const queries: QueryExecution[] = [];
    for (const c of created) queries.push((await lake.backend.clients.athena.send(new GetQueryExecutionCommand({ QueryExecutionId: c.queryId }))).QueryExecution!);
    assert.match(queries[0]!.Query!, new RegExp(`^CREATE OR REPLACE VIEW ${database}\\.${classifiedLinesViewName(raw)} AS`, 'm'));
    assert.match(queries[1]!.Query!, new RegExp(`^CREATE OR REPLACE VIEW ${database}\\.${rejectedLinesViewName(raw)} AS`, 'm'));
    assert.ok(queries[1]!.Query!.includes(`FROM ${database}.${classifiedLinesViewName(raw)}`));
    for (const q of queries) {
      assert.equal(q.Status?.State, 'SUCCEEDED');
      assert.equal(q.QueryExecutionContext?.Database, database);
    }
    assert.equal(lake.backend.engine.counts.starts, 2, 'one StartQueryExecution per view');
    // Trino created them: both are views in Glue, and the rejected-lines view answers a query.
    for (const view of created.map((c) => c.view)) {
      const table = (await lake.backend.clients.glue.send(new GetTableCommand({ DatabaseName: database, Name: view }))).Table!;
      assert.equal(table.TableType, 'VIRTUAL_VIEW', view);
    }
    assert.deepEqual(await trinoRows(lake, `SELECT count(*) FROM ${rejectedLinesViewName(raw)} WHERE year = '2024' AND month = '03' AND day = '01' AND hour = '07'`), [[0]]);
  });
});
