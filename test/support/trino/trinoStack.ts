/**
 * The test run's one Trino stack: a moto server (S3 + Glue, with the column-statistics no-ops of
 * test/support/aws/moto_server.py) and a real Trino 476 whose Hive catalog uses it. Started on
 * first use, like the Temporal dev server (unit tests never pay for it), and stopped by the root
 * hook after every file. Tests never reset this moto: each lake gets its own bucket and Glue
 * database, so cases cannot see each other's tables.
 */
import { randomBytes } from 'node:crypto';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { loadConfig, type ConfigEnvName, type PipelineConfig } from '../../../config/config';
import { createAwsClients, destroyAwsClients, type AwsClients } from '../../../lake/aws/awsClients';
import { bootstrapCatalog } from '../../../lake/createBackend';
import { createTrinoBackend, type TrinoLakeBackend } from '../../../lake/trino/createTrinoBackend';
import type { TrinoQueryEngine } from '../../../lake/trino/trinoEngine';
import { countingEngine, type CountedEngine } from '../countingEngine';
import { MOTO_CREDENTIALS, MOTO_REGION, MotoServer } from '../aws/motoServer';
import { TrinoServer } from './trinoServer';

export interface TrinoStack {
  moto: MotoServer;
  trino: TrinoServer;
}

let shared: Promise<TrinoStack> | undefined;

export function testTrinoStack(): Promise<TrinoStack> {
  shared ??= (async () => {
    const moto = await MotoServer.start();
    try {
      const trino = await TrinoServer.start({ motoUrl: moto.url, region: MOTO_REGION, credentials: MOTO_CREDENTIALS });
      return { moto, trino };
    } catch (err) {
      await moto.stop();
      throw err;
    }
  })();
  return shared;
}

export async function stopTestTrinoStack(): Promise<void> {
  if (!shared) return;
  const s = await shared.catch(() => undefined);
  shared = undefined;
  if (!s) return;
  await s.trino.stop();
  await s.moto.stop();
}

/** The environment a worker process needs for the trino backend on this stack (names as in the README). */
export function trinoBackendEnv(stack: TrinoStack, names: { bucket: string; database: string }): Record<string, string> {
  return {
    CLICKSTREAM_BACKEND: 'trino',
    CLICKSTREAM_BUCKET: names.bucket,
    CLICKSTREAM_DATABASE: names.database,
    CLICKSTREAM_TRINO_URL: stack.trino.url,
    CLICKSTREAM_TRINO_CATALOG: stack.trino.catalog,
    CLICKSTREAM_AWS_ENDPOINT_URL: stack.moto.url,
    CLICKSTREAM_AWS_REGION: MOTO_REGION,
    AWS_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey,
  };
}

export interface TrinoTestLake {
  config: PipelineConfig;
  /** Its engine counts the statements it submits (test/support/countingEngine.ts). */
  backend: TrinoLakeBackend & { engine: CountedEngine<TrinoQueryEngine> };
  clients: AwsClients;
  /** The variables a worker process needs to use this same lake. */
  env: Record<string, string>;
  close(): Promise<void>;
}

/** A trino-backend lake with its own bucket and Glue database, tables and views in place (bootstrapCatalog, as a worker does). */
export async function makeTrinoTestLake(
  stack: TrinoStack,
  opts: { overrides?: Partial<Record<ConfigEnvName, string>>; bootstrap?: boolean } = {},
): Promise<TrinoTestLake> {
  const suffix = randomBytes(4).toString('hex');
  const names = { bucket: `trino-lake-${suffix}`, database: `clickstream_${suffix}` };
  const env = trinoBackendEnv(stack, names);
  const config = loadConfig(
    Object.fromEntries(Object.entries(env).filter(([k]) => k.startsWith('CLICKSTREAM_'))),
    { CLICKSTREAM_QUERY_POLL_INITIAL_MS: '20', CLICKSTREAM_QUERY_POLL_MAX_MS: '500', ...opts.overrides },
  );
  const clients = createAwsClients(config.aws, { credentials: MOTO_CREDENTIALS });
  await clients.s3.send(new CreateBucketCommand({ Bucket: config.lake.bucket }));
  const built = await createTrinoBackend(config, { clients });
  const backend = { ...built, engine: countingEngine(built.engine) };
  if (opts.bootstrap ?? true) await bootstrapCatalog(backend, config);
  return {
    config,
    backend,
    clients,
    env,
    close: async () => {
      await backend.close();
      destroyAwsClients(clients);
    },
  };
}
