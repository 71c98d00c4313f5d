/**
 * Builds a Worker for the pipeline from config: backend (ports) -> activities -> Worker.
 * Shared by the worker entry point, `npm start` and the tests, so all three run the same wiring.
 */
import * as path from 'node:path';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../activities';
import type { HourRunHistory } from '../activities/deps';
import type { PipelineConfig } from '../config/config';
import { ensureTables } from '../lake/createBackend';
import type { LakeBackend } from '../lake/ports';

export const WORKFLOWS_PATH = path.resolve(__dirname, '..', 'workflows', 'index.ts');

export async function createPipelineWorker(opts: {
  config: PipelineConfig;
  backend: LakeBackend;
  connection: NativeConnection;
  /** Temporal visibility for backfill mode 'failed'. */
  runs?: HourRunHistory;
  /** A pre-built bundle (tests bundle once per file); otherwise the worker bundles WORKFLOWS_PATH. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Extra worker options, e.g. shutdownGraceTime in tests. */
  workerOptions?: Partial<WorkerOptions>;
}): Promise<Worker> {
  const { config, backend } = opts;
  await ensureTables(backend, config);
  const activities = createActivities({
    backend,
    layout: config.lake,
    tables: config.tables,
    poll: config.engine.poll,
    runs: opts.runs,
  });
  return Worker.create({
    connection: opts.connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    activities,
    // Cancellation reaches an activity only in a heartbeat response; the default throttle (0.8 x
    // heartbeatTimeout) would leave a cancelled query running for many seconds.
    maxHeartbeatThrottleInterval: '2 seconds',
    ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
    ...opts.workerOptions,
  });
}
