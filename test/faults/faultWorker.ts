/**
 * A pipeline worker process for the fault tests: the production wiring (config from env ->
 * local or trino backend -> createPipelineWorker), with the engine wrapped by the fault layer and by the
 * query log, so the test can kill -9 it and count every engine query it ever made.
 *
 * Run as `node --require tsx/cjs test/faults/faultWorker.ts`. Settings (besides the usual
 * CLICKSTREAM_* / TEMPORAL_ADDRESS, which loadConfig parses as in production):
 *   FAULT_WORKER_QUERY_LOG  file the query log appends to (required)
 *   FAULT_WORKER_BUNDLE     pre-built workflow bundle (the test bundles once; restarts stay fast)
 *   FAULT_WORKER_PLAN       JSON EngineFaultPlan (default: no faults)
 *   FAULT_WORKER_CRASH_ON_DELETE  '1': SIGKILL itself when publish is about to delete superseded output
 *   FAULT_WORKER_LOG_LEVEL  SDK log level (default WARN)
 * Prints "fault-worker ready" on stdout once it polls.
 */
import { DefaultLogger, NativeConnection, Runtime, type LogLevel } from '@temporalio/worker';
import { loadConfig } from '../../config/config';
import { createLocalBackend } from '../../lake/createBackend';
import { createTrinoBackend } from '../../lake/trino/createTrinoBackend';
import { withEngineFaults, type EngineFaultPlan } from './support/engineFaults';
import type { LakeBackend } from '../../lake/ports';
import { createPipelineWorker } from '../../workers/createPipelineWorker';
import { withDeleteHook } from '../support/backendHooks';
import { withQueryLog } from './support/queryLog';

async function main(): Promise<void> {
  const level = (process.env.FAULT_WORKER_LOG_LEVEL ?? 'WARN') as LogLevel;
  Runtime.install({ logger: new DefaultLogger(level) });
  const queryLog = process.env.FAULT_WORKER_QUERY_LOG;
  if (!queryLog) throw new Error('FAULT_WORKER_QUERY_LOG must name the query log file');
  const plan = JSON.parse(process.env.FAULT_WORKER_PLAN ?? '{}') as EngineFaultPlan;

  const config = loadConfig(process.env);
  // The trino backend's queries outlive this process: that is what its kill test is about.
  const real = config.backend === 'trino' ? await createTrinoBackend(config) : await createLocalBackend(config);
  const engine = withQueryLog(withEngineFaults(real.engine, plan), { file: queryLog, table: config.tables.curated });
  let backend: LakeBackend = { ...real, engine, close: () => real.close() };
  if (process.env.FAULT_WORKER_CRASH_ON_DELETE === '1') backend = crashBeforeDelete(backend);

  let connection: NativeConnection | undefined;
  try {
    connection = await NativeConnection.connect({ address: config.temporal.address });
    const bundlePath = process.env.FAULT_WORKER_BUNDLE;
    const worker = await createPipelineWorker({
      config,
      backend,
      connection,
      ...(bundlePath ? { workflowBundle: { codePath: bundlePath } } : {}),
    });
    const running = worker.run();
    process.stdout.write(`fault-worker ready pid=${process.pid}\n`);
    await running;
  } finally {
    await connection?.close();
    await backend.close();
  }
}

/** The crash the publish step must survive: the catalog already points at the new run, the old output is not yet deleted. */
function crashBeforeDelete(base: LakeBackend): LakeBackend {
  return withDeleteHook(base, async (keys) => {
    process.stdout.write(`fault-worker crashing before deleting ${keys.length} superseded object(s)\n`);
    process.kill(process.pid, 'SIGKILL');
    await new Promise(() => undefined); // never returns: the process is gone
  });
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
