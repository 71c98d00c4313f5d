/**
 * Shared set-up for the benchmarks that run the real pipeline: a lake folder configured with the
 * production defaults (the test harness shortens the poll interval; a benchmark must not), the
 * dev server and worker from test/support, raw-hour seeding, and process samplers.
 */
import { promises as fs } from 'node:fs';
import { DefaultLogger, makeTelemetryFilterString, Runtime } from '@temporalio/worker';
import { loadConfig, type ConfigEnvName } from '../../config/config';
import { addHours, formatHour, parseHour } from '../../core/hours';
import { makeRawHour, makeTestLake, type TestLake } from '../../test/support/testLake';

let runtimeInstalled = false;

/** Worker logs at ERROR only: per-activity INFO lines would cost more than what is measured. */
export function installQuietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({
    logger: new DefaultLogger('ERROR'),
    telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }) } },
  });
}

/** A fresh lake whose engine settings are exactly production's defaults (poll policy, threads, slots). */
export async function makeBenchLake(overrides: Partial<Record<ConfigEnvName, string>> = {}): Promise<TestLake> {
  const d = loadConfig({});
  return makeTestLake({
    CLICKSTREAM_QUERY_POLL_INITIAL_MS: String(d.engine.poll.initialMs),
    CLICKSTREAM_QUERY_POLL_MAX_MS: String(d.engine.poll.maxMs),
    CLICKSTREAM_QUERY_POLL_MULTIPLIER: String(d.engine.poll.multiplier),
    ...overrides,
  });
}

/** `count` consecutive hours from `first`, as 'YYYY-MM-DDTHH'. */
export function hourRange(first: string, count: number): string[] {
  const h = parseHour(first);
  return Array.from({ length: count }, (_, i) => formatHour(addHours(h, i)));
}

/** Writes tiny raw hours (the work per hour is deliberately small: these benchmarks measure orchestration). */
export async function seedHours(lake: TestLake, hours: string[], opts: { rows: number; files?: number }): Promise<void> {
  let seed = 1;
  for (const hour of hours) await makeRawHour(lake, { hour, rows: opts.rows, files: opts.files ?? 1, seed: seed++ });
}

export interface ProcSample {
  /** ms since the sampler started. */
  t: number;
  rssMB: number;
  /** CPU seconds (user + system) consumed so far. */
  cpuS: number;
  /** Of cpuS, in the kernel (file-system and socket calls: a SQLite journal shows here). */
  sysS?: number;
  /** Bytes this process caused to be written to storage so far (/proc/<pid>/io write_bytes). */
  writeBytes?: number;
  /** This process only: V8 heap in use (JS objects), to tell a JS leak from native memory. */
  heapUsedMB?: number;
  /** heapUsedMB was read right after a full GC (only when run with --expose-gc): live objects only. */
  afterGc?: boolean;
}

const CLOCK_TICKS = 100; // USER_HZ on Linux

/** RSS and CPU time of a process from /proc (Linux); undefined when the process is gone. */
export async function readProc(pid: number): Promise<{ rssMB: number; cpuS: number; sysS: number } | undefined> {
  try {
    const status = await fs.readFile(`/proc/${pid}/status`, 'utf8');
    const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8');
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
    // Fields after the ")" of the command name: utime is field 14, stime 15 (1-based, whole line).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuTicks = Number(fields[11]) + Number(fields[12]);
    return { rssMB: rssKb / 1024, cpuS: cpuTicks / CLOCK_TICKS, sysS: Number(fields[12]) / CLOCK_TICKS };
  } catch {
    return undefined;
  }
}

/**
 * This isolate's heap in use. With --expose-gc (NODE_OPTIONS=--expose-gc), every tenth sample runs
 * a full GC first, so those samples count live objects only: a rising series of them is a JS leak,
 * while RSS growth with flat ones is native memory (DuckDB, the Temporal core) or allocator slack.
 */
function heapSample(n: number): { heapUsedMB: number; afterGc?: boolean } {
  const gc = (globalThis as { gc?: () => void }).gc;
  const collect = gc !== undefined && n % 10 === 0;
  if (collect) gc();
  return { heapUsedMB: process.memoryUsage().heapUsed / 2 ** 20, ...(collect ? { afterGc: true } : {}) };
}

/** Bytes a process has caused to be written to storage (write_bytes in /proc/<pid>/io); undefined when unreadable. */
export async function readWriteBytes(pid: number): Promise<number | undefined> {
  try {
    const io = await fs.readFile(`/proc/${pid}/io`, 'utf8');
    const v = Number(/^write_bytes:\s+(\d+)/m.exec(io)?.[1] ?? NaN);
    return Number.isFinite(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Samples processes at a fixed interval until stopped. */
export function sampleProcesses(pids: Record<string, number>, intervalMs: number) {
  const t0 = Date.now();
  const samples: Record<string, ProcSample[]> = Object.fromEntries(Object.keys(pids).map((k) => [k, []]));
  let n = 0;
  const take = async () => {
    const t = Date.now() - t0;
    const i = n++;
    for (const [name, pid] of Object.entries(pids)) {
      const s = await readProc(pid);
      const writeBytes = await readWriteBytes(pid);
      if (s) samples[name]!.push({ t, ...s, ...(writeBytes === undefined ? {} : { writeBytes }), ...(pid === process.pid ? heapSample(i) : {}) });
    }
  };
  void take();
  const timer = setInterval(() => void take(), intervalMs);
  return {
    samples,
    async stop(): Promise<Record<string, ProcSample[]>> {
      clearInterval(timer);
      await take();
      return samples;
    },
  };
}

/** Bytes this process has read through read()/pread() so far (/proc/self/io rchar, page cache included). */
export async function bytesReadSoFar(): Promise<number> {
  const io = await fs.readFile('/proc/self/io', 'utf8');
  return Number(/rchar:\s+(\d+)/.exec(io)?.[1] ?? NaN);
}
