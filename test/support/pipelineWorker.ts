/** Runs a real pipeline worker on the shared dev server for the duration of a test body. */
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { temporalHourRunHistory } from '../../client/hourRunHistory';
import { runningBackfillCounter } from '../../client/runningBackfills';
import type { LakeBackend } from '../../lake/ports';
import { createPipelineWorker, WORKFLOWS_PATH, type PipelineWorker } from '../../workers/createPipelineWorker';
import type { TestLake } from './testLake';
import { testTemporal } from './temporalServer';

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/** The workflow bundle, built once per test process. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietLogger });
  return bundle;
}

export async function makeWorker(lake: TestLake, backend: LakeBackend = lake.backend): Promise<PipelineWorker> {
  const t = await testTemporal();
  return createPipelineWorker({
    config: lake.config,
    backend,
    connection: t.nativeConnection,
    runs: temporalHourRunHistory(t.client),
    countRunningBackfills: runningBackfillCounter(t.client, lake.config),
    workflowBundle: await workflowBundle(),
    workerOptions: { shutdownGraceTime: '2 seconds' },
  });
}

/** Runs `body` while a worker polls the lake's task queue; the worker stops when body settles. */
export async function withWorker<T>(lake: TestLake, body: () => Promise<T>, backend?: LakeBackend): Promise<T> {
  const worker = await makeWorker(lake, backend);
  return worker.runUntil(body);
}

const quietLogger = {
  log() {},
  trace() {},
  debug() {},
  info() {},
  warn(message: string) {
    console.warn(message);
  },
  error(message: string) {
    console.error(message);
  },
};
