/**
 * Starts a real Temporal dev server (`temporal server start-dev`) as a child process, with a
 * persistent SQLite file when asked, the Web UI, and this project's search attributes.
 * Used by `npm start` and by the test harness; nothing here is mocked.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { Connection } from '@temporalio/client';
import { canConnect, freePort } from './freePort';
import { resolveTemporalCli } from './temporalCli';

export interface DevServerOptions {
  /** SQLite file for durable state; omitted = in-memory (tests). */
  dbFile?: string;
  /** SQLite pragmas for that file (`--sqlite-pragma name=value`), e.g. journal_mode and synchronous. */
  sqlitePragmas?: Record<string, string>;
  port?: number;
  /** UI port; 'free' = any free port; omitted = headless. */
  uiPort?: number | 'free';
  namespace?: string;
  /** name -> type (Keyword, Int, Datetime, ...), registered at start-up. */
  searchAttributes?: Record<string, string>;
  /** Extra dynamic-config values (`--dynamic-config-value key=value`), over DEFAULT_DYNAMIC_CONFIG. */
  dynamicConfig?: Record<string, string | number | boolean>;
  /** Where the server's own output goes. */
  logFile?: string;
  log?: (message: string) => void;
}

export interface DevServer {
  address: string;
  uiUrl?: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** History's transfer-queue read rate: it paces all task dispatch on a single-shard server. */
export const DISPATCH_RATE_KEY = 'history.transferProcessorMaxPollRPS';
export const DISPATCH_READS_PER_SECOND = 1000;

/**
 * The dev server has one history shard, and one reader per shard dispatches every activity and
 * workflow task at <= 20 reads/s by default, so under steady load each hop waited ~45 ms (bench
 * B1: 5 no-op activities 549 -> 69 ms with this). In-process SQLite needs no such protection.
 */
export const DEFAULT_DYNAMIC_CONFIG: Record<string, string | number | boolean> = { [DISPATCH_RATE_KEY]: DISPATCH_READS_PER_SECOND };

/**
 * The CLI picks its internal ports (HTTP API, metrics, history, matching, worker) itself, by
 * binding port 0 and closing it; another process can take one of them before the server binds it
 * again (CI saw `listen tcp 127.0.0.1:34889: bind: address already in use` on the HTTP API port).
 * Such a start is repeated with fresh ports; a port the caller fixed is reported at once instead.
 */
export const PORT_RACE_ATTEMPTS = 4;
const PORT_TAKEN = /listen tcp [^\s]*:(\d+): bind: address already in use/;

export class DevServerPortTakenError extends Error {
  constructor(
    readonly port: number,
    readonly option: 'port' | 'uiPort',
  ) {
    super(`temporal dev server: ${option} ${port} is already in use by another process; free it or choose another port`);
    this.name = 'DevServerPortTakenError';
  }
}

export async function startDevServer(opts: DevServerOptions = {}): Promise<DevServer> {
  const binary = await resolveTemporalCli({ install: true, log: opts.log });
  for (let attempt = 1; ; attempt++) {
    const port = opts.port ?? (await freePort());
    const uiPort = opts.uiPort === 'free' ? await freePort() : opts.uiPort;
    const started = await startOnce(binary, opts, port, uiPort);
    if (!('exitCode' in started)) return started;
    const verdict = earlyExitVerdict(started, opts, attempt);
    if (verdict instanceof Error) throw verdict;
    opts.log?.(`temporal dev server lost port ${verdict.lostPort} to another process while starting; starting again with fresh ports`);
  }
}

/** Why a start ended before the server was ready: a lost race for a port the CLI picked (start again), or a final error. */
export function earlyExitVerdict(
  exit: { exitCode: number | null; output: string },
  fixed: Pick<DevServerOptions, 'port' | 'uiPort'>,
  attempt: number,
): { lostPort: number } | Error {
  const taken = Number(PORT_TAKEN.exec(exit.output)?.[1]);
  if (taken && taken === fixed.port) return new DevServerPortTakenError(taken, 'port');
  if (taken && taken === fixed.uiPort) return new DevServerPortTakenError(taken, 'uiPort');
  if (taken && attempt < PORT_RACE_ATTEMPTS) return { lostPort: taken };
  const tried = taken ? ` (after ${attempt} attempts, each losing a port race)` : '';
  return new Error(`temporal dev server exited with code ${exit.exitCode} before it was ready${tried}:\n${exit.output.slice(-4000)}`);
}

async function startOnce(binary: string, opts: DevServerOptions, port: number, uiPort: number | undefined): Promise<DevServer | { exitCode: number | null; output: string }> {
  const address = `127.0.0.1:${port}`;
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--namespace', opts.namespace ?? 'default', '--log-level', 'warn'];
  if (opts.dbFile) {
    mkdirSync(path.dirname(opts.dbFile), { recursive: true });
    args.push('--db-filename', opts.dbFile);
  }
  for (const [name, value] of Object.entries(opts.sqlitePragmas ?? {})) args.push('--sqlite-pragma', `${name}=${value}`);
  for (const [key, value] of Object.entries({ ...DEFAULT_DYNAMIC_CONFIG, ...opts.dynamicConfig })) args.push('--dynamic-config-value', `${key}=${value}`);
  if (uiPort) args.push('--ui-port', String(uiPort));
  else args.push('--headless');
  for (const [name, type] of Object.entries(opts.searchAttributes ?? {})) args.push('--search-attribute', `${name}=${type}`);

  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const sink = opts.logFile ? createWriteStream(opts.logFile, { flags: 'a' }) : undefined;
  for (const stream of [child.stdout!, child.stderr!]) {
    stream.on('data', (chunk: Buffer) => {
      sink?.write(chunk);
      if (output.length < 20_000) output += chunk.toString();
    });
  }
  let exited: number | null | undefined;
  child.once('exit', (code) => (exited = code));

  const deadline = Date.now() + 60_000;
  let frontendServing = false;
  for (;;) {
    if (exited !== undefined) {
      sink?.end();
      return { exitCode: exited, output };
    }
    if (await canConnect(address, 500)) {
      try {
        const conn = await Connection.connect({ address, connectTimeout: 2000 });
        // A deadline, because whatever accepted the connection may not speak gRPC (a squatter on the port).
        await conn.withDeadline(Date.now() + 2000, () => conn.workflowService.getSystemInfo({})).finally(() => conn.close());
        frontendServing = true;
        if (!uiPort || (await uiReachesServer(uiPort))) break;
      } catch {
        /* frontend not serving yet */
      }
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      const what = frontendServing ? `its Web UI at http://127.0.0.1:${uiPort} did not reach the server` : `it did not answer at ${address}`;
      throw new Error(`temporal dev server: ${what} within 60 s:\n${output.slice(-4000)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }

  return {
    address,
    uiUrl: uiPort ? `http://127.0.0.1:${uiPort}` : undefined,
    process: child,
    stop: () => stopProcess(child).finally(() => sink?.end()),
  };
}

/**
 * The UI server dials the frontend when it starts, often before the frontend listens, and gRPC then
 * backs off for ~1 s: pages opened in that window get 503 from its API and show "500 Internal
 * Error" (CI's browser test saw it). Ready means the UI's API reaches the server.
 */
async function uiReachesServer(uiPort: number): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${uiPort}/api/v1/cluster-info`, { signal: AbortSignal.timeout(2000) });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}

/** SIGTERM, then SIGKILL if it has not exited after 10 s. */
export function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
