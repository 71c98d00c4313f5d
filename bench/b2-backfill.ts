/**
 * B2 backfill throughput: the backfill workflow over 720 hours, then 8,760 (a year), tiny data
 * per hour, on the dev server with an in-process worker and the embedded engine. Reports
 * partitions/s, the largest history of any backfill run (the continue-as-new chain) and of any
 * hourly child (from visibility), and RSS/CPU of the worker process and of the dev server,
 * sampled over time. CPU seconds per partition, split between worker and server, show which side
 * bounds throughput on this 2-core machine. Beside the in-memory server the tests use, the same
 * backfills run on the dev server exactly as `npm start` starts it (a SQLite state file,
 * devserver/userDevServerOptions.ts), and on that server with other SQLite pragmas, so what the
 * pragmas cost and buy is measured in the same run.
 */
import { performance } from 'node:perf_hooks';
import type { Client } from '@temporalio/client';
import type { NativeConnection, WorkerOptions } from '@temporalio/worker';
import { startBackfill } from '../client/backfillStarter';
import { addHours, formatHour, parseHour } from '../core/hours';
import { WORKFLOW_TYPES } from '../core/ids';
import { stopTestTemporal, testTemporal } from '../test/support/temporalServer';
import { progressQuery } from '../workflows/backfill';
import type { Benchmark, BenchContext, BenchOutput } from './lib/benchmark';
import { hourRange, installQuietRuntime, makeBenchLake, sampleProcesses, seedHours, type ProcSample } from './lib/harness';
import { runChain } from './lib/history';
import { mdTable, type TargetCheck } from './lib/results';
import { pragmaText, startUserDevServer, type UserDevServer } from './lib/userDevServer';
import { dynamicConfigText, makeWorkerOn, OLD_POLL_OVERRIDES, remoteQuickStepsBundle, startBenchDevServer, STOCK_DYNAMIC_CONFIG, type BenchTemporal } from './lib/variants';
import { USER_SQLITE_PRAGMAS } from '../devserver/userDevServerOptions';
import { fmtSpread, percentile, round, slope, spread } from './lib/stats';

const TARGET_PARTITIONS_PER_S = 20;
const TARGET_BACKFILL_RUN_EVENTS = 4096;
const TARGET_HOURLY_EVENTS = 60;
/** "Flat": the fitted growth over the last half of the run stays under this share of the median RSS (and 10 MB). */
const FLAT_RSS_SHARE = 0.05;

interface Scenario {
  name: string;
  hours: number;
  concurrency: number;
  repeat: number;
  /**
   * production: what ships (targets are judged on these only); before: the three fixes undone
   * (bench/lib/variants.ts); fix: one fix alone on top of "before".
   */
  role: 'production' | 'before' | 'fix' | 'user';
  /** The workflows before fix 2 (quick steps as remote activities only) instead of production's. */
  remoteSteps?: boolean;
  /** On a second dev server with the stock dispatch rate (before fix 1). */
  stockServer?: boolean;
  /** The old local poll policy (before fix 3's policy part). */
  oldPoll?: boolean;
  /** Extra worker options (profiling only, from BENCH_B2_SCENARIOS). */
  workerOptions?: Partial<WorkerOptions>;
  /**
   * On the dev server as `npm start` starts it (a SQLite state file), with these pragmas instead
   * of the shipped ones when `pragmas` is set (a name of PRAGMA_SETS).
   */
  userServer?: { pragmas?: PragmaSet };
}

/** SQLite pragma sets measured against npm start's shipped ones (BENCH_B2_SCENARIOS: `720x16@user:wal-normal`). */
const PRAGMA_SETS = {
  /** Before issue 14: the server's own default, a rollback journal with synchronous=FULL. */
  'server-default': {},
  'wal-full': { journal_mode: 'wal', synchronous: 'full' },
  'wal-normal': { journal_mode: 'wal', synchronous: 'normal' },
  'wal-off': { journal_mode: 'wal', synchronous: 'off' },
} satisfies Record<string, Record<string, string>>;
type PragmaSet = keyof typeof PRAGMA_SETS;

const USER = 'npm start\'s server';
const userName = (hours: number, concurrency: number, pragmas?: PragmaSet) =>
  `${hours.toLocaleString('en-US')} h, concurrency ${concurrency}, ${USER}${pragmas ? ` with ${pragmaText(PRAGMA_SETS[pragmas])}` : ''}`;
const userScenario = (hours: number, concurrency: number, repeat: number, pragmas?: PragmaSet): Scenario => ({
  name: userName(hours, concurrency, pragmas),
  hours,
  concurrency,
  repeat,
  role: 'user',
  userServer: { pragmas },
});

/** The "before" of fixes 1-3 (bench/README.md). */
const BEFORE = { role: 'before', remoteSteps: true, stockServer: true, oldPoll: true } as const;

/** The server a run uses: its client and worker connection, and its process for CPU/RSS sampling. */
interface Server {
  client: Client;
  nativeConnection: NativeConnection;
  pid: number;
}

interface RunResult {
  scenario: string;
  hours: number;
  concurrency: number;
  wallS: number;
  partitionsPerS: number;
  succeeded: number;
  failed: number;
  backfillRuns: number;
  maxBackfillRunEvents: number;
  /**
   * From the backfill runs' histories: the parent's workflow tasks, and the share of its wall time
   * with one scheduled or running. Near 100% means the single parent workflow paces the backfill.
   */
  parent: { workflowTasks: number; childrenPerWorkflowTask: number; busyShare: number; meanTaskMs: number };
  hourlyEvents: { max: number; p50: number; counted: number };
  cpuPerPartitionMs: { worker: number; server: number };
  /** The server's kernel CPU (of `server` above) and the bytes it wrote to storage, per partition. */
  serverSysMsPerPartition: number;
  serverWriteKBPerPartition: number;
  rss: { worker: RssSummary; server: RssSummary };
  samples: { worker: ProcSample[]; server: ProcSample[] };
}

interface RssSummary {
  startMB: number;
  maxMB: number;
  endMB: number;
  medianLastHalfMB: number;
  /** Least-squares growth across the last half of the run, MB. */
  lastHalfGrowthMB: number;
  flat: boolean;
  /**
   * Worker only: the V8 heap's floor per quarter of the run, MB: the lowest heapUsed, from the
   * samples taken right after a forced full GC when run with --expose-gc (else from all samples,
   * where old-generation garbage awaiting a major GC makes floors creep up without a leak).
   */
  heapFloorsMB?: number[];
  heapFloorsAfterGc?: boolean;
}

export const benchmark: Benchmark = {
  id: 'B2',
  name: 'b2-backfill',
  title: 'Backfill throughput (720 hours, then 8,760)',
  run,
};

/**
 * BENCH_B2_SCENARIOS="720x16,8760x16x1" (hours x concurrency [x repeats]) replaces the default
 * scenarios: for profiling one shape with --cpu-prof without running the whole set. A part may end
 * with worker options as JSON, to compare a worker setting in the same run (parts are then
 * separated by ";"): BENCH_B2_SCENARIOS='720x16x1;720x16x1{"workflowThreadPoolSize":2}'.
 * `@user` runs a part on npm start's dev server, `@user:wal-normal` with a pragma set of
 * PRAGMA_SETS; parts named alike are one scenario, so '720x16@user;720x16@user:wal-off;720x16@user'
 * interleaves the two servers.
 */
function scenariosFromEnv(spec: string): Scenario[] {
  return spec.split(spec.includes(';') ? ';' : ',').map((part) => {
    const brace = part.indexOf('{');
    const head = brace >= 0 ? part.slice(0, brace) : part;
    const workerOptions = brace >= 0 ? (JSON.parse(part.slice(brace)) as Partial<WorkerOptions>) : undefined;
    const [shape, server] = head.trim().split('@');
    const [hours, concurrency, repeat] = shape!.split('x').map(Number);
    if (!Number.isInteger(hours) || !Number.isInteger(concurrency)) throw new Error(`BENCH_B2_SCENARIOS: "${part}" is not hours x concurrency [x repeats] [@user[:pragmas]] [{worker options}]`);
    if (server !== undefined) {
      const [where, pragmas] = server.split(':');
      if (where !== 'user' || (pragmas !== undefined && !(pragmas in PRAGMA_SETS))) {
        throw new Error(`BENCH_B2_SCENARIOS: "${part}": after @ comes user or user:<${Object.keys(PRAGMA_SETS).join('|')}>`);
      }
      if (workerOptions) throw new Error(`BENCH_B2_SCENARIOS: "${part}": worker options are for the in-memory server only`);
      return userScenario(hours!, concurrency!, repeat ?? 1, pragmas as PragmaSet | undefined);
    }
    const name = `${hours!.toLocaleString('en-US')} h, concurrency ${concurrency}${workerOptions ? `, worker ${JSON.stringify(workerOptions)}` : ''}`;
    return { name, hours: hours!, concurrency: concurrency!, repeat: repeat ?? 1, role: 'production', workerOptions };
  });
}

async function run(ctx: BenchContext): Promise<BenchOutput> {
  installQuietRuntime();
  const fromEnv = process.env.BENCH_B2_SCENARIOS;
  const scenarios: Scenario[] = fromEnv
    ? scenariosFromEnv(fromEnv)
    : ctx.quick
      ? [
          { name: 'quick', hours: 24, concurrency: 4, repeat: 1, role: 'production' },
          { name: 'quick, before fixes 1–3', hours: 24, concurrency: 4, repeat: 1, ...BEFORE },
          userScenario(24, 4, 1),
          userScenario(24, 4, 1, 'server-default'),
        ]
      : [
          { name: '720 h, concurrency 4 (default)', hours: 720, concurrency: 4, repeat: 2, role: 'production' },
          { name: '720 h, concurrency 4 (default), before fixes 1–3', hours: 720, concurrency: 4, repeat: 1, ...BEFORE },
          { name: '720 h, concurrency 16', hours: 720, concurrency: 16, repeat: 2, role: 'production' },
          { name: '720 h, concurrency 16, before fixes 1–3', hours: 720, concurrency: 16, repeat: 2, ...BEFORE },
          { name: '720 h, concurrency 16, before + fix 1 only (dispatch rate)', hours: 720, concurrency: 16, repeat: 1, ...BEFORE, role: 'fix', stockServer: false },
          { name: '720 h, concurrency 16, before + fix 2 only (local quick steps)', hours: 720, concurrency: 16, repeat: 1, ...BEFORE, role: 'fix', remoteSteps: false },
          { name: '720 h, concurrency 32', hours: 720, concurrency: 32, repeat: 2, role: 'production' },
          { name: '720 h, concurrency 64 (the maximum)', hours: 720, concurrency: 64, repeat: 1, role: 'production' },
          { name: '8,760 h, concurrency 16', hours: 8760, concurrency: 16, repeat: 1, role: 'production' },
          // What users run, and the pragmas side by side, interleaved run by run (load drifts).
          userScenario(720, 4, 2),
          ...interleave([userScenario(720, 16, 1), userScenario(720, 16, 1, 'server-default'), userScenario(720, 16, 1, 'wal-full'), userScenario(720, 16, 1, 'wal-off')], 2),
        ];
  const t = await testTemporal();
  const results: RunResult[] = [];
  const skipped: string[] = [];
  let stock: BenchTemporal | undefined;
  // One npm start server per pragma set, kept for the whole run, as a user's keeps its state.
  const userServers = new Map<string, UserDevServer>();
  const userServer = async (pragmas?: PragmaSet) => {
    const key = pragmas ?? 'shipped';
    if (!userServers.has(key)) userServers.set(key, await startUserDevServer(pragmas ? { sqlitePragmas: PRAGMA_SETS[pragmas] } : {}));
    return userServers.get(key)!;
  };
  try {
    // Each run gets its own lake, task queue and hour range (all in the past), so nothing is already published.
    let first = parseHour('2000-01-01T00');
    for (const sc of scenarios) {
      if (sc.remoteSteps) {
        const v = await remoteQuickStepsBundle();
        if (!v.available) {
          skipped.push(`${sc.name}: ${v.reason}`);
          continue;
        }
      }
      if (sc.stockServer) stock ??= await startBenchDevServer(STOCK_DYNAMIC_CONFIG);
      const server: Server = sc.userServer
        ? await userServer(sc.userServer.pragmas)
        : sc.stockServer
          ? stock!
          : { client: t.client, nativeConnection: t.nativeConnection, pid: t.server.process.pid! };
      for (let r = 0; r < sc.repeat; r++) {
        results.push(await runOnce(ctx, server, sc, formatHour(first), ctx.quick ? 250 : 1000));
        first = addHours(first, sc.hours + 24);
      }
    }
  } finally {
    await stock?.stop();
    for (const s of userServers.values()) await s.stop();
    await stopTestTemporal();
  }
  // Parts named alike (interleaved runs of one scenario) are one scenario in the report.
  const measured = scenarios.filter((sc, i) => results.some((r) => r.scenario === sc.name) && scenarios.findIndex((o) => o.name === sc.name) === i);
  return report(ctx, measured, results, skipped);
}

async function runOnce(ctx: BenchContext, t: Server, sc: Scenario, first: string, sampleMs: number): Promise<RunResult> {
  const lake = await makeBenchLake(sc.oldPoll ? OLD_POLL_OVERRIDES : {});
  try {
    const hours = hourRange(first, sc.hours);
    ctx.log(`${sc.name}: seeding ${hours.length} tiny raw hours from ${first}`);
    await seedHours(lake, hours, { rows: 5 });
    const variant = sc.remoteSteps ? await remoteQuickStepsBundle() : undefined;
    const worker = await makeWorkerOn(t, lake, variant?.available ? variant.bundle : undefined, sc.workerOptions);
    const serverPid = t.pid;
    const sampler = sampleProcesses({ worker: process.pid, server: serverPid }, sampleMs);
    const t0 = performance.now();
    const { result, handle } = await worker.runUntil(async () => {
      const handle = await startBackfill(t.client, lake.config, {
        from: hours[0]!,
        to: hours[hours.length - 1]!,
        concurrency: sc.concurrency,
        allowLargeRange: sc.hours > 24 * 92,
      });
      const progress = setInterval(() => {
        handle
          .query(progressQuery)
          .then((p) => ctx.log(`  ${p.succeeded + p.failed}/${p.total} done, ${p.running} running, ${p.continuedAsNew} continue-as-new, ${p.throughputPerMinute}/min`))
          .catch(() => undefined);
      }, 15_000);
      try {
        return { result: await handle.result(), handle };
      } finally {
        clearInterval(progress);
      }
    });
    const wallS = (performance.now() - t0) / 1000;
    const samples = await sampler.stop();
    const chain = await runChain(t.client, handle.workflowId);
    const hourly = await hourlyHistoryLengths(t, lake.config.temporal.taskQueue, result.succeeded + result.failed);
    const cpu = (s: ProcSample[], key: 'cpuS' | 'sysS' | 'writeBytes' = 'cpuS') => (s.length > 1 ? (s[s.length - 1]![key] ?? NaN) - (s[0]![key] ?? NaN) : NaN);
    const out: RunResult = {
      scenario: sc.name,
      hours: sc.hours,
      concurrency: sc.concurrency,
      wallS,
      partitionsPerS: result.succeeded / wallS,
      succeeded: result.succeeded,
      failed: result.failed,
      backfillRuns: chain.length,
      maxBackfillRunEvents: Math.max(...chain.map((c) => c.events)),
      parent: parentLoad(chain, result.succeeded + result.failed),
      hourlyEvents: { max: Math.max(...hourly), p50: percentile(hourly, 50), counted: hourly.length },
      cpuPerPartitionMs: { worker: (cpu(samples.worker!) / result.succeeded) * 1000, server: (cpu(samples.server!) / result.succeeded) * 1000 },
      serverSysMsPerPartition: (cpu(samples.server!, 'sysS') / result.succeeded) * 1000,
      serverWriteKBPerPartition: cpu(samples.server!, 'writeBytes') / result.succeeded / 1024,
      rss: { worker: rssSummary(samples.worker!), server: rssSummary(samples.server!) },
      samples: { worker: samples.worker!, server: samples.server! },
    };
    if (result.failed > 0) throw new Error(`B2: ${result.failed} hours failed in "${sc.name}": ${JSON.stringify(result.failedHours.slice(0, 3))}`);
    ctx.log(
      `${sc.name}: ${round(out.partitionsPerS, 2)} partitions/s, ${out.backfillRuns} backfill runs (max ${out.maxBackfillRunEvents} events), ` +
        `hourly max ${out.hourlyEvents.max} events, worker RSS ${round(out.rss.worker.startMB, 0)}→${round(out.rss.worker.endMB, 0)} MB, ` +
        `CPU ms per partition worker ${round(out.cpuPerPartitionMs.worker, 0)} / server ${round(out.cpuPerPartitionMs.server, 0)} (kernel ${round(out.serverSysMsPerPartition, 0)}), ` +
        `server wrote ${round(out.serverWriteKBPerPartition, 0)} KB per partition`,
    );
    return out;
  } finally {
    await lake.cleanup();
  }
}

/** Each scenario once per round, `rounds` times: runs of the compared setups alternate, so a load change hits them alike. */
function interleave(scenarios: Scenario[], rounds: number): Scenario[] {
  return Array.from({ length: rounds }, () => scenarios).flat();
}

function parentLoad(chain: Awaited<ReturnType<typeof runChain>>, children: number): RunResult['parent'] {
  const tasks = chain.reduce((s, c) => s + c.profile.workflowTasks, 0);
  const busy = chain.reduce((s, c) => s + c.profile.workflowTaskMs, 0);
  const span = chain.reduce((s, c) => s + c.profile.totalMs, 0);
  return { workflowTasks: tasks, childrenPerWorkflowTask: children / tasks, busyShare: busy / span, meanTaskMs: busy / tasks };
}

/** History lengths of every hourly run on the task queue, from visibility (waits for it to catch up). */
async function hourlyHistoryLengths(t: Server, taskQueue: string, expected: number): Promise<number[]> {
  const query = `WorkflowType = '${WORKFLOW_TYPES.hourly}' AND TaskQueue = '${taskQueue}' AND ExecutionStatus != 'Running'`;
  const deadline = Date.now() + 60_000;
  while ((await t.client.workflow.count(query)).count < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));
  const lengths: number[] = [];
  for await (const wf of t.client.workflow.list({ query, pageSize: 1000 })) lengths.push(wf.historyLength);
  return lengths;
}

function rssSummary(samples: ProcSample[]): RssSummary {
  const half = samples.slice(Math.floor(samples.length / 2));
  const growthPerMs = slope(half.map((s) => ({ x: s.t, y: s.rssMB })));
  const spanMs = half.length > 1 ? half[half.length - 1]!.t - half[0]!.t : 0;
  const medianLastHalfMB = percentile(half.map((s) => s.rssMB), 50);
  const lastHalfGrowthMB = growthPerMs * spanMs;
  const afterGc = samples.some((s) => s.afterGc);
  const heap = samples.filter((s) => s.heapUsedMB !== undefined && (!afterGc || s.afterGc));
  const quarters = heap.length >= 4 ? [0, 1, 2, 3].map((q) => Math.min(...heap.slice(Math.floor((q * heap.length) / 4), Math.floor(((q + 1) * heap.length) / 4)).map((s) => s.heapUsedMB!))) : undefined;
  return {
    startMB: samples[0]?.rssMB ?? NaN,
    maxMB: Math.max(...samples.map((s) => s.rssMB)),
    endMB: samples[samples.length - 1]?.rssMB ?? NaN,
    medianLastHalfMB,
    lastHalfGrowthMB,
    flat: lastHalfGrowthMB < Math.max(10, FLAT_RSS_SHARE * medianLastHalfMB),
    heapFloorsMB: quarters,
    heapFloorsAfterGc: afterGc,
  };
}

/** RSS over the run in ~12 buckets: a sparkline-like row for the summary. */
function rssTrail(samples: ProcSample[], buckets = 12): string {
  if (samples.length === 0) return '';
  const out: number[] = [];
  for (let b = 0; b < buckets; b++) {
    const slice = samples.slice(Math.floor((b * samples.length) / buckets), Math.max(Math.floor(((b + 1) * samples.length) / buckets), Math.floor((b * samples.length) / buckets) + 1));
    out.push(round(Math.max(...slice.map((s) => s.rssMB)), 0));
  }
  return out.join(' ');
}

function report(ctx: BenchContext, scenarios: Scenario[], results: RunResult[], skipped: string[]): BenchOutput {
  const by = (name: string) => results.filter((r) => r.scenario === name);
  const rows = scenarios.map((sc) => {
    const rs = by(sc.name);
    return [
      sc.name,
      rs.length,
      fmtSpread(spread(rs.map((r) => r.partitionsPerS)), '', 2),
      fmtSpread(spread(rs.map((r) => r.wallS)), ' s', 0),
      Math.max(...rs.map((r) => r.backfillRuns)),
      Math.max(...rs.map((r) => r.maxBackfillRunEvents)),
      `${Math.max(...rs.map((r) => r.hourlyEvents.max))} (p50 ${percentile(rs.map((r) => r.hourlyEvents.p50), 50)})`,
      `${round(percentile(rs.map((r) => r.parent.busyShare * 100), 50), 0)}% (${round(percentile(rs.map((r) => r.parent.meanTaskMs), 50), 0)} ms/task, ${round(percentile(rs.map((r) => r.parent.childrenPerWorkflowTask), 50), 2)} children/task)`,
      `${round(percentile(rs.map((r) => r.cpuPerPartitionMs.worker), 50), 0)} / ${round(percentile(rs.map((r) => r.cpuPerPartitionMs.server), 50), 0)}`,
    ];
  });
  const rssRows = results.map((r) => [
    `${r.scenario}`,
    `${round(r.rss.worker.startMB, 0)} → max ${round(r.rss.worker.maxMB, 0)} → ${round(r.rss.worker.endMB, 0)}; last half ${r.rss.worker.lastHalfGrowthMB >= 0 ? '+' : ''}${round(r.rss.worker.lastHalfGrowthMB, 1)} MB ${r.rss.worker.flat ? '(flat)' : '(**growing**)'}`,
    rssTrail(r.samples.worker),
    r.rss.worker.heapFloorsMB
      ? `${r.rss.worker.heapFloorsMB.map((m) => round(m, 0)).join(' ')}${r.rss.worker.heapFloorsAfterGc ? ' (after full GC)' : ' (no forced GC: creeps without a leak)'}`
      : 'n/a (run too short)',
    `${round(r.rss.server.startMB, 0)} → ${round(r.rss.server.endMB, 0)}; last half ${round(r.rss.server.lastHalfGrowthMB, 1)} MB`,
  ]);

  // Targets are judged on production runs only; "before" and single-fix runs are reported beside them.
  const roleOf = (name: string) => scenarios.find((sc) => sc.name === name)?.role;
  // A run of npm start's server alone (BENCH_B2_SCENARIOS='720x16@user') is judged on what it ran.
  const production = results.some((r) => roleOf(r.scenario) === 'production') ? results.filter((r) => roleOf(r.scenario) === 'production') : results;
  const median = (name: string) => percentile(by(name).map((r) => r.partitionsPerS), 50);
  const bestScenario = scenarios.filter((sc) => sc.role === 'production' && sc.hours === 720).sort((x, y) => median(y.name) - median(x.name))[0];
  const best = bestScenario ? median(bestScenario.name) : Math.max(...production.map((r) => r.partitionsPerS));
  const maxBackfill = Math.max(...production.map((r) => r.maxBackfillRunEvents));
  const maxHourly = Math.max(...production.map((r) => r.hourlyEvents.max));
  const longest = [...production].sort((a, b) => b.hours - a.hours)[0]!;
  const judged = !ctx.quick;
  // Before -> after, per concurrency where both were measured, and each fix alone against "before".
  const beforeAfter = scenarios
    .filter((sc) => sc.role === 'before')
    .map((before) => {
      const after = scenarios.find((sc) => sc.role === 'production' && sc.hours === before.hours && sc.concurrency === before.concurrency);
      const fixes = scenarios.filter((sc) => sc.role === 'fix' && sc.hours === before.hours && sc.concurrency === before.concurrency);
      const b = median(before.name);
      return [
        [`${before.hours} h, concurrency ${before.concurrency}: before fixes 1–3`, round(b, 2), '1.00×', hourlyP50(by(before.name)), parentText(by(before.name))],
        ...fixes.map((f) => [`… ${f.name.replace(/^.*before \+ /, '')}`, round(median(f.name), 2), `${round(median(f.name) / b, 2)}×`, hourlyP50(by(f.name)), parentText(by(f.name))]),
        ...(after ? [[`**production (fixes 1–3)**`, round(median(after.name), 2), `${round(median(after.name) / b, 2)}×`, hourlyP50(by(after.name)), parentText(by(after.name))]] : []),
      ];
    })
    .flat();
  // npm start's server (persistent state) against the in-memory one at the same shape, and its pragmas side by side.
  const userRows = scenarios
    .filter((sc) => sc.role === 'user')
    .map((sc) => {
      const rs = by(sc.name);
      const memory = scenarios.find((o) => o.role === 'production' && o.hours === sc.hours && o.concurrency === sc.concurrency);
      const shipped = scenarios.find((o) => o.role === 'user' && !o.userServer?.pragmas && o.hours === sc.hours && o.concurrency === sc.concurrency);
      const m = (f: (r: RunResult) => number) => percentile(rs.map(f), 50);
      const worker = m((r) => r.cpuPerPartitionMs.worker);
      const server = m((r) => r.cpuPerPartitionMs.server);
      return [
        sc.name,
        rs.length,
        fmtSpread(spread(rs.map((r) => r.partitionsPerS)), '', 2),
        memory ? `${round(median(sc.name) / median(memory.name), 2)}×` : '–',
        shipped && shipped !== sc ? `${round(median(sc.name) / median(shipped.name), 2)}×` : '–',
        `${round(worker / 1000, 3)} / ${round(server / 1000, 3)} / ${round((worker + server) / 1000, 3)}`,
        round(m((r) => r.serverSysMsPerPartition), 0),
        round(m((r) => r.serverWriteKBPerPartition), 0),
      ];
    });
  const targets: TargetCheck[] = [
    {
      name: 'backfill partitions/s on 2 cores',
      target: `≥ ${TARGET_PARTITIONS_PER_S}`,
      measured:
        (bestScenario ? `${round(best, 2)} at the best concurrency measured (${bestScenario.name}); ` : '') +
        scenarios
          .filter((sc) => sc.role === 'production' && sc !== bestScenario)
          .map((sc) => `${sc.name}: ${round(median(sc.name), 2)}`)
          .join('; '),
      note: scenarios.filter((sc) => sc.role !== 'production').map((sc) => `${sc.name}: ${round(median(sc.name), 2)}`).join('; '),
      met: judged ? best >= TARGET_PARTITIONS_PER_S : null,
    },
    { name: 'max history events of any backfill run', target: `≤ ${TARGET_BACKFILL_RUN_EVENTS}`, measured: String(maxBackfill), met: judged ? maxBackfill <= TARGET_BACKFILL_RUN_EVENTS : null },
    { name: 'max history events of any hourly run', target: `≤ ${TARGET_HOURLY_EVENTS}`, measured: String(maxHourly), met: judged ? maxHourly <= TARGET_HOURLY_EVENTS : null },
    {
      name: `worker RSS flat over the last half (${longest.scenario})`,
      target: `growth < max(10 MB, ${FLAT_RSS_SHARE * 100}% of median)`,
      measured: `${round(longest.rss.worker.lastHalfGrowthMB, 1)} MB over the last half (median ${round(longest.rss.worker.medianLastHalfMB, 0)} MB)`,
      met: judged ? longest.rss.worker.flat : null,
      note:
        longest.rss.worker.heapFloorsAfterGc && longest.rss.worker.heapFloorsMB
          ? `V8 heap after a full GC, per quarter: ${longest.rss.worker.heapFloorsMB.map((m) => round(m, 0)).join(', ')} MB` +
            (longest.rss.worker.lastHalfGrowthMB > 0 ? ': any growth is native (bench/README.md, section 5)' : '')
          : undefined,
    },
  ];
  const markdown = [
    'Tiny hours (5 rows, 1 file); the backfill workflow with its default history budget; one in-process worker (production worker wiring, ' +
      'engine slots at their defaults) on the dev server. CPU per partition is CPU-seconds consumed by the worker process and by the dev server, ' +
      'divided by partitions published. The throughput target is judged on production at the best concurrency measured over 720 h ' +
      '(the default backfill concurrency is 4; an operator sets `--concurrency` up to 64), medians over the runs.',
    '',
    `"Before fixes 1–3" is the previous production rebuilt in the same run (bench/lib/variants.ts): a second dev server with ${dynamicConfigText(STOCK_DYNAMIC_CONFIG)} ` +
      '(the stock rate), the hourly workflow with verify, register and publish as remote activities only, and the old 10 → 50 ms first poll ' +
      '(the old immediate status call after start is not rebuilt: one extra status call per query, no wait). "Fix n only" is "before" with that one fix.',
    '',
    ...(beforeAfter.length
      ? [mdTable(['same run', 'partitions/s (median)', 'vs before', 'events per hourly run (p50)', 'parent busy (ms/task)'], beforeAfter), '']
      : []),
    ...(userRows.length
      ? [
          `**What users run**: the dev server exactly as \`npm start\` starts it (devserver/userDevServerOptions.ts: a SQLite state file, the Web UI, shipped pragmas: ${pragmaText(USER_SQLITE_PRAGMAS)}), ` +
            'with its state in a fresh folder on the same disk as the benchmark, kept across the runs of a scenario as a user\'s is; other pragma sets on their own servers of the same kind, interleaved run by run. ' +
            'CPU-seconds per partition: the worker (this process: workflows, activities, DuckDB) and the dev server (its process) apart; the server\'s kernel CPU and the bytes it caused to be written to storage (/proc/<pid>/io write_bytes) show what its state file costs.',
          '',
          mdTable(
            ['scenario', 'runs', 'partitions/s', 'vs in-memory server, same shape', 'vs shipped pragmas', 'CPU-s per partition: worker / server / total', 'server kernel CPU ms per partition', 'server KB written per partition'],
            userRows,
          ),
          '',
        ]
      : []),
    mdTable(
      ['scenario', 'runs', 'partitions/s', 'wall', 'backfill runs (continue-as-new chain)', 'max events in a backfill run', 'max events in an hourly run', 'parent busy (a workflow task scheduled or running)', 'CPU ms per partition: worker / server'],
      rows,
    ),
    '',
    'RSS over time (MB):',
    '',
    ...(skipped.length ? [`Not measured: ${skipped.join('; ')}.`, ''] : []),
    mdTable(['run', 'worker: start → max → end; trend over the last half', 'worker, max per twelfth of the run', 'worker V8 heap floor per quarter', 'dev server (in-memory SQLite: grows with stored histories)'], rssRows),
  ].join('\n');
  return {
    params: { scenarios, rowsPerHour: 5 },
    targets,
    metrics: {
      runs: results.map(({ samples, ...r }) => ({ ...r, samples: { worker: thin(samples.worker), server: thin(samples.server) } })),
    },
    markdown,
  };
}

function hourlyP50(rs: RunResult[]): number {
  return percentile(rs.map((r) => r.hourlyEvents.p50), 50);
}

function parentText(rs: RunResult[]): string {
  return `${round(percentile(rs.map((r) => r.parent.busyShare * 100), 50), 0)}% (${round(percentile(rs.map((r) => r.parent.meanTaskMs), 50), 0)} ms)`;
}

/** At most ~300 samples per series in the JSON. */
function thin(samples: ProcSample[]): ProcSample[] {
  const step = Math.max(1, Math.ceil(samples.length / 300));
  return samples.filter((_, i) => i % step === 0);
}
