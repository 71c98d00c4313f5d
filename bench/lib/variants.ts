/**
 * The "before" of the fixes applied for issue 6, rebuilt at run time so that before and after are
 * measured side by side in the same run, on the same machine and load:
 *
 * remoteQuickStepsBundle: the production workflows with hourlyPipelineWorkflow's quick lake steps
 * (verify, register, publish) back on remote activities only, generated from the current
 * workflows/hourlyPipeline.ts by one exact textual change: the patch check that keeps old
 * histories on remote steps becomes unconditional. When that text is gone (the code moved), the
 * variant reports itself unavailable instead of measuring something stale.
 *
 * startBenchDevServer: a second dev server through devserver/devServer.ts with other dynamic
 * config, e.g. STOCK_DYNAMIC_CONFIG, the dev server as it was before (dispatch paced at 20 reads/s).
 *
 * The third fix (poll policy and sleep-first) is configuration for its policy part
 * (CLICKSTREAM_QUERY_POLL_INITIAL_MS=50 for the old local default); the old immediate status call
 * after start is not rebuilt: it cost one status call per query and no wait.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, type WorkerOptions, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { temporalHourRunHistory } from '../../client/hourRunHistory';
import { SEARCH_ATTRIBUTES } from '../../core/searchAttributes';
import { DISPATCH_RATE_KEY, startDevServer } from '../../devserver/devServer';
import { createPipelineWorker, type PipelineWorker } from '../../workers/createPipelineWorker';
import { workflowBundle } from '../../test/support/pipelineWorker';
import type { TestLake } from '../../test/support/testLake';
import type { TestTemporal } from '../../test/support/temporalServer';

const ROOT = path.resolve(__dirname, '..', '..');
const OUT = path.join(ROOT, 'bench', '.variants');

/** Where hourlyPipeline.ts keeps pre-patch runs on remote steps; unconditional, it is the old workflow. */
const PATCH_CHECK = 'if (!patched(LOCAL_QUICK_STEPS_PATCH)) return remoteLake;';
const ALWAYS_REMOTE = 'return remoteLake;';

/** The dev server's own default for DISPATCH_RATE_KEY: what every run saw before the fix. */
export const STOCK_DYNAMIC_CONFIG: Record<string, number> = { [DISPATCH_RATE_KEY]: 20 };

/** The old local poll policy's first interval (50 ms × 1.5, cap 5 s; the multiplier and cap are unchanged). */
export const OLD_POLL_OVERRIDES = { CLICKSTREAM_QUERY_POLL_INITIAL_MS: '50' } as const;

export type VariantBundle = { available: true; bundle: WorkflowBundleWithSourceMap } | { available: false; reason: string };

let remoteQuickSteps: Promise<VariantBundle> | undefined;

/** The production workflows, with hourlyPipelineWorkflow's quick lake steps as remote activities (before fix 2). */
export function remoteQuickStepsBundle(): Promise<VariantBundle> {
  remoteQuickSteps ??= (async (): Promise<VariantBundle> => {
    const source = await fs.readFile(path.join(ROOT, 'workflows', 'hourlyPipeline.ts'), 'utf8');
    if (!source.includes(PATCH_CHECK)) {
      return { available: false, reason: `workflows/hourlyPipeline.ts no longer contains \`${PATCH_CHECK}\` (the code moved: update bench/lib/variants.ts)` };
    }
    const dir = path.join(OUT, 'remoteQuickSteps', 'workflows');
    await fs.mkdir(dir, { recursive: true });
    // The file moves three levels down: its relative imports must still reach the production modules.
    const variant = source
      .replace(PATCH_CHECK, ALWAYS_REMOTE)
      .replace(/from '\.\.\//g, `from '../../../../`)
      .replace(/from '\.\//g, `from '../../../../workflows/`);
    await fs.writeFile(path.join(dir, 'hourlyPipeline.ts'), variant);
    // backfillWorkflow starts its children by type name, so the variant is what it starts.
    await fs.writeFile(
      path.join(dir, 'index.ts'),
      [
        `export { hourlyPipelineWorkflow } from './hourlyPipeline';`,
        `export { scheduledHourWorkflow } from '../../../../workflows/scheduledHour';`,
        `export { backfillWorkflow } from '../../../../workflows/backfill';`,
        '',
      ].join('\n'),
    );
    const bundle = await bundleWorkflowCode({ workflowsPath: path.join(dir, 'index.ts'), logger: silent });
    return { available: true, bundle };
  })();
  return remoteQuickSteps;
}

/**
 * Extra worker options for profiling (BENCH_WORKER_OPTIONS='{"workflowThreadPoolSize":2}'): lets
 * a benchmark try a worker setting without editing workers/createPipelineWorker.ts.
 */
export function benchWorkerOptions(): Partial<WorkerOptions> {
  const raw = process.env.BENCH_WORKER_OPTIONS;
  if (!raw) return {};
  const parsed = JSON.parse(raw) as unknown;
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`BENCH_WORKER_OPTIONS must be a JSON object; got ${raw}`);
  return parsed as Partial<WorkerOptions>;
}

/**
 * A pipeline worker with the production wiring (as test/support's makeWorker), on a given server
 * and workflow bundle (default: the production workflows).
 */
export async function makeWorkerOn(
  t: Pick<TestTemporal, 'client' | 'nativeConnection'>,
  lake: TestLake,
  bundle?: WorkflowBundleWithSourceMap,
  workerOptions: Partial<WorkerOptions> = {},
): Promise<PipelineWorker> {
  return createPipelineWorker({
    config: lake.config,
    backend: lake.backend,
    connection: t.nativeConnection,
    runs: temporalHourRunHistory(t.client),
    workflowBundle: bundle ?? (await workflowBundle()),
    workerOptions: { shutdownGraceTime: '2 seconds', ...benchWorkerOptions(), ...workerOptions },
  });
}

export interface BenchTemporal {
  client: Client;
  connection: Connection;
  nativeConnection: NativeConnection;
  pid: number;
  stop(): Promise<void>;
}

/** A second dev server (devserver/devServer.ts, this project's search attributes) with other dynamic config. */
export async function startBenchDevServer(dynamicConfig: Record<string, string | number | boolean>): Promise<BenchTemporal> {
  const server = await startDevServer({ searchAttributes: SEARCH_ATTRIBUTES, dynamicConfig });
  const connection = await Connection.connect({ address: server.address });
  const nativeConnection = await NativeConnection.connect({ address: server.address });
  return {
    client: new Client({ connection }),
    connection,
    nativeConnection,
    pid: server.process.pid!,
    stop: async () => {
      await nativeConnection.close();
      await connection.close();
      await server.stop();
    },
  };
}

/** "key=value, ..." for the output. */
export function dynamicConfigText(config: Record<string, string | number | boolean>): string {
  return Object.entries(config)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
}

const silent = {
  log() {},
  trace() {},
  debug() {},
  info() {},
  warn() {},
  error(message: string) {
    console.error(message);
  },
};
