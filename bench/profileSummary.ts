/**
 * `tsx bench/profileSummary.ts <file.cpuprofile> [--top 25]`
 *
 * Reads a V8 CPU profile (from `npm run bench -- --only B2 --cpu-prof`) and prints where the main
 * thread's time went: self time by area (our code, the Temporal SDK, DuckDB's binding, Node
 * internals, idle, GC) and the hottest functions. Native work on other threads (DuckDB's own
 * threads, the Temporal core's Rust threads) is not in a V8 profile: compare process CPU (B2's
 * samples) with the profile's busy time to see how much happened there.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

const ROOT = path.resolve(__dirname, '..');

/** Which part of the process a frame belongs to. */
export function areaOf(url: string, fn: string): string {
  if (fn === '(idle)') return 'idle (waiting on I/O, timers, native threads)';
  if (fn === '(garbage collector)') return 'garbage collector';
  if (fn === '(program)') return 'V8/native (program)';
  if (url.includes('/node_modules/@temporalio/')) return `Temporal SDK (${/@temporalio\/([^/]+)/.exec(url)?.[1]})`;
  if (url.includes('/node_modules/@duckdb/')) return 'DuckDB binding';
  if (url.includes('/node_modules/')) return `npm: ${/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1]}`;
  if (url.startsWith('node:') || url === '') return 'Node internals';
  if (url.startsWith('file://') || url.startsWith('/')) {
    const rel = path.relative(ROOT, url.replace(/^file:\/\//, ''));
    return `project: ${rel.split(path.sep)[0]}/`;
  }
  return 'other';
}

export function summarize(profile: CpuProfile, top = 25) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) self.set(samples[i]!, (self.get(samples[i]!) ?? 0) + (deltas[i] ?? 0) / 1000);
  const totalMs = (profile.endTime - profile.startTime) / 1000;
  const areas = new Map<string, number>();
  const fns = new Map<string, number>();
  for (const [id, ms] of self) {
    const n = byId.get(id)!;
    const area = areaOf(n.callFrame.url, n.callFrame.functionName);
    areas.set(area, (areas.get(area) ?? 0) + ms);
    const where = n.callFrame.url ? `${path.relative(ROOT, n.callFrame.url.replace(/^file:\/\//, ''))}:${n.callFrame.lineNumber + 1}` : '';
    const key = `${n.callFrame.functionName || '(anonymous)'} ${where}`.trim();
    fns.set(key, (fns.get(key) ?? 0) + ms);
  }
  const sorted = (m: Map<string, number>) => [...m.entries()].sort((a, b) => b[1] - a[1]);
  return { totalMs, areas: sorted(areas), functions: sorted(fns).slice(0, top) };
}

function main(): void {
  const args = process.argv.slice(2);
  const file = args.find((a) => !a.startsWith('--'));
  if (!file) throw new Error('usage: tsx bench/profileSummary.ts <file.cpuprofile> [--top 25]');
  const topAt = args.indexOf('--top');
  const top = topAt >= 0 ? Number(args[topAt + 1]) : 25;
  const s = summarize(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, top);
  const pct = (ms: number) => `${((ms / s.totalMs) * 100).toFixed(1)}%`.padStart(6);
  console.log(`${file}: ${(s.totalMs / 1000).toFixed(1)} s of main-thread time`);
  console.log('\nself time by area:');
  for (const [k, ms] of s.areas) console.log(`  ${pct(ms)}  ${(ms / 1000).toFixed(2).padStart(7)} s  ${k}`);
  console.log('\nhottest functions (self time):');
  for (const [k, ms] of s.functions) console.log(`  ${pct(ms)}  ${(ms / 1000).toFixed(2).padStart(7)} s  ${k}`);
}

if (require.main === module) {
  try {
    main();
  } catch (err) {
    console.error((err as Error).message);
    process.exit(1);
  }
}
