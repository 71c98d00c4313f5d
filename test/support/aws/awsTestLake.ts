/**
 * An `aws` backend on moto, configured the way production is (loadConfig + parseAwsSettings),
 * with the bucket, workgroup and tables created, and the raw-hour fixture writer shared by
 * every AWS test so cases never drift apart.
 */
import { CreateWorkGroupCommand } from '@aws-sdk/client-athena';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { loadConfig, type ConfigEnvName, type PipelineConfig } from '../../../config/config';
import { parseHour, type Hour } from '../../../core/hours';
import { ensureTables } from '../../../lake/createBackend';
import { createAwsClients } from '../../../lake/aws/awsClients';
import { parseAwsSettings, type AwsEnvName, type AwsSettings } from '../../../lake/aws/awsSettings';
import { createAwsBackend, type AwsLakeBackend } from '../../../lake/aws/createAwsBackend';
import { generateHour, type GeneratedHour } from '../../../generator/clickstreamGenerator';
import { writeRawHour } from '../../../generator/writeRawHour';
import type { ObjectStore } from '../../../lake/ports';
import { MOTO_CREDENTIALS, MOTO_REGION, type MotoServer } from './motoServer';

export const TEST_WORKGROUP = 'clickstream-test';

export interface AwsTestLake {
  config: PipelineConfig;
  settings: AwsSettings;
  backend: AwsLakeBackend;
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
export async function makeAwsTestLake(
  moto: MotoServer,
  opts: {
    overrides?: Partial<Record<ConfigEnvName, string>>;
    aws?: Partial<Record<AwsEnvName, string>>;
    createBucket?: boolean;
    createWorkGroup?: boolean;
    createTables?: boolean;
    pageSize?: number;
    onLeftovers?: (location: string, keys: string[]) => void;
  } = {},
): Promise<AwsTestLake> {
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
  const backend = await createAwsBackend(config, { aws: settings, clients, pageSize: opts.pageSize, onLeftovers: opts.onLeftovers });
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

/** Writes one generated raw hour to S3 and returns what the pipeline must find. */
export async function makeRawHourS3(
  lake: { config: Pick<PipelineConfig, 'lake'>; backend: { store: ObjectStore } },
  spec: { hour: string; rows?: number; malformed?: number; duplicates?: number; files?: number; seed?: number },
): Promise<GeneratedHour & { hour: Hour; keys: string[] }> {
  const hour = parseHour(spec.hour);
  const rows = spec.rows ?? 20;
  const generated = generateHour({
    hour,
    events: rows,
    seed: spec.seed ?? 7,
    malformedRate: rows ? (spec.malformed ?? 0) / rows : 0,
    duplicateRate: rows ? (spec.duplicates ?? 0) / rows : 0,
  });
  const keys = await writeRawHour(lake.backend.store, lake.config.lake, hour, generated.lines, { files: spec.files ?? 2 });
  return { ...generated, hour, keys };
}
