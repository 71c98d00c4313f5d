/**
 * An `aws` backend on moto, configured the way production is (loadConfig + parseAwsSettings),
 * with the bucket, workgroup and tables created, and the raw-hour fixture writer shared by
 * every AWS test so cases never drift apart.
 *
 * Two ways to get one:
 * - makeAwsTestLake(moto): on a moto of the caller's (useMotoServer, reset between tests), with
 *   fixed names; Athena is moto's, which runs no SQL (S3 and Glue tests, the doctor, bench B6).
 * - makeAwsTestLakeOnTrino(): on the test run's Trino stack, whose moto is never reset, so every
 *   lake gets its own bucket, Glue database and workgroup; the Athena client goes through an
 *   Athena stand-in (athenaStandIn.ts) that executes the SQL on the real Trino.
 */
import { randomBytes } from 'node:crypto';
import { CreateWorkGroupCommand } from '@aws-sdk/client-athena';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { loadConfig, type ConfigEnvName, type PipelineConfig } from '../../../config/config';
import { parseHour, type Hour } from '../../../core/hours';
import { ensureTables } from '../../../lake/createBackend';
import { createAwsClients } from '../../../lake/aws/awsClients';
import { parseAwsSettings, type AwsEnvName, type AwsSettings } from '../../../config/awsSettings';
import { createAwsBackend, ensureAthenaViews, type AwsLakeBackend } from '../../../lake/aws/createAwsBackend';
import { generateHour, type GeneratedHour } from '../../../generator/clickstreamGenerator';
import { writeRawHour } from '../../../generator/writeRawHour';
import type { ObjectStore } from '../../../lake/ports';
import { testTrinoStack, type TrinoStack } from '../trino/trinoStack';
import type { AthenaQueryEngine } from '../../../lake/aws/athenaEngine';
import { countingEngine, type CountedEngine } from '../countingEngine';
import { AthenaStandIn, type AthenaStandInOptions } from './athenaStandIn';
import { MOTO_CREDENTIALS, MOTO_REGION, type MotoServer } from './motoServer';

export const TEST_WORKGROUP = 'clickstream-test';

export interface AwsTestLake {
  config: PipelineConfig;
  settings: AwsSettings;
  /** Its engine counts the Athena calls it makes (test/support/countingEngine.ts). */
  backend: AwsLakeBackend & { engine: CountedEngine<AthenaQueryEngine> };
  close(): Promise<void>;
}

export function awsSettingsFor(moto: MotoServer, env: Partial<Record<AwsEnvName, string>> = {}): AwsSettings {
  const parsed = parseAwsSettings({
    CLICKSTREAM_AWS_ENDPOINT_URL: moto.url,
    CLICKSTREAM_AWS_REGION: MOTO_REGION,
    CLICKSTREAM_AWS_ATHENA_WORKGROUP: TEST_WORKGROUP,
    CLICKSTREAM_AWS_ATHENA_OUTPUT_LOCATION: 's3://clickstream-test-lake/athena-results/',
    // One attempt: the classifier's verdict is what the tests assert, not the SDK's retries.
    CLICKSTREAM_AWS_MAX_ATTEMPTS: '1',
    ...env,
  });
  if (!parsed.ok) throw new Error(`test AWS settings invalid: ${parsed.problems.join('; ')}`);
  return parsed.settings;
}

/** A backend on moto with bucket, workgroup, database and tables in place (unless told otherwise). */
export interface AwsTestLakeOptions {
  overrides?: Partial<Record<ConfigEnvName, string>>;
  aws?: Partial<Record<AwsEnvName, string>>;
  createBucket?: boolean;
  createWorkGroup?: boolean;
  createTables?: boolean;
  pageSize?: number;
  onLeftovers?: (location: string, keys: string[]) => void;
}

export async function makeAwsTestLake(moto: MotoServer, opts: AwsTestLakeOptions = {}): Promise<AwsTestLake> {
  const config = loadConfig(
    {},
    {
      CLICKSTREAM_BACKEND: 'aws',
      CLICKSTREAM_BUCKET: 'clickstream-test-lake',
      CLICKSTREAM_QUERY_POLL_INITIAL_MS: '10',
      CLICKSTREAM_QUERY_POLL_MAX_MS: '40',
      ...opts.overrides,
    },
  );
  const settings = awsSettingsFor(moto, opts.aws);
  const clients = createAwsClients(settings, { credentials: MOTO_CREDENTIALS });
  if (opts.createBucket ?? true) await clients.s3.send(new CreateBucketCommand({ Bucket: config.lake.bucket }));
  if (opts.createWorkGroup ?? true) {
    await clients.athena.send(
      new CreateWorkGroupCommand({ Name: settings.athena.workGroup, Configuration: { ResultConfiguration: { OutputLocation: settings.athena.outputLocation } } }),
    );
  }
  const built = await createAwsBackend(config, { aws: settings, clients, pageSize: opts.pageSize, onLeftovers: opts.onLeftovers });
  const backend = { ...built, engine: countingEngine(built.engine) };
  if (opts.createTables ?? true) await ensureTables(backend, config);
  return {
    config,
    settings,
    backend,
    close: async () => {
      await backend.close();
      clients.s3.destroy();
      clients.glue.destroy();
      clients.athena.destroy();
      clients.sts.destroy();
    },
  };
}

export interface AwsTestLakeOnTrino extends AwsTestLake {
  /** The Athena API the backend talks to; its queries ran on `stack.trino`. */
  standIn: AthenaStandIn;
  stack: TrinoStack;
  names: { bucket: string; database: string; workGroup: string };
}

/**
 * An aws backend whose S3 and Glue are the Trino stack's moto and whose Athena is a stand-in
 * running the SQL on the stack's Trino: its own bucket, Glue database and workgroup (that moto is
 * never reset), tables in place and, unless `bootstrap: false`, the two views created through
 * Athena as a worker's bootstrap does (so they are Trino views in Glue).
 */
export async function makeAwsTestLakeOnTrino(
  opts: Omit<AwsTestLakeOptions, 'pageSize'> & { bootstrap?: boolean; standIn?: Pick<AthenaStandInOptions, 'hold'> } = {},
): Promise<AwsTestLakeOnTrino> {
  const stack = await testTrinoStack();
  const suffix = randomBytes(4).toString('hex');
  const names = { bucket: `aws-lake-${suffix}`, database: `clickstream_aws_${suffix}`, workGroup: `clickstream-test-${suffix}` };
  const standIn = await AthenaStandIn.start({ moto: stack.moto, trino: { url: stack.trino.url, catalog: stack.trino.catalog }, ...opts.standIn });
  try {
    const lake = await makeAwsTestLake(stack.moto, {
      overrides: {
        CLICKSTREAM_BUCKET: names.bucket,
        CLICKSTREAM_DATABASE: names.database,
        // Real queries take seconds on a shared 2-core machine, not moto's instant answers.
        CLICKSTREAM_QUERY_POLL_INITIAL_MS: '20',
        CLICKSTREAM_QUERY_POLL_MAX_MS: '250',
        ...opts.overrides,
      },
      aws: {
        CLICKSTREAM_AWS_ATHENA_WORKGROUP: names.workGroup,
        CLICKSTREAM_AWS_ATHENA_OUTPUT_LOCATION: `s3://${names.bucket}/athena-results/`,
        CLICKSTREAM_AWS_ATHENA_ENDPOINT_URL: standIn.url,
        ...opts.aws,
      },
      createBucket: opts.createBucket,
      createWorkGroup: opts.createWorkGroup,
      createTables: opts.createTables,
      onLeftovers: opts.onLeftovers,
    });
    if ((opts.bootstrap ?? true) && (opts.createTables ?? true)) await ensureAthenaViews(lake.backend, lake.config.tables, lake.config.engine.poll);
    return {
      ...lake,
      standIn,
      stack,
      names,
      close: async () => {
        await lake.close();
        await standIn.stop();
      },
    };
  } catch (err) {
    await standIn.stop();
    throw err;
  }
}

/** Writes one generated raw hour to S3 and returns what the pipeline must find. */
export async function makeRawHourS3(
  lake: { config: Pick<PipelineConfig, 'lake'>; backend: { store: ObjectStore } },
  spec: {
    hour: string;
    rows?: number;
    malformed?: number;
    duplicates?: number;
    files?: number;
    seed?: number;
    /** Top-level fields outside the data contract, added to every copy of the hour's first event (schema drift; it stays a valid line). */
    unknownFields?: Record<string, string>;
  },
): Promise<GeneratedHour & { hour: Hour; keys: string[]; unknownFields: string[] }> {
  const hour = parseHour(spec.hour);
  const rows = spec.rows ?? 20;
  const generated = generateHour({
    hour,
    events: rows,
    seed: spec.seed ?? 7,
    malformedRate: rows ? (spec.malformed ?? 0) / rows : 0,
    duplicateRate: rows ? (spec.duplicates ?? 0) / rows : 0,
  });
  let lines = generated.lines;
  if (spec.unknownFields) {
    const first = lines.find((l) => /^\{"event_id":"[^"]*-0000000"/.test(l));
    if (!first) throw new Error('makeRawHourS3: unknownFields needs at least one generated event');
    const drifted = JSON.stringify({ ...(JSON.parse(first) as object), ...spec.unknownFields });
    lines = lines.map((l) => (l === first ? drifted : l));
  }
  const keys = await writeRawHour(lake.backend.store, lake.config.lake, hour, lines, { files: spec.files ?? 2 });
  return { ...generated, lines, hour, keys, unknownFields: Object.keys(spec.unknownFields ?? {}).sort() };
}
