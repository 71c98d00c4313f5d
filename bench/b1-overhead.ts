/**
 * B1 orchestration overhead per hour: the hourly workflow on the dev server with the embedded
 * engine, one hour at a time, wall time (client start -> result) minus engine time (the two
 * queries' engine + queue ms). Beside it, in the same run: the same five activities called
 * directly in-process (no Temporal), so "what Temporal adds" is a difference measured side by
 * side, and each hour's event history split into dispatch / workflow tasks / activity bodies.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { MockActivityEnvironment } from '@temporalio/testing';
import * as path from 'node:path';
import { bundleWorkflowCode, DefaultLogger, Worker } from '@temporalio/worker';
import { createActivities } from '../activities';
import type { Client } from '@temporalio/client';
import { startHour } from '../client/hourlyStarter';
import { temporalHourRunHistory } from '../client/hourRunHistory';
import { makeWorker } from '../test/support/pipelineWorker';
import type { TestLake } from '../test/support/testLake';
import type { PipelineWorker } from '../workers/createPipelineWorker';
import { stopTestTemporal, testTemporal } from '../test/support/temporalServer';
import type { Benchmark, BenchContext, BenchOutput } from './lib/benchmark';
import { hourRange, installQuietRuntime, makeBenchLake, seedHours } from './lib/harness';
import { fetchEvents, profileHistory, type HistoryProfile } from './lib/history';
import { mdTable } from './lib/results';
import { localQuickStepsBundle, makeWorkerOn, startTunedDevServer, TUNED_DYNAMIC_CONFIG, type TunedTemporal } from './lib/variants';
import { fmtSpread, mean, percentile, round, spread } from './lib/stats';

const TARGET_P50_MS = 100;

interface FloorShape {
  remote: number;
  local: number;
}

/** The hourly workflow's shape (5 activities) as it is, and with the 3 quick lake steps as local activities. */
const FLOOR_SHAPES: { name: string; label: string; shape: FloorShape; tuned?: boolean }[] = [
  { name: 'empty', label: 'empty workflow (start → result only)', shape: { remote: 0, local: 0 } },
  { name: 'remote5', label: '5 remote no-op activities (the hourly shape today)', shape: { remote: 5, local: 0 } },
  { name: 'remote2local3', label: '2 remote + 3 local no-op activities', shape: { remote: 2, local: 3 } },
  { name: 'remote5tuned', label: '5 remote no-op activities, tuned dev server', shape: { remote: 5, local: 0 }, tuned: true },
];

interface HourSample {
  hour: string;
  wallMs: number;
  engineMs: number;
  overheadMs: number;
  /** The two query activities' run time minus their engine time: poll detection delay plus activity plumbing. */
  pollSlackMs: number;
  statusCalls: number;
  profile: HistoryProfile;
}

interface DirectSample {
  hour: string;
  wallMs: number;
  engineMs: number;
}

export const benchmark: Benchmark = {
  id: 'B1',
  name: 'b1-overhead',
  title: 'Orchestration overhead per hour',
  run,
};

async function run(ctx: BenchContext): Promise<BenchOutput> {
  installQuietRuntime();
  const rounds = ctx.quick ? 1 : 3;
  const perRound = ctx.quick ? 6 : 50;
  const perPrototype = Math.max(2, Math.floor(perRound / 2));
  const warmup = ctx.quick ? 2 : 5;
  const rows = 50;

  const t = await testTemporal();
  const lakes: TestLake[] = [];
  let tuned: TunedTemporal | undefined;
  try {
    const lake = await makeBenchLake();
    lakes.push(lake);
    // Distinct hours for warm-up, direct calls and workflows, so nothing is re-published.
    const all = hourRange('2023-01-01T00', warmup + rounds * perRound * 2);
    await seedHours(lake, all, { rows });
    const warm = all.slice(0, warmup);
    const blocks = Array.from({ length: rounds }, (_, r) => {
      const start = warmup + r * perRound * 2;
      return { direct: all.slice(start, start + perRound), workflow: all.slice(start + perRound, start + perRound * 2) };
    });

    const activities = createActivities({
      backend: lake.backend,
      layout: lake.config.lake,
      tables: lake.config.tables,
      poll: lake.config.engine.poll,
      runs: temporalHourRunHistory(t.client),
    });
    const quiet = new DefaultLogger('ERROR');
    const direct = async (hour: string): Promise<DirectSample> => {
      const env = new MockActivityEnvironment(undefined, { logger: quiet });
      const call = <A, R>(fn: (a: A) => Promise<R>, a: A) => env.run(fn, a) as Promise<R>;
      const t0 = performance.now();
      const manifest = await call(activities.verifyRawPartition, { hour });
      await call(activities.registerRawPartition, { hour });
      const runId = randomUUID();
      const staging = await call(activities.curateToStaging, { hour, rawPrefix: manifest.prefix, files: manifest.files, runId });
      const validated = await call(activities.validateStaging, { hour, rawPrefix: manifest.prefix, files: manifest.files, stagingLocation: staging.stagingLocation, runId });
      await call(activities.publishPartition, { hour, stagingLocation: staging.stagingLocation, lineage: { validated: 'true', run_id: runId } });
      const wallMs = performance.now() - t0;
      return { hour, wallMs, engineMs: staging.engineMs + staging.queueMs + validated.engineMs + validated.queueMs };
    };

    const worker = await makeWorker(lake);
    // The floor: trivial workflows with 5 sequential no-op activities, remote or local, same server.
    const floorQueue = `bench-floor-${randomUUID()}`;
    const floorWorker = await Worker.create({
      connection: t.nativeConnection,
      taskQueue: floorQueue,
      workflowBundle: await bundleWorkflowCode({ workflowsPath: path.join(__dirname, 'workflows', 'floor.ts'), logger: quiet }),
      activities: { noop: async () => undefined },
    });
    const floor = async (shape: FloorShape, client = t.client): Promise<number> => {
      const t0 = performance.now();
      await client.workflow.execute('floorWorkflow', { taskQueue: floorQueue, workflowId: `bench-floor-${randomUUID()}`, args: [shape] });
      return performance.now() - t0;
    };

    // Prototypes of the proposed fixes, each on its own lake, task queue and worker, same rounds:
    // on the same dev server, and on a second one started with the proposed dynamic config.
    tuned = await startTunedDevServer();
    const tunedFloorWorker = await Worker.create({
      connection: tuned.nativeConnection,
      taskQueue: floorQueue,
      workflowBundle: await bundleWorkflowCode({ workflowsPath: path.join(__dirname, 'workflows', 'floor.ts'), logger: quiet }),
      activities: { noop: async () => undefined },
    });
    const prototypes: Prototype[] = [];
    const local = await localQuickStepsBundle();
    const unavailable: string[] = [];
    const addPrototype = async (name: string, label: string, overrides: Record<string, string>, bundle: 'production' | 'localQuickSteps', server: 'default' | 'tuned') => {
      if (bundle === 'localQuickSteps' && !local.available) {
        unavailable.push(`${label}: ${local.reason}`);
        return;
      }
      const on = server === 'tuned' ? tuned! : t;
      const pl = await makeBenchLake(overrides);
      lakes.push(pl);
      const hours = hourRange(`${2019 - prototypes.length}-01-01T00`, warmup + rounds * perPrototype);
      await seedHours(pl, hours, { rows });
      const w = await makeWorkerOn(on, pl, bundle === 'localQuickSteps' && local.available ? local.bundle : undefined);
      prototypes.push({ name, label, lake: pl, worker: w, hours, client: on.client });
    };
    const tunedFlag = Object.entries(TUNED_DYNAMIC_CONFIG).map(([k, v]) => `${k}=${v}`).join(', ');
    await addPrototype('poll10', 'first poll after 10 ms (CLICKSTREAM_QUERY_POLL_INITIAL_MS=10)', { CLICKSTREAM_QUERY_POLL_INITIAL_MS: '10' }, 'production', 'default');
    await addPrototype('local', 'verify, register, publish as local activities', {}, 'localQuickSteps', 'default');
    await addPrototype('both', 'both changes', { CLICKSTREAM_QUERY_POLL_INITIAL_MS: '10' }, 'localQuickSteps', 'default');
    await addPrototype('tuned', `dev server with ${tunedFlag}`, {}, 'production', 'tuned');
    await addPrototype('all', `all three: tuned dev server, local quick steps, 10 ms first poll`, { CLICKSTREAM_QUERY_POLL_INITIAL_MS: '10' }, 'localQuickSteps', 'tuned');

    const viaWorkflow = async (on: TestLake, hour: string, client = t.client): Promise<HourSample> => {
      const t0 = performance.now();
      const handle = await startHour(client, on.config, hour);
      const report = await handle.result();
      const wallMs = performance.now() - t0;
      const { curate, validate } = report.queries;
      const engineMs = curate.engineMs + curate.queueMs + validate.engineMs + validate.queueMs;
      const profile = profileHistory(await fetchEvents(client, handle.workflowId, report.runId));
      const queryRun = profile.activities.filter((a) => a.type === 'curateToStaging' || a.type === 'validateStaging').reduce((s, a) => s + a.runMs, 0);
      return {
        hour,
        wallMs,
        engineMs,
        overheadMs: wallMs - engineMs,
        pollSlackMs: queryRun - engineMs,
        statusCalls: curate.statusCalls + validate.statusCalls,
        profile,
      };
    };

    const floorRuns = Math.max(3, Math.floor(perRound / 2));
    const measured = await withWorkers([worker, floorWorker, tunedFloorWorker, ...prototypes.map((p) => p.worker)], async () => {
      ctx.log(`warm-up: ${warmup} hours per setup`);
      for (const h of warm) await viaWorkflow(lake, h);
      for (const p of prototypes) for (const h of p.hours.slice(0, warmup)) await viaWorkflow(p.lake, h, p.client);
      for (const shape of FLOOR_SHAPES) await floor(shape.shape, shape.tuned ? tuned!.client : t.client);
      const samples: HourSample[][] = [];
      const directSamples: DirectSample[][] = [];
      const floorSamples: Record<string, number[]> = Object.fromEntries(FLOOR_SHAPES.map((f) => [f.name, []]));
      const prototypeSamples: Record<string, HourSample[]> = Object.fromEntries(prototypes.map((p) => [p.name, []]));
      for (const [r, block] of blocks.entries()) {
        const d: DirectSample[] = [];
        for (const h of block.direct) d.push(await direct(h));
        const w: HourSample[] = [];
        for (const h of block.workflow) w.push(await viaWorkflow(lake, h));
        for (const p of prototypes) {
          for (const h of p.hours.slice(warmup + r * perPrototype, warmup + (r + 1) * perPrototype)) prototypeSamples[p.name]!.push(await viaWorkflow(p.lake, h, p.client));
        }
        for (let i = 0; i < floorRuns; i++) for (const f of FLOOR_SHAPES) floorSamples[f.name]!.push(await floor(f.shape, f.tuned ? tuned!.client : t.client));
        directSamples.push(d);
        samples.push(w);
        ctx.log(`round ${r + 1}/${rounds}: workflow p50 overhead ${round(percentile(w.map((s) => s.overheadMs), 50))} ms, direct p50 wall ${round(percentile(d.map((s) => s.wallMs), 50))} ms`);
      }
      return { samples, directSamples, floorSamples, prototypeSamples };
    });

    return report(
      ctx,
      { rounds, perRound, perPrototype, warmup, rows, poll: lake.config.engine.poll, floorRuns },
      measured.samples,
      measured.directSamples,
      measured.floorSamples,
      prototypes.map((p) => ({ name: p.name, label: p.label, samples: measured.prototypeSamples[p.name]! })),
      unavailable,
    );
  } finally {
    for (const l of lakes) await l.cleanup();
    await tuned?.stop();
    await stopTestTemporal();
  }
}

interface Prototype {
  name: string;
  label: string;
  lake: TestLake;
  worker: PipelineWorker;
  hours: string[];
  client: Client;
}

/** Runs every worker while `body` runs; all stop when it settles. */
async function withWorkers<T>(workers: { runUntil<R>(fn: () => Promise<R>): Promise<R> }[], body: () => Promise<T>): Promise<T> {
  const [first, ...rest] = workers;
  return first ? first.runUntil(() => withWorkers(rest, body)) : body();
}

function report(
  ctx: BenchContext,
  params: Record<string, unknown>,
  rounds: HourSample[][],
  directRounds: DirectSample[][],
  floorSamples: Record<string, number[]>,
  prototypes: { name: string; label: string; samples: HourSample[] }[],
  unavailable: string[],
): BenchOutput {
  const all = rounds.flat();
  const direct = directRounds.flat();
  const p = (xs: number[], q: number) => round(percentile(xs, q));
  const overhead = all.map((s) => s.overheadMs);
  const p50 = percentile(overhead, 50);
  const p95 = percentile(overhead, 95);
  const perRoundP50 = spread(rounds.map((r) => percentile(r.map((s) => s.overheadMs), 50)));
  const perRoundP95 = spread(rounds.map((r) => percentile(r.map((s) => s.overheadMs), 95)));
  const directOverhead = direct.map((s) => s.wallMs - s.engineMs);
  const temporalAdds = percentile(all.map((s) => s.wallMs), 50) - percentile(direct.map((s) => s.wallMs), 50);

  // Where the wall time went, from the histories (medians per hour, ms).
  const byType = new Map<string, { dispatch: number[]; run: number[] }>();
  for (const s of all) {
    for (const a of s.profile.activities) {
      const e = byType.get(a.type) ?? { dispatch: [], run: [] };
      e.dispatch.push(a.dispatchMs);
      e.run.push(a.runMs);
      byType.set(a.type, e);
    }
  }
  const dispatchTotal = all.map((s) => s.profile.activities.reduce((x, a) => x + a.dispatchMs, 0));
  const nonEngineRun = all.map((s) => s.profile.activities.filter((a) => a.type !== 'curateToStaging' && a.type !== 'validateStaging').reduce((x, a) => x + a.runMs, 0));
  const between = all.map((s) => s.profile.betweenActivitiesMs);
  const edges = all.map((s) => s.profile.edgesMs);
  const clientExtra = all.map((s) => s.wallMs - s.profile.totalMs);
  const breakdown = [
    ['activity dispatch (scheduled → started), 5 activities', p(dispatchTotal, 50)],
    ['workflow tasks between activities (completed → next scheduled)', p(between, 50)],
    ['workflow start → first activity, last activity → close', p(edges, 50)],
    ['query activities: run time − engine time (poll detection + plumbing)', p(all.map((s) => s.pollSlackMs), 50)],
    ['verify + register + publish activity run time', p(nonEngineRun, 50)],
    ['client: start RPC + result long-poll beyond the server-side run', p(clientExtra, 50)],
  ] as const;

  const met = p50 <= TARGET_P50_MS;
  const allFixes = prototypes.find((pr) => pr.name === 'all');
  const markdown = [
    `${all.length} hours (${rounds.length} rounds × ${rounds[0]?.length ?? 0}, after ${params.warmup} warm-up hours), ${params.rows} rows each, one at a time; ` +
      `production poll policy ${JSON.stringify(params.poll)}.`,
    '',
    mdTable(
      ['', 'p50', 'p95', 'min', 'max'],
      [
        ['wall (client start → result), ms', p(all.map((s) => s.wallMs), 50), p(all.map((s) => s.wallMs), 95), round(Math.min(...all.map((s) => s.wallMs))), round(Math.max(...all.map((s) => s.wallMs)))],
        ['engine time (2 queries, engine + queue), ms', p(all.map((s) => s.engineMs), 50), p(all.map((s) => s.engineMs), 95), round(Math.min(...all.map((s) => s.engineMs))), round(Math.max(...all.map((s) => s.engineMs)))],
        ['**overhead = wall − engine**, ms', round(p50), round(p95), round(Math.min(...overhead)), round(Math.max(...overhead))],
        ['same 5 activities called directly (no Temporal): wall, ms', p(direct.map((s) => s.wallMs), 50), p(direct.map((s) => s.wallMs), 95), round(Math.min(...direct.map((s) => s.wallMs))), round(Math.max(...direct.map((s) => s.wallMs)))],
        ['… direct: wall − engine, ms', p(directOverhead, 50), p(directOverhead, 95), round(Math.min(...directOverhead)), round(Math.max(...directOverhead))],
      ],
    ),
    '',
    `Per round: p50 overhead ${fmtSpread(perRoundP50, ' ms')}, p95 ${fmtSpread(perRoundP95, ' ms')} (median (min–max) of ${rounds.length} rounds).`,
    `Same-run ratios: Temporal adds ${round(temporalAdds)} ms per hour over calling the activities directly ` +
      `(workflow p50 wall / direct p50 wall = ${round(percentile(all.map((s) => s.wallMs), 50) / percentile(direct.map((s) => s.wallMs), 50), 2)}); ` +
      `status calls per hour: ${round(mean(all.map((s) => s.statusCalls)), 1)} on average.`,
    '',
    'Where the overhead goes (medians per hour, from each run\'s event history timestamps):',
    '',
    mdTable(['component', 'ms'], breakdown.map(([k, v]) => [k, v])),
    '',
    mdTable(
      ['activity', 'dispatch p50 ms', 'run p50 ms'],
      [...byType.entries()].map(([type, v]) => [type, p(v.dispatch, 50), p(v.run, 50)]),
    ),
    '',
    `**Prototypes of the proposed fixes**, same server, same rounds (${params.perPrototype} hours per round each; generated from the current production code, see bench/lib/variants.ts):`,
    '',
    mdTable(
      ['setup', 'overhead p50 ms', 'p95 ms', 'vs production p50', 'events per hour', 'status calls per hour'],
      [
        ['production today', round(p50), round(p95), '1.00×', p(all.map((s) => s.profile.events), 50), round(mean(all.map((s) => s.statusCalls)), 1)],
        ...prototypes.map((pr) => {
          const o = pr.samples.map((s) => s.overheadMs);
          return [pr.label, p(o, 50), p(o, 95), `${round(percentile(o, 50) / p50, 2)}×`, p(pr.samples.map((s) => s.profile.events), 50), round(mean(pr.samples.map((s) => s.statusCalls)), 1)];
        }),
      ],
    ),
    ...(unavailable.length ? ['', `Not measured: ${unavailable.join('; ')}.`] : []),
    '',
    `Orchestration floor on this machine, same server, same run (${params.floorRuns} runs per round of each trivial workflow, client wall):`,
    '',
    mdTable(
      ['trivial workflow', 'p50 ms', 'p95 ms'],
      FLOOR_SHAPES.map((f) => [f.label, p(floorSamples[f.name]!, 50), p(floorSamples[f.name]!, 95)]),
    ),
  ].join('\n');

  return {
    params,
    targets: [
      {
        name: 'p50 orchestration overhead per hour (wall − engine)',
        target: `≤ ${TARGET_P50_MS} ms`,
        measured: `p50 ${round(p50)} ms, p95 ${round(p95)} ms over ${all.length} hours`,
        met: ctx.quick ? null : met,
        note: allFixes ? `prototype with fixes 1–3 (bench/README.md): p50 ${p(allFixes.samples.map((s) => s.overheadMs), 50)} ms, p95 ${p(allFixes.samples.map((s) => s.overheadMs), 95)} ms` : undefined,
      },
    ],
    metrics: {
      overheadMs: { p50, p95, perRoundP50, perRoundP95 },
      temporalAddsMs: temporalAdds,
      breakdownP50Ms: Object.fromEntries(breakdown),
      activities: Object.fromEntries([...byType.entries()].map(([k, v]) => [k, { dispatchP50: percentile(v.dispatch, 50), runP50: percentile(v.run, 50) }])),
      hours: all.map(({ profile, ...s }) => ({ ...s, events: profile.events, serverTotalMs: profile.totalMs })),
      direct,
      prototypes: prototypes.map((pr) => ({
        name: pr.name,
        label: pr.label,
        overheadP50: percentile(pr.samples.map((s) => s.overheadMs), 50),
        overheadP95: percentile(pr.samples.map((s) => s.overheadMs), 95),
        eventsP50: percentile(pr.samples.map((s) => s.profile.events), 50),
      })),
      prototypesUnavailable: unavailable,
      floorMs: Object.fromEntries(FLOOR_SHAPES.map((f) => [f.name, { shape: f.shape, p50: percentile(floorSamples[f.name]!, 50), p95: percentile(floorSamples[f.name]!, 95) }])),
    },
    markdown,
  };
}
