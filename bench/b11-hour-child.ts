/**
 * B11's measured process: one raw hour through the five real activities (verify, register, curate,
 * validate, publish under MockActivityEnvironment), or one diagnostic statement (a "probe"), on a
 * lake folder that bench/b11-hour-memory.ts prepared. Alone in its process, so its peak RSS is the
 * hour's: the Node runtime, the activities and the embedded DuckDB, as in a worker, minus the
 * Temporal core.
 *
 * Peak RSS is the kernel's own high-water mark (VmHWM in /proc/self/status), reset before each step
 * (`5` written to /proc/self/clear_refs), so each step's peak is exact, not sampled. DuckDB's own
 * accounting (duckdb_memory(), what its buffer manager holds) is sampled every 250 ms beside it.
 *
 * Usage (by B11 only): node --import tsx bench/b11-hour-child.ts '<ChildSpec JSON>'. Prints one
 * line `B11RESULT <ChildResult JSON>` on stdout; an error in a step is a result, not a crash.
 */
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createActivities } from '../activities';
import type { ValidationResult } from '../core/contracts/steps';
import { parseHour } from '../core/hours';
import { rawHourPrefix, s3Uri } from '../core/locations';
import { makeBenchLake } from './lib/harness';

export type ChildSpec =
  | { mode: 'hour'; lakeDir: string; workDir: string; hour: string }
  /**
   * One statement on one connection after `settings` (SET ...), over the hour's raw files bound as
   * $<filesParam> (default $files), with $output_file in outputDir when given.
   */
  | { mode: 'probe'; lakeDir: string; workDir: string; hour: string; name: string; settings: string[]; sql: string; filesParam?: string; params?: Record<string, string>; outputDir?: string };

export interface StepResult {
  step: string;
  /** Epoch ms, so the parent can line its RSS samples up with the steps. */
  startMs: number;
  endMs: number;
  /** VmHWM over this step alone (MiB). */
  peakRssMB: number;
  /** duckdb_memory(): the largest total its buffer manager held during the step (MiB), sampled. */
  duckdbPeakMB: number;
  /** The tags holding the most at that moment, e.g. { ORDER_BY: 812 } (MiB). */
  duckdbPeakTags: Record<string, number>;
  /** duckdb_memory()'s temporary_storage_bytes at most: what DuckDB spilled to disk (MiB). */
  duckdbSpilledMB: number;
  engineMs?: number;
  error?: string;
}

export interface ChildResult {
  spec: ChildSpec;
  /** RSS after start-up (modules loaded, DuckDB created, tables ensured), before the hour (MiB). */
  baselineRssMB: number;
  /** VmHWM of start-up alone: tsx's transpiling and module loading (MiB). */
  startupPeakRssMB: number;
  steps: StepResult[];
  counts?: ValidationResult['counts'];
  rawBytes?: number;
  files?: number;
  /** DuckDB's memory_limit as the engine runs with it. */
  memoryLimit?: string;
  error?: string;
}

async function status(): Promise<{ rssMB: number; hwmMB: number }> {
  const text = await fs.readFile('/proc/self/status', 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(text)?.[1] ?? NaN);
  return { rssMB: kb('VmRSS') / 1024, hwmMB: kb('VmHWM') / 1024 };
}

/** Resets the peak RSS to the current RSS (Linux >= 4.0). */
async function resetPeak(): Promise<void> {
  await fs.writeFile('/proc/self/clear_refs', '5');
}

type Engine = Awaited<ReturnType<typeof makeBenchLake>>['backend']['engine'];

/** Samples duckdb_memory() on its own connection while a step runs; never overlaps itself. */
function duckdbSampler(engine: Engine) {
  let peak = 0;
  let peakTags: Record<string, number> = {};
  let spilled = 0;
  let busy = false;
  const take = async () => {
    if (busy) return;
    busy = true;
    try {
      const rows = await engine.runNow('SELECT tag, memory_usage_bytes, temporary_storage_bytes FROM duckdb_memory()');
      let total = 0;
      let temp = 0;
      const tags: Record<string, number> = {};
      for (const r of rows) {
        const mb = Number(r.memory_usage_bytes) / 2 ** 20;
        total += mb;
        temp += Number(r.temporary_storage_bytes) / 2 ** 20;
        if (mb >= 1) tags[String(r.tag)] = Math.round(mb);
      }
      if (total > peak) {
        peak = total;
        peakTags = tags;
      }
      spilled = Math.max(spilled, temp);
    } catch {
      // The engine closing under the sampler at the end: the samples so far stand.
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void take(), 250);
  return {
    async stop(): Promise<{ peakMB: number; tags: Record<string, number>; spilledMB: number }> {
      clearInterval(timer);
      while (busy) await new Promise((r) => setTimeout(r, 10));
      await take();
      return { peakMB: Math.round(peak), tags: peakTags, spilledMB: Math.round(spilled) };
    },
  };
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? '') as ChildSpec;
  // An in-memory DuckDB spills to '.tmp' under the working directory: keep that out of the repository.
  process.chdir(spec.workDir);
  const lake = await makeBenchLake({ CLICKSTREAM_LAKE_DIR: spec.lakeDir });
  const startup = await status();
  const result: ChildResult = { spec, baselineRssMB: Math.round(startup.rssMB), startupPeakRssMB: Math.round(startup.hwmMB), steps: [] };
  try {
    const [limit] = await lake.backend.engine.runNow(`SELECT current_setting('memory_limit') AS v`);
    result.memoryLimit = String(limit?.v);
    const engine = lake.backend.engine;
    /** Runs one step with its own peak RSS and DuckDB sampling; a thrown error ends the hour as a result. */
    const step = async <R>(name: string, fn: () => Promise<R>, engineMs?: (r: R) => number): Promise<R | undefined> => {
      await resetPeak();
      const sampler = duckdbSampler(engine);
      const startMs = Date.now();
      let r: R | undefined;
      let error: string | undefined;
      try {
        r = await fn();
      } catch (err) {
        error = describe(err);
      }
      const endMs = Date.now();
      const duck = await sampler.stop();
      const s = await status();
      result.steps.push({
        step: name,
        startMs,
        endMs,
        peakRssMB: Math.round(s.hwmMB),
        duckdbPeakMB: duck.peakMB,
        duckdbPeakTags: duck.tags,
        duckdbSpilledMB: duck.spilledMB,
        ...(r !== undefined && engineMs ? { engineMs: engineMs(r) } : {}),
        ...(error ? { error } : {}),
      });
      if (error) result.error = `${name}: ${error}`;
      return r;
    };

    if (spec.mode === 'hour') await runHour(lake, spec.hour, step, result);
    else await runProbe(lake, spec, step);
  } catch (err) {
    result.error = describe(err);
  } finally {
    await lake.cleanup();
  }
  process.stdout.write(`B11RESULT ${JSON.stringify(result)}\n`);
}

type StepFn = <R>(name: string, fn: () => Promise<R>, engineMs?: (r: R) => number) => Promise<R | undefined>;

/** verify → register → curate → validate → publish, as the hourly workflow orders them; stops at the first failure. */
async function runHour(lake: Awaited<ReturnType<typeof makeBenchLake>>, hour: string, step: StepFn, result: ChildResult): Promise<void> {
  const activities = createActivities({ backend: lake.backend, layout: lake.config.lake, tables: lake.config.tables, poll: lake.config.engine.poll });
  const env = new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });
  const call = <A, R>(fn: (a: A) => Promise<R>, a: A) => env.run(fn, a) as Promise<R>;
  const runId = randomUUID();
  const manifest = await step('verify', () => call(activities.verifyRawPartition, { hour }));
  if (!manifest) return;
  result.rawBytes = manifest.bytes;
  result.files = manifest.objects;
  if (!(await step('register', () => call(activities.registerRawPartition, { hour })))) return;
  const staging = await step('curate', () => call(activities.curateToStaging, { hour, rawPrefix: manifest.prefix, files: manifest.files, runId }), (s) => s.engineMs);
  if (!staging) return;
  const validated = await step(
    'validate',
    () => call(activities.validateStaging, { hour, rawPrefix: manifest.prefix, files: manifest.files, stagingLocation: staging.stagingLocation, runId }),
    (v) => v.engineMs,
  );
  if (!validated) return;
  result.counts = validated.counts;
  await step('publish', () => call(activities.publishPartition, { hour, stagingLocation: staging.stagingLocation, lineage: { validated: 'true', run_id: runId } }));
}

/** One diagnostic statement over the hour's raw files, on one connection after its settings. */
async function runProbe(lake: Awaited<ReturnType<typeof makeBenchLake>>, spec: Extract<ChildSpec, { mode: 'probe' }>, step: StepFn): Promise<void> {
  const { bucket } = lake.config.lake;
  const prefix = rawHourPrefix(lake.config.lake, parseHour(spec.hour));
  const files = (await lake.backend.store.list(bucket, prefix)).filter((o) => o.key.endsWith('.jsonl')).map((o) => s3Uri(bucket, o.key));
  const params: Record<string, string | string[]> = { ...spec.params, [spec.filesParam ?? 'files']: files };
  if (spec.outputDir) {
    await fs.mkdir(spec.outputDir, { recursive: true });
    params.output_file = `${spec.outputDir}/part-00000.parquet`;
  }
  await step(spec.name, () =>
    lake.backend.engine.withSession(async (run) => {
      for (const s of spec.settings) await run(s);
      return run(spec.sql, params);
    }),
  );
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const type = (err as { type?: string }).type;
  const cause = (err as { cause?: unknown }).cause;
  const causeText = cause instanceof Error && !err.message.includes(cause.message) ? ` (cause: ${cause.message})` : '';
  return `${type ? `${type}: ` : ''}${err.message}${causeText}`.slice(0, 2000);
}

main().then(
  // Explicit exit: DuckDB's and the SDK's handles must not keep the measured process alive.
  () => process.exit(0),
  (err) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(1);
  },
);
