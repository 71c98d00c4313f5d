/**
 * B8 CLI start-up: wall time of the real `clickstream` process (bin/clickstream.js, a fresh Node
 * each run) for `--help` and for `query` of a small table on the local backend (DuckDB over a
 * lake folder with 3 generated hours, 300 rows). Two ways of running the same CLI, interleaved run
 * by run: compiled (dist/, what bin/clickstream.js runs when the build is fresh) and its sources
 * through tsx (what it runs when a source is newer than the build). Medians (min-max), reported,
 * not asserted.
 *
 * BENCH_B8_ROOT=<checkout> measures another checkout's bin/clickstream.js as a third variant
 * (how the numbers before the compiled CLI were taken: a worktree of the commit before it).
 */
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createActivities } from '../activities';
import { runCli } from '../test/support/runCli';
import type { Benchmark, BenchContext, BenchOutput } from './lib/benchmark';
import { hourRange, makeBenchLake, seedHours } from './lib/harness';
import { mdTable } from './lib/results';
import { fmtSpread, round, spread, type Spread } from './lib/stats';

const ROOT = path.resolve(__dirname, '..');
const TARGETS = { help: 300, query: 1_000 } as const;
const SQL = 'SELECT hour, count(*) AS events FROM clickstream_events GROUP BY hour ORDER BY hour';

type Case = keyof typeof TARGETS;

interface Variant {
  name: string;
  /** node's arguments before the CLI's own. */
  argv: string[];
}

export const benchmark: Benchmark = {
  id: 'B8',
  name: 'b8-cli-startup',
  title: 'CLI start-up: clickstream --help and a small query, compiled vs through tsx',
  run,
};

async function run(ctx: BenchContext): Promise<BenchOutput> {
  const runs = ctx.quick ? 3 : 9;
  await ensureBuild(ctx);
  const variants: Variant[] = [
    { name: 'compiled (bin/clickstream.js)', argv: [path.join(ROOT, 'bin', 'clickstream.js')] },
    { name: 'sources through tsx (stale-build fallback)', argv: ['--require', 'tsx/cjs', path.join(ROOT, 'cli', 'clickstream.ts')] },
  ];
  const other = process.env.BENCH_B8_ROOT;
  if (other) variants.push({ name: `${path.basename(other)}: bin/clickstream.js`, argv: [path.join(path.resolve(other), 'bin', 'clickstream.js')] });

  const lake = await makeBenchLake();
  try {
    const hours = hourRange('2024-04-01T00', 3);
    await seedHours(lake, hours, { rows: 100 });
    // The local query engine reads the catalog's partitions: register the raw hours as the pipeline's register step does.
    const activities = createActivities({ backend: lake.backend, layout: lake.config.lake, tables: lake.config.tables, poll: lake.config.engine.poll });
    const activityEnv = new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });
    for (const hour of hours) await activityEnv.run(activities.registerRawPartition, { hour });
    const env = { CLICKSTREAM_LAKE_DIR: lake.config.lake.dir };
    const args: Record<Case, string[]> = { help: ['--help'], query: ['query', SQL, '--format', 'csv'] };
    const samples = new Map<string, number[]>();
    // One untimed run of each first: the OS file cache, not the CLI, is what a cold first run measures.
    for (const v of variants) for (const c of Object.keys(args) as Case[]) await timeCli(v, args[c], env, c);
    for (let i = 0; i < runs; i++) {
      // Interleaved, so load from other processes on the shared cores falls on every variant alike.
      for (const v of i % 2 === 0 ? variants : [...variants].reverse()) {
        for (const c of Object.keys(args) as Case[]) {
          const key = `${v.name}|${c}`;
          samples.set(key, [...(samples.get(key) ?? []), await timeCli(v, args[c], env, c)]);
          await sleep(20);
        }
      }
    }
    const result = (v: Variant, c: Case): Spread => spread(samples.get(`${v.name}|${c}`)!);
    const compiled = variants[0]!;
    const targets = (Object.keys(TARGETS) as Case[]).map((c) => {
      const s = result(compiled, c);
      return {
        name: c === 'help' ? '`clickstream --help`, median wall' : '`clickstream query` of a 300-row local table, median wall',
        target: `≤ ${TARGETS[c]} ms`,
        measured: `${round(s.median, 0)} ms`,
        met: ctx.quick ? null : s.median <= TARGETS[c],
        note: ctx.quick ? 'quick: 3 runs' : undefined,
      };
    });
    const rows = variants.map((v) => [v.name, fmtSpread(result(v, 'help'), ' ms', 0), fmtSpread(result(v, 'query'), ' ms', 0)]);
    ctx.log(rows.map((r) => r.join(' | ')).join('\n'));
    return {
      params: { runs, sql: SQL, rows: 300, variants: variants.map((v) => v.name) },
      targets,
      metrics: Object.fromEntries(variants.flatMap((v) => (Object.keys(TARGETS) as Case[]).map((c) => [`${v.name}|${c}`, { ...result(v, c), samples: samples.get(`${v.name}|${c}`) }]))),
      markdown: [
        `${runs} runs of each, interleaved, after one untimed run; a fresh \`node\` process each time, wall time from spawn to exit. ` +
          'query: `' + SQL + '` with `--format csv` over 3 generated hours (300 rows) on the local backend.',
        '',
        mdTable(['variant', '--help', 'query'], rows),
      ].join('\n'),
    };
  } finally {
    await lake.cleanup();
  }
}

/** Builds dist/ when bin/clickstream.js would not use it, so "compiled" measures the compiled CLI. */
async function ensureBuild(ctx: BenchContext): Promise<void> {
  const probe = await runCli(['--help']);
  if (!/running the sources through tsx/.test(probe.stderr)) return;
  ctx.log(`build not fresh (${probe.stderr.trim()}); running npm run build`);
  const built = await runCli([], {}, 120_000, [path.join(ROOT, 'bin', 'build.js')]);
  if (built.code !== 0) throw new Error(`npm run build failed:\n${built.stderr}`);
}

async function timeCli(v: Variant, args: string[], env: Record<string, string>, c: Case): Promise<number> {
  const t0 = process.hrtime.bigint();
  const r = await runCli(args, env, 120_000, v.argv);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.code !== 0) throw new Error(`${v.name} ${c} exited ${r.code}: ${r.stderr}`);
  if (c === 'query' && !r.stdout.startsWith('hour,events\n00,100\n01,100\n02,100')) throw new Error(`${v.name} query printed ${JSON.stringify(r.stdout)}`);
  return ms;
}
