/**
 * Runs a worker as a real child process (so it can be kill -9'd), wired to a test lake and a
 * Temporal address: test/faults/faultWorker.ts (production wiring plus the fault layer and the
 * query log, workflow bundle built once per test file), or the production entry point itself,
 * `clickstream worker`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { PipelineConfig } from '../../../config/config';
import type { EngineFaultPlan } from './engineFaults';
import { workflowBundle } from '../../support/pipelineWorker';

const WORKER_SCRIPT = path.resolve(__dirname, '..', 'faultWorker.ts');
const CLI_BIN = path.resolve(__dirname, '..', '..', '..', 'bin', 'clickstream.js');
const TSX = require.resolve('tsx/cjs');

export interface FaultWorkerOptions {
  config: PipelineConfig;
  address: string;
  /** 'fault' (default): test/faults/faultWorker.ts; 'cli': the production `clickstream worker`. */
  entry?: 'fault' | 'cli';
  /** fault entry only. */
  queryLog?: string;
  bundlePath?: string;
  plan?: EngineFaultPlan;
  crashOnDelete?: boolean;
  logLevel?: 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  /** Extra environment (e.g. sentinel secrets); applied last. */
  env?: Record<string, string>;
  /** Run as this uid/gid (the read-only lake test drops root so file permissions bind). */
  uid?: number;
  gid?: number;
}

export interface FaultWorker {
  child: ChildProcess;
  pid: number;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** Resolves once the worker polls (the CLI worker: once it is created); rejects if it exits first. */
  ready: Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill9(): Promise<void>;
  /** SIGTERM (graceful shutdown), SIGKILL after 15 s. */
  stop(): Promise<void>;
}

/** Writes the workflow bundle once per test process, so each worker start skips webpack. */
let bundleFile: Promise<string> | undefined;
export function bundleOnDisk(): Promise<string> {
  bundleFile ??= (async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'clickstream-fault-bundle-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    await fs.chmod(dir, 0o755); // readable by the unprivileged worker of the read-only lake test
    const file = path.join(dir, 'workflow-bundle.js');
    await fs.writeFile(file, (await workflowBundle()).code);
    await fs.chmod(file, 0o644);
    return file;
  })();
  return bundleFile;
}

/** The CLICKSTREAM_* environment that makes loadConfig() in the child return `config` again. */
export function configEnv(config: PipelineConfig): Record<string, string> {
  return {
    CLICKSTREAM_LAKE_DIR: config.lake.dir,
    CLICKSTREAM_CATALOG_DIR: config.lake.catalogDir,
    CLICKSTREAM_BUCKET: config.lake.bucket,
    CLICKSTREAM_RAW_PREFIX: config.lake.rawPrefix,
    CLICKSTREAM_CURATED_PREFIX: config.lake.curatedPrefix,
    CLICKSTREAM_DATABASE: config.tables.database,
    CLICKSTREAM_RAW_TABLE: config.tables.raw,
    CLICKSTREAM_CURATED_TABLE: config.tables.curated,
    CLICKSTREAM_TASK_QUEUE: config.temporal.taskQueue,
    CLICKSTREAM_QUERY_POLL_INITIAL_MS: String(config.engine.poll.initialMs),
    CLICKSTREAM_QUERY_POLL_MAX_MS: String(config.engine.poll.maxMs),
  };
}

export function startFaultWorker(opts: FaultWorkerOptions): FaultWorker {
  // Only what the test sets: an operator's CLICKSTREAM_* settings must not leak in.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CLICKSTREAM_') && !k.startsWith('FAULT_WORKER_') && k !== 'TEMPORAL_ADDRESS'));
  const cli = opts.entry === 'cli';
  const env: Record<string, string | undefined> = {
    ...inherited,
    ...configEnv(opts.config),
    TEMPORAL_ADDRESS: opts.address,
    ...(cli
      ? {}
      : {
          FAULT_WORKER_QUERY_LOG: opts.queryLog,
          FAULT_WORKER_BUNDLE: opts.bundlePath,
          FAULT_WORKER_PLAN: JSON.stringify(opts.plan ?? {}),
          FAULT_WORKER_CRASH_ON_DELETE: opts.crashOnDelete ? '1' : '0',
          FAULT_WORKER_LOG_LEVEL: opts.logLevel ?? 'ERROR',
        }),
    ...opts.env,
  };
  const readyMarker = cli ? 'clickstream worker: task queue' : 'fault-worker ready';
  const args = cli ? [CLI_BIN, 'worker'] : ['--require', TSX, WORKER_SCRIPT];
  const child = spawn(process.execPath, args, {
    env: Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined)),
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(opts.uid !== undefined ? { uid: opts.uid, gid: opts.gid ?? opts.uid } : {}),
  });
  let out = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      if (out.includes(readyMarker)) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then(({ code, signal }) => reject(new Error(`fault worker exited (code ${code}, signal ${signal}) before it was ready:\n${out.slice(-3000)}`)));
  });
  ready.catch(() => undefined); // callers that never await it must not see an unhandled rejection
  return {
    child,
    pid: child.pid!,
    output: () => out,
    ready,
    exited,
    kill9: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        child.kill('SIGTERM');
        await exited;
        clearTimeout(timer);
      }
    },
  };
}
