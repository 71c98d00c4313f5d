/**
 * Builds the pipeline's workers from config: backend (ports) -> activities -> Workers.
 * Shared by the worker entry point, `npm start` and the tests, so all three run the same wiring.
 *
 * Engine queries (curation, validation) run on two extra task queues with their own slot
 * limits: `<queue>-engine-live` for scheduled and operator-run hours, `<queue>-engine-backfill`
 * for backfill children. A saturating backfill fills only its own slots, so a live hour always
 * finds one of the live slots; when a queue's slots are all busy, further queries wait in that
 * queue (pending, not failed) until a slot frees. Bound per deployment = slots x worker processes.
 */
import * as path from 'node:path';
import { NativeConnection, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../activities';
import type { HourRunHistory } from '../core/contracts/hourRuns';
import type { PipelineConfig } from '../config/config';
import { engineTaskQueue } from '../core/ids';
import { bootstrapCatalog } from '../lake/createBackend';
import type { LakeBackend } from '../lake/ports';
import { startMetricsServer, type MetricsServer } from './metricsServer';
import { PipelineMetrics, type CountRunningBackfills } from './pipelineMetrics';

export const WORKFLOWS_PATH = path.resolve(__dirname, '..', 'workflows', 'index.ts');

/** The main worker plus the two engine-slot workers, run and stopped together. */
export class PipelineWorker {
  constructor(
    readonly workers: Worker[],
    readonly metrics: PipelineMetrics,
    /** The /metrics endpoint when CLICKSTREAM_METRICS_PORT is set; it closes when run() ends. */
    readonly metricsServer?: MetricsServer,
  ) {}

  /** Runs until shutdown() or a signal (the SDK turns SIGINT/SIGTERM into shutdown). */
  async run(): Promise<void> {
    const runs = this.workers.map((w) => w.run());
    try {
      await Promise.all(runs);
    } catch (err) {
      // One failed worker must not leave the others polling a server the caller is about to close.
      this.shutdown();
      await Promise.allSettled(runs);
      throw err;
    } finally {
      await this.metricsServer?.close();
    }
  }

  /** The main worker's state (the engine workers follow it). */
  getState() {
    return this.workers[0]!.getState();
  }

  shutdown(): void {
    for (const w of this.workers) if (w.getState() === 'RUNNING') w.shutdown();
  }

  /** Runs the workers while `body` runs, then shuts them down and waits for them. */
  async runUntil<T>(body: () => Promise<T>): Promise<T> {
    const running = this.run();
    let failed: unknown;
    running.catch((err) => (failed = err));
    try {
      return await body();
    } finally {
      this.shutdown();
      await running.catch(() => undefined);
      if (failed) throw failed;
    }
  }
}

export async function createPipelineWorker(opts: {
  config: PipelineConfig;
  backend: LakeBackend;
  connection: NativeConnection;
  /** Temporal visibility for backfill mode 'failed'. */
  runs?: HourRunHistory;
  /** Temporal visibility for the running-backfills gauge (client/runningBackfills.ts); without it, no gauge. */
  countRunningBackfills?: CountRunningBackfills;
  /** A pre-built bundle (tests bundle once per file); otherwise the worker bundles WORKFLOWS_PATH. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Extra worker options, e.g. shutdownGraceTime in tests. */
  workerOptions?: Partial<WorkerOptions>;
}): Promise<PipelineWorker> {
  const { config, backend } = opts;
  await bootstrapCatalog(backend, config);
  const activities = createActivities({
    backend,
    layout: config.lake,
    tables: config.tables,
    poll: config.engine.poll,
    runs: opts.runs,
  });
  const common = {
    connection: opts.connection,
    namespace: config.temporal.namespace,
    activities,
    // Cancellation reaches an activity only in a heartbeat response; the default throttle (0.8 x
    // heartbeatTimeout) would leave a cancelled query running for many seconds.
    maxHeartbeatThrottleInterval: '2 seconds',
    ...opts.workerOptions,
  } satisfies Partial<WorkerOptions>;
  const metrics = new PipelineMetrics({
    catalog: backend.catalog,
    countRunningBackfills: opts.countRunningBackfills,
    database: config.tables.database,
    table: config.tables.curated,
    warn: (message, meta) => Runtime.instance().logger.warn(message, meta),
  });
  const main = await Worker.create({
    ...common,
    taskQueue: config.temporal.taskQueue,
    // Workflows run only here, so only this worker receives the hourly workflow's metric sink calls.
    sinks: metrics.sinks(),
    ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
  });
  const engineWorker = (priority: 'live' | 'backfill', slots: number) =>
    Worker.create({
      ...common,
      taskQueue: engineTaskQueue(config.temporal.taskQueue, priority),
      maxConcurrentActivityTaskExecutions: slots,
    });
  const workers = [main, await engineWorker('live', config.engine.slots.live), await engineWorker('backfill', config.engine.slots.backfill)];
  // Bound last, so a worker that could not be created leaves no listening port behind.
  const server = config.metrics.port === undefined ? undefined : await startMetricsServer(metrics.registry, config.metrics.port);
  return new PipelineWorker(workers, metrics, server);
}
