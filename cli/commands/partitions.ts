/**
 * `clickstream partitions --from --to`: one character per hour, days x 24 hours, so an operator
 * sees at a glance what is published, what failed, what has no raw data and what never ran.
 * Sources: the catalog (published + validated, lineage fingerprint), the raw listing (the same
 * manifest the pipeline reads) and each hour's last workflow run in Temporal.
 */
import type { Command } from 'commander';
import type { HourRunHistory, HourRunStatus } from '../../core/contracts/hourRuns';
import { readRawManifest } from '../../lake/rawManifest';
import { temporalHourRunHistory } from '../../client/hourRunHistory';
import type { PipelineConfig } from '../../config/config';
import { formatHour, HOUR_FORMAT, hoursBetween, PARTITION_KEYS, type Hour } from '../../core/hours';
import { hourWorkflowId } from '../../core/ids';
import { isPublished, rawChanged } from '../../core/lineage';
import { createBackend } from '../../lake/createBackend';
import type { LakeBackend } from '../../lake/ports';
import { rangeArgs } from '../parseArgs';
import { withTemporalClient } from '../temporalConnection';
import type { CliIo } from '../cliIo';

/** Ten years of hours at most; the grid is for looking at, the JSON for scripts. */
export const MAX_PARTITION_HOURS = 24 * 366;
/** Raw listings and run lookups in flight at once (one S3 list / DescribeWorkflowExecution each). */
const LOOKUP_CONCURRENCY = 8;

export type HourState = 'running' | 'failed' | 'changed' | 'published' | 'missing-raw' | 'not-run';

/** One letter per state, so the grid reads without colour. In precedence order. */
export const STATE_CODES: Record<HourState, string> = {
  running: 'R',
  failed: 'F',
  changed: 'C',
  published: 'P',
  'missing-raw': 'M',
  'not-run': '.',
};

const STATE_LEGEND: Record<HourState, string> = {
  running: 'running now',
  failed: 'last run failed, was cancelled or timed out',
  changed: 'published, but raw changed since (clickstream reconcile re-runs it)',
  published: 'published and validated',
  'missing-raw': 'no raw data',
  'not-run': 'raw present, not published (never run)',
};

export interface HourCell {
  hour: string;
  state: HourState;
  code: string;
  /** 'unknown' when Temporal was not consulted. */
  lastRun: HourRunStatus | 'unknown';
  rawObjects: number;
  published: boolean;
  curatedRows?: number;
  detail?: string;
}

export interface PartitionsReport {
  table: string;
  from: string;
  to: string;
  temporal: 'checked' | 'unavailable';
  counts: Record<HourState, number>;
  hours: HourCell[];
}

const FAILED_RUNS = new Set<HourRunStatus>(['failed', 'cancelled', 'terminated', 'timed_out']);

/** Reads catalog, raw listing and (if given) run history for every hour of the range. */
export async function collectPartitions(
  deps: { backend: LakeBackend; config: PipelineConfig; runs?: HourRunHistory },
  from: Hour,
  to: Hour,
): Promise<PartitionsReport> {
  const { backend, config, runs } = deps;
  const { database, curated } = config.tables;
  // One catalog read for the whole table instead of one per hour.
  const published = new Map<string, Record<string, string>>();
  for (const p of await backend.catalog.listPartitions(database, curated)) {
    const v = Object.fromEntries(PARTITION_KEYS.map((k, i) => [k, p.values[i]]));
    published.set(`${v.year}-${v.month}-${v.day}T${v.hour}`, p.parameters);
  }
  const hours = hoursBetween(from, to);
  const cells = await mapLimit(hours, LOOKUP_CONCURRENCY, async (hour): Promise<HourCell> => {
    const key = formatHour(hour);
    const params = published.get(key);
    const alreadyPublished = isPublished(params);
    const lastRun: HourCell['lastRun'] = runs ? await runs.lastRunStatus(hourWorkflowId(curated, hour)) : 'unknown';
    let rawObjects = 0;
    let fingerprint = '';
    let detail: string | undefined;
    try {
      const manifest = await readRawManifest(backend.store, config.lake, hour);
      rawObjects = manifest.objects;
      fingerprint = manifest.fingerprint;
    } catch (err) {
      detail = (err as Error).message; // e.g. a raw name the pipeline refuses; shown, not fatal
    }
    let state: HourState;
    if (lastRun === 'running') state = 'running';
    else if (FAILED_RUNS.has(lastRun as HourRunStatus) || detail) state = 'failed';
    else if (alreadyPublished) state = rawChanged(params, fingerprint) ? 'changed' : 'published';
    else if (rawObjects === 0) state = 'missing-raw';
    else state = 'not-run';
    const cell: HourCell = { hour: key, state, code: STATE_CODES[state], lastRun, rawObjects, published: alreadyPublished };
    if (alreadyPublished && params?.curated_rows !== undefined) cell.curatedRows = Number(params.curated_rows);
    if (detail) cell.detail = detail;
    return cell;
  });
  const counts = Object.fromEntries(Object.keys(STATE_CODES).map((s) => [s, 0])) as Record<HourState, number>;
  for (const c of cells) counts[c.state]++;
  return { table: curated, from: formatHour(from), to: formatHour(to), temporal: runs ? 'checked' : 'unavailable', counts, hours: cells };
}

/** Days down, hours 00-23 across (in groups of six), per-day counts on the right, totals and legend below. */
export function formatPartitionGrid(r: PartitionsReport): string {
  const byDay = new Map<string, Map<number, HourCell>>();
  for (const c of r.hours) {
    const day = c.hour.slice(0, 10);
    if (!byDay.has(day)) byDay.set(day, new Map());
    byDay.get(day)!.set(Number(c.hour.slice(11, 13)), c);
  }
  const group = (chars: string[]) => [0, 6, 12, 18].map((i) => chars.slice(i, i + 6).join('')).join(' ');
  const hourDigits = Array.from({ length: 24 }, (_, h) => String(h).padStart(2, '0'));
  const lines = [
    `${r.table}  ${r.from}..${r.to}  (${r.hours.length} hours)`,
    `hour (UTC)  ${group(hourDigits.map((d) => d[0]!))}`,
    `            ${group(hourDigits.map((d) => d[1]!))}`,
  ];
  const order = Object.keys(STATE_CODES) as HourState[];
  for (const [day, cells] of byDay) {
    const chars = Array.from({ length: 24 }, (_, h) => cells.get(h)?.code ?? ' ');
    const dayCounts = new Map<HourState, number>();
    for (const c of cells.values()) dayCounts.set(c.state, (dayCounts.get(c.state) ?? 0) + 1);
    const summary = order.filter((s) => dayCounts.get(s)).map((s) => `${STATE_CODES[s]}:${dayCounts.get(s)}`).join(' ');
    lines.push(`${day}  ${group(chars)}   ${summary}`);
  }
  lines.push('');
  lines.push(`totals: ${order.map((s) => `${STATE_CODES[s]} ${s} ${r.counts[s]}`).join(' | ')}`);
  lines.push('legend:');
  for (const s of order) lines.push(`  ${STATE_CODES[s]}  ${STATE_LEGEND[s]}`);
  lines.push('     (blank: outside the range)');
  if (r.temporal === 'unavailable') lines.push('note: Temporal was not consulted, so running (R) and failed (F) hours cannot be told apart from the rest');
  const troubled = r.hours.filter((c) => c.detail);
  for (const c of troubled) lines.push(`${c.hour}: ${c.detail}`);
  return lines.join('\n');
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

interface PartitionsFlags {
  from?: string;
  to?: string;
  json?: boolean;
  temporal: boolean;
}

/** Adds the options and action to `partitions` (created, with its description, by cli/clickstream.ts). */
export function registerPartitionsCommand(partitions: Command, config: () => PipelineConfig, io: CliIo): void {
  partitions
    .requiredOption('--from <hour>', `first hour, ${HOUR_FORMAT}`)
    .requiredOption('--to <hour>', 'last hour, inclusive')
    .option('--json', 'machine-readable: counts and one record per hour')
    .option('--no-temporal', 'do not ask Temporal for each hour\'s last run (catalog and raw listing only)')
    .action(async (o: PartitionsFlags) => {
      const cfg = config();
      const { from, to } = rangeArgs(o.from, o.to, MAX_PARTITION_HOURS);
      const backend = await createBackend(cfg);
      try {
        const collect = (runs?: HourRunHistory) => collectPartitions({ backend, config: cfg, runs }, from, to);
        const report = o.temporal ? await withTemporalClient(cfg, (client) => collect(temporalHourRunHistory(client)), '; or pass --no-temporal for catalog and raw state only') : await collect();
        io.out(o.json ? JSON.stringify(report, null, 2) : formatPartitionGrid(report));
      } finally {
        await backend.close();
      }
    });
}
