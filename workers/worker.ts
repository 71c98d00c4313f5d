/**
 * Worker process entry point: config (env + flags) -> backend -> Worker.run().
 * The SDK's Runtime turns SIGINT/SIGTERM into a graceful shutdown; the backend is closed after.
 */
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { temporalHourRunHistory } from '../client/hourRunHistory';
import { runningBackfillCounter } from '../client/runningBackfills';
import { ensureSearchAttributes } from '../client/searchAttributes';
import { loadConfig, type ConfigEnvName } from '../config/config';
import { createBackend } from '../lake/createBackend';
import { createPipelineWorker } from './createPipelineWorker';
import { installRuntime } from './installRuntime';

export async function runWorker(overrides: Partial<Record<ConfigEnvName, string>> = {}): Promise<void> {
  const config = loadConfig(process.env, overrides);
  installRuntime(config);
  const backend = await createBackend(config);
  let connection: NativeConnection | undefined;
  let clientConnection: Connection | undefined;
  try {
    connection = await NativeConnection.connect({ address: config.temporal.address });
    clientConnection = await Connection.connect({ address: config.temporal.address });
    // Workflows upsert these; on a server that lacks them every workflow task would fail.
    await ensureSearchAttributes(clientConnection, config.temporal.namespace);
    const client = new Client({ connection: clientConnection, namespace: config.temporal.namespace });
    const worker = await createPipelineWorker({
      config,
      backend,
      connection,
      runs: temporalHourRunHistory(client),
      countRunningBackfills: runningBackfillCounter(client, config),
    });
    console.error(
      `clickstream worker: task queue '${config.temporal.taskQueue}' on ${config.temporal.address}, backend ${config.backend}, lake ${config.lake.dir}` +
        (worker.metricsServer ? `, metrics on :${worker.metricsServer.port}/metrics` : '') +
        (config.metrics.sdkPort ? `, SDK metrics on :${config.metrics.sdkPort}/metrics` : ''),
    );
    await worker.run();
  } finally {
    await connection?.close();
    await clientConnection?.close();
    await backend.close();
  }
}

if (require.main === module) {
  runWorker().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
