/**
 * B11 memory per hour (issue 14, item 4): one raw hour made of a single 1 GB file and one made of
 * 2,000 small files (the same ~1 GB split up), each through the five real activities (verify,
 * register, curate, validate, publish under MockActivityEnvironment) in a child process of its own
 * (bench/b11-hour-child.ts), so that process's peak RSS is the hour's. Reported: peak RSS (the
 * kernel's VmHWM, per step), DuckDB's own accounting beside it, time, MB/s, and whether the counts
 * are exactly what the generator planted. Target, full mode only: peak RSS ≤ 1.5 GB for the 1 GB
 * file, no failure, the same counts.
 *
 * A failed hour (a DuckDB error, the process killed) is a finding: reported as a missed target with
 * its error, never a crash of the harness. Then "probes" (each a single statement in its own child,
 * peak measured the same way) split the 1 GB hour's curation into its stages, so the report says
 * which stage holds the memory.
 *
 * Raw data is streamed to disk chunk by chunk: the generator's lines for 1 GB would not fit in one
 * V8 string, and holding them would colour nothing here (the hour runs in the child) but would
 * cost the machine's other users.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, promises as fs, readFileSync, type WriteStream } from 'node:fs';
import * as path from 'node:path';
import type { HourCounts } from '../core/contracts/steps';
import { parseHour } from '../core/hours';
import { rawHourPrefix } from '../core/locations';
import { generateHour } from '../generator/clickstreamGenerator';
import { loadSql } from '../lake/sqlFiles';
import type { TestLake } from '../test/support/testLake';
import type { ChildResult, ChildSpec, StepResult } from './b11-hour-child';
import type { Benchmark, BenchContext, BenchOutput } from './lib/benchmark';
import { makeBenchLake, readProc } from './lib/harness';
import { mdTable, type TargetCheck } from './lib/results';
import { round } from './lib/stats';

const MiB = 2 ** 20;
/** The issue's "≤ 1.5 GB", in the harness's unit (MiB, as /proc reports kB). */
const TARGET_PEAK_MB = 1536;
/**
 * The parent kills an hour whose RSS passes this (MiB): the machine is shared, and past it the
 * answer (missed, by how much) is already known. BENCH_B11_RSS_GUARD_MB changes it.
 */
const RSS_GUARD_MB = Number(process.env.BENCH_B11_RSS_GUARD_MB ?? 12_288);
const MALFORMED_RATE = 0.01;
const DUPLICATE_RATE = 0.01;
const CHILD = path.join(__dirname, 'b11-hour-child.ts');

interface HourShape {
  key: 'single' | 'many';
  label: string;
  hour: string;
  targetBytes: number;
  files: number;
  seed: number;
}

interface WrittenHour {
  shape: HourShape;
  bytes: number;
  files: number;
  expected: HourCounts;
  generateMs: number;
}

interface ChildRun {
  /** What the child reported; undefined when it died without a result. */
  result?: ChildResult;
  /** Why the run failed, if it did: a step's error, a signal, the RSS guard. */
  failure?: string;
  exit: { code: number | null; signal: NodeJS.Signals | null };
  wallMs: number;
  /** VmRSS sampled by this process every 200 ms (epoch ms, MiB): a cross-check of VmHWM and the guard's input. */
  samples: { t: number; rssMB: number }[];
  stderrTail: string;
}

export const benchmark: Benchmark = {
  id: 'B11',
  name: 'b11-hour-memory',
  title: 'Memory per hour: one 1 GB file vs 2,000 small files',
  run,
};

async function run(ctx: BenchContext): Promise<BenchOutput> {
  const total = ctx.quick ? 2 * 1e6 : 1024 * MiB;
  const shapes: HourShape[] = [
    { key: 'single', label: `one ${fmtBytes(total)} file`, hour: '2024-07-01T10', targetBytes: total, files: 1, seed: 1101 },
    { key: 'many', label: `${ctx.quick ? 50 : '2,000'} small files`, hour: '2024-07-01T11', targetBytes: total, files: ctx.quick ? 50 : 2000, seed: 1102 },
  ];
  const lake = await makeBenchLake();
  try {
    const workDir = path.join(lake.dir, 'work');
    await fs.mkdir(workDir, { recursive: true });
    const written: WrittenHour[] = [];
    for (const shape of shapes) {
      ctx.log(`writing ${shape.label} (${shape.hour})`);
      const w = await writeHourStreamed(lake, shape, ctx.quick ? 500 : 20_000);
      ctx.log(`  ${fmtBytes(w.bytes)} in ${w.files} file(s), ${w.expected.rawLines.toLocaleString('en-US')} lines, ${round(w.generateMs / 1000, 1)} s`);
      written.push(w);
    }
    const runs: { written: WrittenHour; run: ChildRun }[] = [];
    for (const w of written) {
      ctx.log(`running the hour of ${w.shape.label} in a child process`);
      const r = await runChild({ mode: 'hour', lakeDir: lake.config.lake.dir, workDir, hour: w.shape.hour });
      ctx.log(`  ${r.failure ? `FAILED: ${r.failure}` : 'ok'}; peak RSS ${peakOf(r)} MiB; ${round(r.wallMs / 1000, 1)} s`);
      runs.push({ written: w, run: r });
    }
    // Probes: the 1 GB hour's curation, stage by stage, each alone in a process; then both hours under a DuckDB memory limit.
    const probes: { name: string; what: string; run: ChildRun }[] = [];
    for (const p of probeSpecs(lake)) {
      ctx.log(`probe: ${p.name}`);
      const hour = shapes.find((s) => s.key === p.on)!.hour;
      const r = await runChild({ mode: 'probe', lakeDir: lake.config.lake.dir, workDir, hour, ...p.spec });
      ctx.log(`  ${r.failure ? `FAILED: ${r.failure}` : 'ok'}; peak RSS ${peakOf(r)} MiB; ${round(r.wallMs / 1000, 1)} s`);
      probes.push({ name: p.name, what: p.what, run: r });
    }
    return report(ctx, runs, probes);
  } finally {
    await lake.cleanup();
  }
}

/**
 * Writes one raw hour of about `targetBytes` in `files` files, streamed: chunks of the generator's
 * deterministic events (1% malformed, 1% duplicates each), lines assigned to files in order so
 * every file gets an equal share. Each chunk's event ids get a chunk tag (the generator numbers
 * events from 0 per call), so duplicates stay within their chunk and the expected counts add up.
 */
async function writeHourStreamed(lake: TestLake, shape: HourShape, chunkEvents: number): Promise<WrittenHour> {
  const t0 = performance.now();
  const hour = parseHour(shape.hour);
  const chunkOf = (c: number) => {
    const g = generateHour({ hour, events: chunkEvents, seed: shape.seed * 100_000 + c, malformedRate: MALFORMED_RATE, duplicateRate: DUPLICATE_RATE });
    const needle = `{"event_id":"${shape.hour}-`;
    const tagged = `{"event_id":"${shape.hour}-c${String(c).padStart(5, '0')}-`;
    let retagged = 0;
    const lines = g.lines.map((l) => (l.startsWith(needle) ? (retagged++, tagged + l.slice(needle.length)) : l));
    // Every valid event and every duplicate copy starts with the needle; malformed lines never do.
    if (retagged !== g.expected.curatedRows + g.expected.duplicates) {
      throw new Error(`B11: chunk ${c} of ${shape.hour}: ${retagged} lines carry the generator's event id, expected ${g.expected.curatedRows + g.expected.duplicates}`);
    }
    return { lines, expected: g.expected };
  };
  const first = chunkOf(0);
  const chunkBytes = first.lines.reduce((s, l) => s + Buffer.byteLength(l) + 1, 0);
  const chunks = Math.max(1, Math.round(shape.targetBytes / chunkBytes));
  const linesPerChunk = first.lines.length;
  const totalLines = chunks * linesPerChunk;

  const prefix = rawHourPrefix(lake.config.lake, hour);
  const dir = lake.backend.store.pathOf(lake.config.lake.bucket, prefix);
  await fs.mkdir(dir, { recursive: true });
  const fileName = (f: number) => path.join(dir, `part-${String(f).padStart(4, '0')}.jsonl`);
  const expected: HourCounts = { rawLines: 0, curatedRows: 0, rejected: 0, duplicates: 0 };
  let out: WriteStream | undefined;
  let current = -1;
  let bytes = 0;
  for (let c = 0; c < chunks; c++) {
    const chunk = c === 0 ? first : chunkOf(c);
    if (chunk.lines.length !== linesPerChunk) throw new Error(`B11: chunk ${c} has ${chunk.lines.length} lines, chunk 0 had ${linesPerChunk}`);
    for (const k of Object.keys(expected) as (keyof HourCounts)[]) expected[k] += chunk.expected[k];
    // Consecutive lines of one file are written as one string; file f holds lines [f·n/files, (f+1)·n/files).
    let i = 0;
    while (i < chunk.lines.length) {
      const lineNo = c * linesPerChunk + i;
      const f = Math.floor((lineNo * shape.files) / totalLines);
      const fileEnd = Math.ceil(((f + 1) * totalLines) / shape.files) - c * linesPerChunk;
      const j = Math.min(chunk.lines.length, fileEnd);
      if (f !== current) {
        if (out) await endStream(out);
        out = createWriteStream(fileName(f));
        current = f;
      }
      const text = chunk.lines.slice(i, j).join('\n') + '\n';
      bytes += Buffer.byteLength(text);
      if (!out!.write(text)) await new Promise<void>((r) => out!.once('drain', () => r()));
      i = j;
    }
  }
  if (out) await endStream(out);
  const files = (await fs.readdir(dir)).filter((f) => f.endsWith('.jsonl')).length;
  if (files !== shape.files) throw new Error(`B11: wrote ${files} files for ${shape.hour}, meant ${shape.files}`);
  return { shape, bytes, files, expected, generateMs: performance.now() - t0 };
}

function endStream(s: WriteStream): Promise<void> {
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.end(resolve);
  });
}

/** The stages of sql/duckdb/setup_*.sql and curate_hour.sql, each run alone over the 1 GB file. */
function probeSpecs(
  lake: TestLake,
): { name: string; what: string; on: HourShape['key']; spec: Omit<Extract<ChildSpec, { mode: 'probe' }>, 'mode' | 'lakeDir' | 'workDir' | 'hour'> }[] {
  const curate = loadSql('duckdb', 'curate_hour');
  // The exact reader holds each file whole, so under the engine's bound it fails on this hour: its
  // probes lift the bound to show what it holds. BEFORE_MACROS defines the in-run baseline's macros.
  const UNBOUNDED = "SET memory_limit = '16GB'";
  const BEFORE_MACROS = readFileSync(path.join(__dirname, 'baselines', 'curation-before-plain-reader.sql'), 'utf8');
  const out = (n: string) => path.join(lake.dir, 'probe-out', n);
  return [
    {
      name: 'read_text',
      on: 'single',
      what: 'read_text: each file as one VARCHAR value (setup_01, innermost)',
      spec: { name: 'read_text', settings: [UNBOUNDED], sql: 'SELECT count(*) AS files, sum(strlen(content)) AS bytes FROM read_text($files)' },
    },
    {
      name: 'split',
      on: 'single',
      what: "+ regexp_replace of CR/CRLF and string_split: the file's list of lines (setup_01)",
      spec: {
        name: 'split',
        settings: [UNBOUNDED],
        sql: "SELECT sum(len(string_split(regexp_replace(content, '\\r\\n?', chr(10), 'g'), chr(10)))) AS parts FROM read_text($files)",
      },
    },
    {
      name: 'raw_lines',
      on: 'single',
      what: 'clickstream_raw_lines: + unnest, BOM and U+FFFD checks, blank filter (setup_01 whole)',
      spec: { name: 'raw_lines', settings: [UNBOUNDED], sql: 'SELECT count(*) AS lines FROM clickstream_raw_lines($files)' },
    },
    {
      name: 'classified',
      on: 'single',
      what: 'clickstream_classified_lines, exact reader: + JSON parse and the duplicate window over every line (setup_02; the raw and rejected tables use it)',
      spec: { name: 'classified', settings: [UNBOUNDED], sql: 'SELECT outcome, count(*) AS n FROM clickstream_classified_lines($files) GROUP BY outcome' },
    },
    {
      name: 'csv rows',
      on: 'single',
      what: "clickstream_csv_rows: the plain reader's CSV scan, streaming (setup_01)",
      spec: { name: 'csv rows', settings: [], sql: 'SELECT count(*) AS rows FROM clickstream_csv_rows($files)' },
    },
    {
      name: 'checked, plain',
      on: 'single',
      what: 'clickstream_checked_lines, plain reader: + JSON parse and checks, no window (setup_02)',
      spec: { name: 'checked, plain', settings: [], sql: "SELECT count(*) FILTER (WHERE reject_reason IS NULL) AS kept FROM clickstream_checked_lines($files, 'plain')" },
    },
    ...(['single', 'many'] as const).map((on) => ({
      name: `before: curate as before the plain reader, no memory bound, ${on === 'single' ? 'one file' : 'small files'}`,
      what: `the curation before the plain line reader (bench/baselines/curation-before-plain-reader.sql) as production ran it then (no memory bound), over the ${on === 'single' ? 'one-file' : 'small-files'} hour: the in-run "before"`,
      on,
      spec: {
        name: `before, ${on}`,
        settings: [UNBOUNDED, BEFORE_MACROS],
        sql: 'COPY (SELECT * FROM before_curated_events($raw_files) ORDER BY event_time, event_id) TO $output_file (FORMAT parquet, COMPRESSION zstd)',
        filesParam: 'raw_files',
        outputDir: out(`before-${on}`),
      },
    })),
    ...(['single', 'many'] as const).map((on) => ({
      name: `curate, no memory bound, ${on === 'single' ? 'one file' : 'small files'}`,
      what: `curate_hour.sql on the plain reader with DuckDB's memory_limit raised to 16 GB (the engine's bound lifted), over the ${on === 'single' ? 'one-file' : 'small-files'} hour: what the bound saves`,
      on,
      spec: {
        name: `curate, no memory bound, ${on}`,
        settings: [UNBOUNDED],
        sql: curate,
        filesParam: 'raw_files',
        params: { line_reader: 'plain' },
        outputDir: out(`unbounded-${on}`),
      },
    })),
  ];
}

/** Runs one child, sampling its RSS; a death, a guard kill or a step's error comes back as `failure`. */
async function runChild(spec: ChildSpec): Promise<ChildRun> {
  const t0 = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, JSON.stringify(spec)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const samples: { t: number; rssMB: number }[] = [];
  let guardKilled = false;
  const timer = setInterval(() => {
    void readProc(child.pid!).then((s) => {
      // A process between exit and reaping has no VmRSS line: that sample is no sample.
      if (!s || !Number.isFinite(s.rssMB)) return;
      samples.push({ t: Date.now(), rssMB: Math.round(s.rssMB) });
      if (s.rssMB > RSS_GUARD_MB && !guardKilled) {
        guardKilled = true;
        child.kill('SIGKILL');
      }
    });
  }, 200);
  const exit = await new Promise<ChildRun['exit']>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
  clearInterval(timer);
  const wallMs = performance.now() - t0;
  const line = stdout.split('\n').find((l) => l.startsWith('B11RESULT '));
  const result = line ? (JSON.parse(line.slice('B11RESULT '.length)) as ChildResult) : undefined;
  let failure = result?.error;
  if (guardKilled) failure = `killed by the benchmark at ${RSS_GUARD_MB} MiB RSS (BENCH_B11_RSS_GUARD_MB), still running`;
  else if (!result) {
    failure =
      exit.signal === 'SIGKILL'
        ? 'the process was killed (SIGKILL: the kernel\'s OOM killer, most likely) before reporting'
        : `the process exited ${exit.code ?? exit.signal} without a result: ${stderr.trim().split('\n').slice(-3).join(' / ')}`;
  }
  return { result, failure, exit, wallMs, samples, stderrTail: stderr };
}

/** The exact peak (the largest step VmHWM, start-up included) or, when the child died, the sampled one. */
function peakOf(r: ChildRun): number {
  const hwm = r.result ? Math.max(r.result.startupPeakRssMB, ...r.result.steps.map((s) => s.peakRssMB)) : NaN;
  const sampled = r.samples.length ? Math.max(...r.samples.map((s) => s.rssMB)) : NaN;
  return Number.isFinite(hwm) ? Math.max(hwm, Number.isFinite(sampled) ? sampled : 0) : sampled;
}

const countsMatch = (a: HourCounts | undefined, e: HourCounts) =>
  a !== undefined && (['rawLines', 'curatedRows', 'rejected', 'duplicates'] as const).every((k) => a[k] === e[k]);

function stepOf(r: ChildRun, step: string): StepResult | undefined {
  return r.result?.steps.find((s) => s.step === step);
}

function fmtBytes(b: number): string {
  return b >= 1000 * MiB ? `${round(b / 2 ** 30, 2)} GiB` : `${round(b / MiB, 1)} MiB`;
}

function report(ctx: BenchContext, runs: { written: WrittenHour; run: ChildRun }[], probes: { name: string; what: string; run: ChildRun }[]): BenchOutput {
  const judged = !ctx.quick;
  const rows = runs.map(({ written: w, run: r }) => {
    const steps = r.result?.steps ?? [];
    const hourMs = steps.reduce((s, x) => s + (x.endMs - x.startMs), 0);
    const ok = !r.failure;
    const stepPeaks = ['verify', 'register', 'curate', 'validate', 'publish'].map((n) => stepOf(r, n)?.peakRssMB ?? '–').join(' / ');
    const duck = steps.length ? Math.max(...steps.map((s) => s.duckdbPeakMB)) : NaN;
    const spilled = steps.length ? Math.max(...steps.map((s) => s.duckdbSpilledMB)) : NaN;
    const secs = (n: string) => {
      const s = stepOf(r, n);
      return s ? round((s.endMs - s.startMs) / 1000, 1) : '–';
    };
    return {
      w,
      r,
      ok,
      hourMs,
      peak: peakOf(r),
      match: countsMatch(r.result?.counts, w.expected),
      cells: [
        w.shape.label,
        w.files.toLocaleString('en-US'),
        round(w.bytes / MiB, 0),
        w.expected.rawLines.toLocaleString('en-US'),
        ok ? 'ok' : `**failed**: ${firstLine(r.failure)}`,
        round(hourMs / 1000, 1),
        secs('curate'),
        secs('validate'),
        ok ? round(w.bytes / MiB / (hourMs / 1000), 1) : '–',
        `**${peakOf(r)}**`,
        stepPeaks,
        r.result?.baselineRssMB ?? '–',
        Number.isFinite(duck) ? `${duck} (${tagText(steps)})` : '–',
        Number.isFinite(spilled) ? spilled : '–',
        ok ? (countsMatch(r.result?.counts, w.expected) ? 'yes' : '**no**') : '–',
      ],
    };
  });
  const single = rows[0]!;
  const many = rows[1]!;
  const targets: TargetCheck[] = [
    {
      name: `peak worker RSS, one hour of ${single.w.shape.label}`,
      target: '≤ 1.5 GB (1,536 MiB)',
      measured: `${single.peak} MiB${single.ok ? `, ${round(single.hourMs / 1000, 1)} s, ${round(single.w.bytes / MiB / (single.hourMs / 1000), 1)} MiB/s` : ` before it failed (${firstLine(single.r.failure)})`}`,
      met: judged ? single.ok && single.peak <= TARGET_PEAK_MB : null,
      note: ctx.quick ? 'quick sizes' : undefined,
    },
    ...[single, many].map((x) => ({
      name: `${x.w.shape.label}: no failure, the generator's counts`,
      target: 'no failure, the same counts',
      measured: x.ok ? `ok, counts ${x.match ? 'match' : 'DIFFER'}; peak RSS ${x.peak} MiB, ${round(x.hourMs / 1000, 1)} s` : `failed: ${firstLine(x.r.failure)}`,
      met: judged ? x.ok && x.match : null,
      note: ctx.quick ? 'quick sizes' : undefined,
    })),
  ];
  // A wrong count from a hour that ran is a broken pipeline, not a finding: fail the run after writing.
  const failures = rows.filter((x) => x.ok && !x.match).map((x) => `${x.w.shape.label}: counted ${JSON.stringify(x.r.result?.counts)}, the generator planted ${JSON.stringify(x.w.expected)}`);

  const probeRows = probes.map((p) => {
    const s = p.run.result?.steps[0];
    return [
      p.name,
      p.what,
      p.run.failure ? `**failed**: ${firstLine(p.run.failure)}` : 'ok',
      s ? round((s.endMs - s.startMs) / 1000, 1) : '–',
      `**${peakOf(p.run)}**`,
      s ? `${s.duckdbPeakMB} (${tagText([s])})` : '–',
      s ? s.duckdbSpilledMB : '–',
    ];
  });
  const memoryLimit = runs[0]?.run.result?.memoryLimit ?? '?';
  const markdown = [
    `Two raw hours of the same size, streamed to disk from the generator's deterministic events (chunks of ${ctx.quick ? 500 : '20,000'} events, ` +
      `${MALFORMED_RATE * 100}% malformed and ${DUPLICATE_RATE * 100}% duplicate lines, event ids tagged per chunk): ${runs.map(({ written: w }) => `${w.shape.label} (${round(w.bytes / MiB, 0)} MiB)`).join(' and ')}. ` +
      'Each hour runs through the five real activities (verify, register, curate, validate, publish; MockActivityEnvironment, production engine defaults) ' +
      'in a child process of its own (`bench/b11-hour-child.ts`: Node, the activities and the embedded DuckDB, as in a worker, without the Temporal core). ' +
      'Peak RSS is the kernel\'s high-water mark (VmHWM, /proc/self/status), reset before each step (`clear_refs`), so each step\'s peak is exact; ' +
      'the hour\'s peak is the largest of them. DuckDB\'s own accounting (`duckdb_memory()`, what its buffer manager holds; sampled every 250 ms) is beside it: ' +
      `RSS above it is memory DuckDB does not track or cannot spill. DuckDB's memory_limit as the engine runs: ${memoryLimit}. MiB/s is raw bytes over the five steps' wall time.`,
    '',
    mdTable(
      ['hour', 'files', 'raw MiB', 'lines', 'result', 'hour s (5 steps)', 'curate s', 'validate s', 'MiB/s', 'peak RSS MiB', 'peak per step MiB (verify / register / curate / validate / publish)', 'RSS before the hour', 'DuckDB peak MiB (largest tags)', 'DuckDB spilled MiB', 'counts = generator'],
      rows.map((x) => x.cells),
    ),
    '',
    ...rows.map(
      (x) =>
        `${x.w.shape.label}: expected ${JSON.stringify(x.w.expected)}, counted ${JSON.stringify(x.r.result?.counts ?? null)}; child wall ${round(x.r.wallMs / 1000, 1)} s ` +
        `(start-up included; start-up peak ${x.r.result?.startupPeakRssMB ?? '–'} MiB); sampled VmRSS max ${x.r.samples.length ? Math.max(...x.r.samples.map((s) => s.rssMB)) : '–'} MiB; generated in ${round(x.w.generateMs / 1000, 1)} s.`,
    ),
    '',
    `Where the memory goes: the stages of the curation over the ${single.w.shape.label} hour, then the whole curation of each hour under a 1 GB DuckDB memory limit, each statement alone in a fresh process (peak measured the same way):`,
    '',
    mdTable(['probe', 'statement', 'result', 's', 'peak RSS MiB', 'DuckDB peak MiB (largest tags)', 'DuckDB spilled MiB'], probeRows),
  ].join('\n');

  return {
    params: {
      totalBytesTarget: runs[0]?.written.shape.targetBytes,
      hours: runs.map(({ written: w }) => ({ label: w.shape.label, hour: w.shape.hour, files: w.files, bytes: w.bytes, expected: w.expected })),
      malformedRate: MALFORMED_RATE,
      duplicateRate: DUPLICATE_RATE,
      rssGuardMB: RSS_GUARD_MB,
      targetPeakMB: TARGET_PEAK_MB,
    },
    targets,
    metrics: {
      hours: runs.map((x) => ({ label: x.written.shape.label, peakRssMB: peakOf(x.run), failure: x.run.failure, exit: x.run.exit, wallMs: x.run.wallMs, result: x.run.result, rssSamples: thin(x.run.samples), stderrTail: x.run.failure ? x.run.stderrTail : undefined })),
      probes: probes.map((p) => ({ name: p.name, peakRssMB: peakOf(p.run), failure: p.run.failure, exit: p.run.exit, wallMs: p.run.wallMs, result: p.run.result, stderrTail: p.run.failure ? p.run.stderrTail : undefined })),
    },
    markdown,
    ...(failures.length ? { failures } : {}),
  };
}

/** The DuckDB tags that held the most at the sampled peak, largest first. */
function tagText(steps: StepResult[]): string {
  const best = steps.reduce<StepResult | undefined>((a, s) => (!a || s.duckdbPeakMB > a.duckdbPeakMB ? s : a), undefined);
  const tags = Object.entries(best?.duckdbPeakTags ?? {}).sort((a, b) => b[1] - a[1]).slice(0, 3);
  return tags.length ? tags.map(([k, v]) => `${k} ${v}`).join(', ') : 'none ≥ 1 MiB';
}

/** An error's first line for the tables (DuckDB appends its advice); the JSON keeps it whole. */
function firstLine(text: string | undefined): string {
  return (text ?? '').split('\n')[0]!.trim();
}

/** At most ~300 samples for the JSON file. */
function thin<T>(xs: T[]): T[] {
  const step = Math.max(1, Math.ceil(xs.length / 300));
  return xs.filter((_, i) => i % step === 0);
}
