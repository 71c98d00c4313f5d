/**
 * Prototypes of proposed production changes, measured beside production in the same run without
 * editing production code. A variant is generated at run time from the current production source
 * by one exact textual change; when that text is no longer there (the change was applied, or the
 * code moved), the variant reports itself unavailable instead of measuring something stale.
 *
 * localQuickSteps: the hourly workflow's quick lake steps (verify, register, publish) as local
 * activities, so each costs no activity task, no dispatch and no extra workflow task.
 *
 * tunedDevServer: the dev server as devserver/devServer.ts starts it, plus the dynamic config
 * TUNED_DYNAMIC_CONFIG. The dev server has one history shard, so every workflow's transfer tasks
 * (activity and workflow task dispatch) go through one queue reader, rate-limited by default to
 * 20 reads/s: under sustained load each dispatch waits ~45 ms for its turn.
 */
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { temporalHourRunHistory } from '../../client/hourRunHistory';
import { SEARCH_ATTRIBUTES } from '../../core/searchAttributes';
import { canConnect, freePort } from '../../devserver/freePort';
import { stopProcess } from '../../devserver/devServer';
import { resolveTemporalCli } from '../../devserver/temporalCli';
import { createPipelineWorker, type PipelineWorker } from '../../workers/createPipelineWorker';
import { workflowBundle } from '../../test/support/pipelineWorker';
import type { TestLake } from '../../test/support/testLake';
import type { TestTemporal } from '../../test/support/temporalServer';

const ROOT = path.resolve(__dirname, '..', '..');
const OUT = path.join(ROOT, 'bench', '.variants');

const QUICK_PROXY = 'const lake = proxyActivities<PipelineActivities>(quickLakeCall);';
const LOCAL_PROXY = 'const lake = proxyLocalActivities<PipelineActivities>(quickLakeCall);';

export type VariantBundle = { available: true; bundle: WorkflowBundleWithSourceMap } | { available: false; reason: string };

let localQuickSteps: Promise<VariantBundle> | undefined;

/** The production workflows, with hourlyPipelineWorkflow's quick lake steps as local activities. */
export function localQuickStepsBundle(): Promise<VariantBundle> {
  localQuickSteps ??= (async (): Promise<VariantBundle> => {
    const source = await fs.readFile(path.join(ROOT, 'workflows', 'hourlyPipeline.ts'), 'utf8');
    if (!source.includes(QUICK_PROXY)) {
      return { available: false, reason: `workflows/hourlyPipeline.ts no longer contains \`${QUICK_PROXY}\` (applied already, or the code moved)` };
    }
    const dir = path.join(OUT, 'localQuickSteps', 'workflows');
    await fs.mkdir(dir, { recursive: true });
    // The file moves two levels down: its relative imports must still reach the production modules.
    const variant =
      `import { proxyLocalActivities } from '@temporalio/workflow';\n` +
      source
        .replace(QUICK_PROXY, LOCAL_PROXY)
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
  return localQuickSteps;
}

/**
 * A pipeline worker with the production wiring (as test/support's makeWorker), on a given server
 * and workflow bundle (default: the production workflows).
 */
export async function makeWorkerOn(t: Pick<TestTemporal, 'client' | 'nativeConnection'>, lake: TestLake, bundle?: WorkflowBundleWithSourceMap): Promise<PipelineWorker> {
  return createPipelineWorker({
    config: lake.config,
    backend: lake.backend,
    connection: t.nativeConnection,
    runs: temporalHourRunHistory(t.client),
    workflowBundle: bundle ?? (await workflowBundle()),
    workerOptions: { shutdownGraceTime: '2 seconds' },
  });
}

/** The proposed addition to the dev server's start-up flags (devserver/devServer.ts). */
export const TUNED_DYNAMIC_CONFIG: Record<string, number> = { 'history.transferProcessorMaxPollRPS': 1000 };

export interface TunedTemporal {
  client: Client;
  connection: Connection;
  nativeConnection: NativeConnection;
  pid: number;
  stop(): Promise<void>;
}

/** A second dev server, started with devServer.ts's arguments plus TUNED_DYNAMIC_CONFIG. */
export async function startTunedDevServer(): Promise<TunedTemporal> {
  const binary = await resolveTemporalCli({ install: true });
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--namespace', 'default', '--log-level', 'warn', '--headless'];
  for (const [name, type] of Object.entries(SEARCH_ATTRIBUTES)) args.push('--search-attribute', `${name}=${type}`);
  for (const [key, value] of Object.entries(TUNED_DYNAMIC_CONFIG)) args.push('--dynamic-config-value', `${key}=${value}`);
  const child = spawn(binary, args, { stdio: 'ignore' });
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`tuned dev server exited with ${child.exitCode}`);
    if (await canConnect(address, 500)) {
      try {
        const probe = await Connection.connect({ address, connectTimeout: 2000 });
        await probe.workflowService.getSystemInfo({});
        await probe.close();
        break;
      } catch {
        // frontend not serving yet
      }
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`tuned dev server did not answer at ${address} within 60 s`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const connection = await Connection.connect({ address });
  const nativeConnection = await NativeConnection.connect({ address });
  return {
    client: new Client({ connection }),
    connection,
    nativeConnection,
    pid: child.pid!,
    stop: async () => {
      await nativeConnection.close();
      await connection.close();
      await stopProcess(child);
    },
  };
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
