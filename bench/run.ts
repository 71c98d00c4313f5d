/**
 * `npm run bench [-- --quick] [--only B1,B3] [--cpu-prof] [--summary-only]`
 *
 * Runs each benchmark in its own Node process (one dev server, one worker, one DuckDB each), so
 * one benchmark's heap, caches and threads never colour another's numbers, and `--cpu-prof`
 * yields one profile per benchmark. Writes bench/results/<name>.json and bench/results/summary.md
 * (--quick: bench/results/quick/, not committed).
 *
 * Exit code: non-zero only when the harness breaks or an asserted budget (B6) is exceeded.
 * A missed target is a finding, reported in the summary, not a failure.
 */
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { BENCHMARK_IDS, loadBenchmark } from './benchmarks';
import { BenchNotRunnable } from './lib/benchmark';
import { machineInfo, readResults, renderSummary, resultsDir, writeResult, type BenchResult, type Mode } from './lib/results';

interface Args {
  quick: boolean;
  only: string[];
  cpuProf: boolean;
  /** Re-render the summary from the JSON files already there, running nothing. */
  summaryOnly: boolean;
  child?: string;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { quick: false, only: [...BENCHMARK_IDS], cpuProf: false, summaryOnly: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--quick') args.quick = true;
    else if (a === '--cpu-prof') args.cpuProf = true;
    else if (a === '--summary-only') args.summaryOnly = true;
    else if (a === '--only') args.only = parseOnly(argv[++i]);
    else if (a.startsWith('--only=')) args.only = parseOnly(a.slice('--only='.length));
    else if (a === '--child') args.child = argv[++i];
    else throw new Error(`unknown argument ${a}; usage: tsx bench/run.ts [--quick] [--only B1,B3] [--cpu-prof] [--summary-only]`);
  }
  return args;
}

function parseOnly(list: string | undefined): string[] {
  const ids = (list ?? '').split(',').map((s) => s.trim().toUpperCase()).filter(Boolean);
  const unknown = ids.filter((id) => !BENCHMARK_IDS.includes(id));
  if (ids.length === 0 || unknown.length > 0) {
    throw new Error(`--only takes a comma-separated list of ${BENCHMARK_IDS.join(', ')}; got ${JSON.stringify(list)}`);
  }
  return ids;
}

/** The child: runs one benchmark in this process and writes its JSON; fails after writing if a budget was exceeded. */
async function runChild(id: string, mode: Mode): Promise<void> {
  const bench = await loadBenchmark(id);
  const started = Date.now();
  const base = { id: bench.id, name: bench.name, title: bench.title, mode, startedAt: new Date(started).toISOString(), machine: machineInfo() };
  let result: BenchResult;
  try {
    const out = await bench.run({ mode, quick: mode === 'quick', log: (m) => console.error(`[${id}] ${m}`) });
    result = { ...base, status: 'ok', durationMs: Date.now() - started, ...out };
  } catch (err) {
    if (!(err instanceof BenchNotRunnable)) throw err;
    result = { ...base, status: 'not-run', reason: err.message, durationMs: Date.now() - started, params: {}, targets: [], metrics: {}, markdown: '' };
  }
  result.machine.loadAvgEnd = machineInfo().loadAvgStart;
  const file = await writeResult(result);
  console.error(`[${id}] wrote ${path.relative(process.cwd(), file)}`);
  if (result.failures?.length) throw new Error(`${id}: asserted budgets exceeded:\n  - ${result.failures.join('\n  - ')}`);
}

function spawnChild(id: string, args: Args): Promise<number | null> {
  // B3 drives the production loop on node:test mock timers, which Node 20 flags as experimental.
  // --expose-gc: B2's sampler forces a full GC every tenth sample, so its heap floors count live objects only.
  const nodeArgs = ['--import', 'tsx', '--disable-warning=ExperimentalWarning', '--expose-gc'];
  if (args.cpuProf) {
    // One profile per thread, named CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile: the main thread is thread 0
    // (activities, DuckDB binding, Temporal core bridge); workflow code runs in the SDK's worker thread(s).
    nodeArgs.push('--cpu-prof', '--cpu-prof-dir', path.join(resultsDir(args.quick ? 'quick' : 'full'), 'profiles'));
  }
  nodeArgs.push(__filename, '--child', id, ...(args.quick ? ['--quick'] : []));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, nodeArgs, { stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(signal ? 128 : code));
  });
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const mode: Mode = args.quick ? 'quick' : 'full';
  if (args.child) return runChild(args.child, mode);

  const failed: string[] = [];
  const started = Date.now();
  for (const id of args.summaryOnly ? [] : args.only) {
    const t0 = Date.now();
    console.error(`=== ${id} (${mode})`);
    const code = await spawnChild(id, args);
    console.error(`=== ${id} exited ${code} after ${Math.round((Date.now() - t0) / 1000)} s`);
    if (code !== 0) failed.push(id);
  }
  const results = await readResults(mode);
  const summaryFile = path.join(resultsDir(mode), 'summary.md');
  await fs.writeFile(summaryFile, renderSummary(results, mode));
  console.error(`summary: ${path.relative(process.cwd(), summaryFile)} (${Math.round((Date.now() - started) / 1000)} s in all)`);
  for (const r of results.filter((r) => args.only.includes(r.id))) {
    for (const t of r.targets) console.log(`${r.id}  ${t.met === true ? 'met   ' : t.met === false ? 'MISSED' : '  -   '}  ${t.name}: ${t.measured} (target ${t.target})`);
    if (r.status === 'not-run') console.log(`${r.id}  not run: ${r.reason}`);
  }
  if (failed.length > 0) throw new Error(`benchmark harness failed for ${failed.join(', ')} (see the output above)`);
}

main().then(
  // Explicit exit: a benchmark child must not linger on a handle its libraries left open.
  () => process.exit(0),
  (err) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(1);
  },
);
