/**
 * B10 Trino vs DuckDB for the same hour: one generated raw hour, byte for byte the same on both
 * lakes, curated and validated through the real activities (verify, register, curate, validate,
 * publish under MockActivityEnvironment) by the embedded DuckDB (local backend) and by a real
 * Trino 476 over moto's S3 and Glue (trino backend, the test stack of test/support/trino). Both
 * engines run with their backend's production poll defaults.
 *
 * Reported, not asserted: what one hour costs on each engine (engine and queue ms per step from
 * the activities' reports, which are the engines' own stats; activity wall ms; CPU seconds of the
 * process that ran the engine) and Trino's memory (RSS of its JVM, sampled). Each round runs the
 * hour on both engines, alternating which goes first, so load from other sessions falls on both;
 * a first round per engine is reported apart as the cold run (Trino's JIT and metadata caches).
 */
import { randomUUID } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createActivities } from '../activities';
import type { StagingResult, ValidationResult } from '../core/contracts/steps';
import { POLL_DEFAULTS, type PipelineConfig } from '../config/config';
import { parseHour } from '../core/hours';
import { generateHour } from '../generator/clickstreamGenerator';
import { writeRawHour } from '../generator/writeRawHour';
import type { LakeBackend } from '../lake/ports';
import { MOTO_BIN } from '../test/support/aws/motoServer';
import { findJava25, TRINO_VERSION, trinoInstallDir } from '../test/support/trino/trinoServer';
import { makeTrinoTestLake, stopTestTrinoStack, testTrinoStack, type TrinoTestLake } from '../test/support/trino/trinoStack';
import type { TestLake } from '../test/support/testLake';
import { BenchNotRunnable, type Benchmark, type BenchContext, type BenchOutput } from './lib/benchmark';
import { makeBenchLake, readProc, sampleProcesses } from './lib/harness';
import { mdTable } from './lib/results';
import { fmtSpread, round, spread, type Spread } from './lib/stats';

const HOUR = '2024-05-01T12';
type Engine = 'duckdb' | 'trino';
const ENGINES: Engine[] = ['duckdb', 'trino'];
type Step = 'verify' | 'register' | 'curate' | 'validate' | 'publish';
const STEPS: Step[] = ['verify', 'register', 'curate', 'validate', 'publish'];

interface StepSample {
  wallMs: number;
  /** Query steps only: the engine's own numbers, as the activity reports them. */
  engineMs?: number;
  queueMs?: number;
  statusCalls?: number;
}

interface HourSample {
  engine: Engine;
  round: number;
  cold: boolean;
  steps: Record<Step, StepSample>;
  /** verify → publish, as a worker would run the hour (without Temporal's dispatch). */
  wallMs: number;
  /** CPU seconds of the engine's process over curate + validate: this process for DuckDB, Trino's JVM for Trino. */
  engineCpuS: number;
  counts: ValidationResult['counts'];
  /** The raw hour's size as verify listed it. */
  rawBytes: number;
}

export const benchmark: Benchmark = {
  id: 'B10',
  name: 'b10-trino-vs-duckdb',
  title: 'Trino engine time per hour vs DuckDB for the same hour',
  run,
};

async function run(ctx: BenchContext): Promise<BenchOutput> {
  preflight();
  const events = ctx.quick ? 200 : 5_000;
  const files = ctx.quick ? 2 : 4;
  // Trino's JIT keeps warming for several hours' worth of queries, so the full run takes more rounds than the median needs.
  const warmRounds = ctx.quick ? 1 : 8;
  const generated = generateHour({ hour: parseHour(HOUR), events, seed: 1010, malformedRate: 0.01, duplicateRate: 0.01 });

  let local: TestLake | undefined;
  let trino: TrinoTestLake | undefined;
  let sampler: ReturnType<typeof sampleProcesses> | undefined;
  try {
    const t0 = Date.now();
    const stack = await testTrinoStack();
    const trinoStartMs = Date.now() - t0;
    const jvm = await javaPid(stack.trino.pid!);
    ctx.log(`Trino ${TRINO_VERSION} started in ${round(trinoStartMs / 1000)} s (JVM pid ${jvm})`);
    const rssAtStart = (await readProc(jvm))?.rssMB ?? NaN;
    sampler = sampleProcesses({ trino: jvm, bench: process.pid }, 500);
    local = await makeBenchLake();
    trino = await makeTrinoTestLake(stack, {
      overrides: {
        // Production's trino defaults, not the test lake's shortened polling.
        CLICKSTREAM_QUERY_POLL_INITIAL_MS: String(POLL_DEFAULTS.trino.initialMs),
        CLICKSTREAM_QUERY_POLL_MAX_MS: String(POLL_DEFAULTS.trino.maxMs),
        CLICKSTREAM_QUERY_POLL_MULTIPLIER: String(POLL_DEFAULTS.trino.multiplier),
      },
    });
    const lakes: Record<Engine, { config: PipelineConfig; backend: LakeBackend; cpuS: () => Promise<number> }> = {
      duckdb: { config: local.config, backend: local.backend, cpuS: async () => cpuSecondsOfThisProcess() },
      trino: { config: trino.config, backend: trino.backend, cpuS: async () => (await readProc(jvm))?.cpuS ?? NaN },
    };
    for (const e of ENGINES) await writeRawHour(lakes[e].backend.store, lakes[e].config.lake, parseHour(HOUR), generated.lines, { files });

    const samples: HourSample[] = [];
    // Round 0 is each engine's cold run; rounds 1..warmRounds alternate which engine goes first.
    for (let r = 0; r <= warmRounds; r++) {
      const order = r % 2 === 0 ? ENGINES : [...ENGINES].reverse();
      for (const engine of order) {
        const s = await runHour(engine, r, lakes[engine]);
        assertCounts(engine, s.counts, generated.expected);
        samples.push(s);
        ctx.log(
          `round ${r} ${engine}: wall ${round1(s.wallMs)} ms, curate engine ${s.steps.curate.engineMs} ms, validate engine ${s.steps.validate.engineMs} ms`,
        );
      }
    }
    const procs = await sampler.stop();
    sampler = undefined;
    const rawBytes = samples[0]!.rawBytes;
    return report(ctx, { hour: HOUR, events, files, rawBytes, warmRounds, trinoStartMs, rssAtStart, expected: generated.expected }, samples, procs);
  } finally {
    await sampler?.stop();
    await trino?.close();
    await local?.cleanup();
    await stopTestTrinoStack();
  }
}

/** B10 needs Trino (scripts/setup-trino.sh), Java 24+ and moto; without them it is "not run", as B6 is without moto. */
function preflight(): void {
  if (!existsSync(MOTO_BIN)) throw new BenchNotRunnable(`moto is not installed at ${MOTO_BIN}; run \`bash scripts/setup-moto.sh\``);
  if (!existsSync(path.join(trinoInstallDir(), '.installed'))) {
    throw new BenchNotRunnable(`Trino ${TRINO_VERSION} is not installed at ${trinoInstallDir()}; run \`bash scripts/setup-trino.sh\``);
  }
  try {
    findJava25();
  } catch (err) {
    throw new BenchNotRunnable((err as Error).message);
  }
}

/** One hour through the five activities on one engine; a new run id each round, so later rounds are re-runs (swap and cleanup included). */
async function runHour(engine: Engine, roundNo: number, lake: { config: PipelineConfig; backend: LakeBackend; cpuS: () => Promise<number> }): Promise<HourSample> {
  const activities = createActivities({ backend: lake.backend, layout: lake.config.lake, tables: lake.config.tables, poll: lake.config.engine.poll });
  const env = new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });
  const steps = {} as Record<Step, StepSample>;
  const timed = async <R>(step: Step, fn: () => Promise<R>): Promise<R> => {
    const t = performance.now();
    const r = await fn();
    steps[step] = { wallMs: performance.now() - t };
    return r;
  };
  const query = (step: Step, r: StagingResult | ValidationResult) => Object.assign(steps[step], { engineMs: r.engineMs, queueMs: r.queueMs, statusCalls: r.statusCalls });
  const call = <A, R>(fn: (a: A) => Promise<R>, a: A) => env.run(fn, a) as Promise<R>;

  const hour = HOUR;
  const runId = randomUUID();
  const t = performance.now();
  const manifest = await timed('verify', () => call(activities.verifyRawPartition, { hour }));
  await timed('register', () => call(activities.registerRawPartition, { hour }));
  const cpuBefore = await lake.cpuS();
  const staging = await timed('curate', () => call(activities.curateToStaging, { hour, rawPrefix: manifest.prefix, files: manifest.files, runId }));
  query('curate', staging);
  const validated = await timed('validate', () =>
    call(activities.validateStaging, { hour, rawPrefix: manifest.prefix, files: manifest.files, stagingLocation: staging.stagingLocation, runId }),
  );
  query('validate', validated);
  const engineCpuS = (await lake.cpuS()) - cpuBefore;
  await timed('publish', () => call(activities.publishPartition, { hour, stagingLocation: staging.stagingLocation, lineage: { validated: 'true', run_id: runId } }));
  return { engine, round: roundNo, cold: roundNo === 0, steps, wallMs: performance.now() - t, engineCpuS, counts: validated.counts, rawBytes: manifest.bytes };
}

/** A wrong count is a broken harness (or engine), not a finding: fail the run. */
function assertCounts(engine: Engine, actual: ValidationResult['counts'], expected: ValidationResult['counts']): void {
  const keys = ['rawLines', 'curatedRows', 'rejected', 'duplicates'] as const;
  if (keys.some((k) => actual[k] !== expected[k])) {
    throw new Error(`B10: ${engine} counted ${JSON.stringify(actual)}, the generator planted ${JSON.stringify(expected)}`);
  }
}

function cpuSecondsOfThisProcess(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** The JVM's pid: the launcher execs java (same pid, renamed trino-server-…), or else runs it as a child. */
async function javaPid(pid: number): Promise<number> {
  const exe = await fs.readlink(`/proc/${pid}/exe`).catch(() => '');
  if (path.basename(exe) === 'java') return pid;
  const children = (await fs.readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '')).trim().split(/\s+/).filter(Boolean).map(Number);
  for (const c of children) {
    const found = await javaPid(c).catch(() => undefined);
    if (found !== undefined) return found;
  }
  throw new Error(`B10: no java process at or under Trino's pid ${pid} (${exe || 'gone'})`);
}

const round1 = (n: number) => round(n, 1);

function report(
  ctx: BenchContext,
  params: { hour: string; events: number; files: number; rawBytes: number; warmRounds: number; trinoStartMs: number; rssAtStart: number; expected: ValidationResult['counts'] },
  samples: HourSample[],
  procs: Record<string, { t: number; rssMB: number; cpuS: number }[]>,
): BenchOutput {
  const warm = (e: Engine) => samples.filter((s) => s.engine === e && !s.cold);
  const cold = (e: Engine) => samples.find((s) => s.engine === e && s.cold)!;
  const med = (e: Engine, f: (s: HourSample) => number): Spread => spread(warm(e).map(f));
  const engineMs = (s: HourSample) => (s.steps.curate.engineMs ?? 0) + (s.steps.validate.engineMs ?? 0);
  const queueMs = (s: HourSample) => (s.steps.curate.queueMs ?? 0) + (s.steps.validate.queueMs ?? 0);
  const queryWallMs = (s: HourSample) => s.steps.curate.wallMs + s.steps.validate.wallMs;
  const ratio = (f: (s: HourSample) => number) => round(med('trino', f).median / med('duckdb', f).median, 1);

  const trinoRss = procs.trino ?? [];
  const rssMax = trinoRss.length ? Math.max(...trinoRss.map((p) => p.rssMB)) : NaN;
  const rssEnd = trinoRss.at(-1)?.rssMB ?? NaN;
  const benchRssMax = procs.bench?.length ? Math.max(...procs.bench.map((p) => p.rssMB)) : NaN;

  const stepRows = ENGINES.flatMap((e) =>
    STEPS.map((step) => {
      const ws = warm(e).map((s) => s.steps[step]);
      const isQuery = step === 'curate' || step === 'validate';
      return [
        e === 'duckdb' ? 'DuckDB (local)' : `Trino ${TRINO_VERSION}`,
        step,
        isQuery ? fmtSpread(spread(ws.map((w) => w.engineMs ?? NaN)), '', 0) : '–',
        isQuery ? fmtSpread(spread(ws.map((w) => w.queueMs ?? NaN)), '', 0) : '–',
        fmtSpread(spread(ws.map((w) => w.wallMs)), '', 0),
        isQuery ? fmtSpread(spread(ws.map((w) => w.statusCalls ?? NaN)), '', 0) : '–',
        isQuery ? `${cold(e).steps[step].engineMs} / ${round(cold(e).steps[step].wallMs, 0)}` : `– / ${round(cold(e).steps[step].wallMs, 0)}`,
      ];
    }),
  );
  const hourRows = ENGINES.map((e) => [
    e === 'duckdb' ? 'DuckDB (local)' : `Trino ${TRINO_VERSION}`,
    fmtSpread(med(e, engineMs), '', 0),
    fmtSpread(med(e, queueMs), '', 0),
    fmtSpread(med(e, queryWallMs), '', 0),
    fmtSpread(med(e, (s) => s.wallMs), '', 0),
    fmtSpread(med(e, (s) => s.engineCpuS), '', 2),
    `${engineMs(cold(e))} / ${round(cold(e).wallMs, 0)}`,
  ]);
  const mb = round(params.rawBytes / 1e6, 2);
  const measured =
    `engine ms per hour (curate + validate): Trino ${round(med('trino', engineMs).median, 0)} vs DuckDB ${round(med('duckdb', engineMs).median, 0)} (${ratio(engineMs)}×); ` +
    `hour wall ${round(med('trino', (s) => s.wallMs).median, 0)} vs ${round(med('duckdb', (s) => s.wallMs).median, 0)} ms; Trino RSS max ${round(rssMax, 0)} MB`;
  const markdown = [
    `One raw hour (${params.hour}: ${params.events.toLocaleString('en-US')} events, ${params.expected.rawLines} lines with 1% malformed and 1% duplicates, ${params.files} files, ${mb} MB), ` +
      `the same bytes on both lakes, through the real activities (verify, register, curate, validate, publish; MockActivityEnvironment, no Temporal dispatch). ` +
      `DuckDB: local backend, in this process. Trino ${TRINO_VERSION}: trino backend, a single-node server (2 GB heap) over moto's S3 and Glue on the same machine. ` +
      `Production poll defaults on both (local ${JSON.stringify(POLL_DEFAULTS.local)}, trino ${JSON.stringify(POLL_DEFAULTS.trino)}). ` +
      `${params.warmRounds} warm round${params.warmRounds === 1 ? "" : "s"}, each running the hour on both engines (alternating which goes first; each a re-run: new run id, partition swap, cleanup); ` +
      `the first run per engine is reported apart (cold). Both engines counted what the generator planted, every run. Reported, not asserted.`,
    '',
    'Per hour (medians (min–max) over the warm rounds; engine and queue ms are the engines\' own stats, as the activities report them; CPU is the engine process\'s over curate + validate: this Node process for DuckDB, Trino\'s JVM for Trino):',
    '',
    mdTable(['engine', 'engine ms (curate + validate)', 'queue ms', 'curate + validate activity wall ms', 'hour wall ms (5 steps)', 'engine CPU s', 'cold: engine ms / hour wall ms'], hourRows),
    '',
    `Same-run ratios, Trino / DuckDB (medians): engine ms ${ratio(engineMs)}×, curate + validate wall ${ratio(queryWallMs)}×, hour wall ${ratio((s) => s.wallMs)}×.`,
    '',
    `Engine ms per hour, round by round (cold first): ` +
      ENGINES.map((e) => `${e === 'duckdb' ? 'DuckDB' : 'Trino'} ${samples.filter((s) => s.engine === e).map(engineMs).join(', ')}`).join('; ') +
      '.',
    '',
    'Per step:',
    '',
    mdTable(['engine', 'step', 'engine ms', 'queue ms', 'activity wall ms', 'status calls', 'cold: engine ms / wall ms'], stepRows),
    '',
    `Trino's JVM RSS: ${round(params.rssAtStart, 0)} MB after start-up (${round(params.trinoStartMs / 1000, 1)} s to start), max ${round(rssMax, 0)} MB during the rounds, ` +
      `${round(rssEnd, 0)} MB at the end (sampled every 500 ms). For scale, this benchmark process (Node, DuckDB, the AWS SDK) peaked at ${round(benchRssMax, 0)} MB.`,
  ].join('\n');
  return {
    params,
    targets: [{ name: 'Trino vs DuckDB, same hour', target: 'reported, not asserted', measured, met: null, note: ctx.quick ? 'quick sizes' : undefined }],
    metrics: { samples, trinoRss, rssMax, rssEnd, benchRssMax },
    markdown,
  };
}
