/**
 * The job `npm start` runs once its worker polls: seed demo raw data when the lake is empty, run
 * every recent hour that has raw data and no published curated partition, and print a summary
 * table of all of them. Any launcher with a Temporal client and a backend can run it; a worker
 * must be polling the pipeline's task queue, or the hours wait for one.
 */
import { WorkflowFailedError, type Client } from '@temporalio/client';
import type { PipelineConfig } from '../config/config';
import { rootFailure } from '../core/failureType';
import { addHours, formatHour, hourFromMs, partitionValues, PARTITION_KEYS, type Hour } from '../core/hours';
import { isPublished } from '../core/lineage';
import { rawHourPrefix } from '../core/locations';
import { generateHour } from '../generator/clickstreamGenerator';
import { writeRawHour } from '../generator/writeRawHour';
import type { LakeBackend } from '../lake/ports';
import { summaryTable, type HourSummaryRow } from './formatReport';
import { startHour } from './hourlyStarter';

/** The last six whole hours: enough to see a day's shape start, quick to process on a laptop. */
export const RECENT_HOURS = 6;
const DEMO_EVENTS_PER_HOUR = 500;

export interface RecentHoursOptions {
  /** The clock the recent hours count back from (the hour before the current one is the last). */
  nowMs: number;
  /** Where progress lines and the summary go. */
  say: (line: string) => void;
}

/** Seeds demo data into an empty lake, processes the recent hours not yet published, prints their summary; returns its rows. */
export async function seedAndProcessRecentHours(client: Client, backend: LakeBackend, config: PipelineConfig, opts: RecentHoursOptions): Promise<HourSummaryRow[]> {
  const { say } = opts;
  const recent = recentHours(opts.nowMs);
  if (await lakeIsEmpty(backend, config)) {
    say(`lake ${config.lake.dir} is empty: seeding ${RECENT_HOURS} demo hours (${DEMO_EVENTS_PER_HOUR} events each, ~1% malformed, ~1% duplicates)`);
    for (const hour of recent) {
      const g = generateHour({ hour, events: DEMO_EVENTS_PER_HOUR, seed: 42, malformedRate: 0.01, duplicateRate: 0.01 });
      await writeRawHour(backend.store, config.lake, hour, g.lines, { files: 2 });
    }
  }
  say(`processing recent hours ${formatHour(recent[0]!)} .. ${formatHour(recent[recent.length - 1]!)} ...`);
  const rows = await processRecentHours(client, backend, config, recent);
  say('');
  say(summaryTable(rows));
  say('');
  return rows;
}

function recentHours(nowMs: number): Hour[] {
  const last = addHours(hourFromMs(nowMs), -1);
  return Array.from({ length: RECENT_HOURS }, (_, i) => addHours(last, i - RECENT_HOURS + 1));
}

async function lakeIsEmpty(backend: LakeBackend, config: PipelineConfig): Promise<boolean> {
  return (await backend.store.list(config.lake.bucket, `${config.lake.rawPrefix}/`)).length === 0;
}

/** Runs every recent hour that has raw data and no validated curated partition yet; reports all of them. */
async function processRecentHours(client: Client, backend: LakeBackend, config: PipelineConfig, hours: Hour[]): Promise<HourSummaryRow[]> {
  return Promise.all(
    hours.map(async (hour): Promise<HourSummaryRow> => {
      const key = formatHour(hour);
      const v = partitionValues(hour);
      const published = await backend.catalog.getPartition(config.tables.database, config.tables.curated, PARTITION_KEYS.map((k) => v[k]));
      if (published && isPublished(published.parameters)) return rowFromParameters(key, 'published earlier', published.parameters);
      const raw = await backend.store.list(config.lake.bucket, rawHourPrefix(config.lake, hour));
      if (raw.length === 0) return { hour: key, status: 'no raw data', detail: 'the schedule will pick it up when data lands' };
      try {
        // The raw files were just listed: a run that finds none fails at once rather than waiting for late data.
        const report = await (await startHour(client, { ...config, rawWait: { timeoutSeconds: 0, recheckSeconds: 1 } }, key)).result();
        const c = report.counts;
        return { hour: key, status: 'published', raw_lines: c.rawLines, curated: c.curatedRows, rejected: c.rejected, duplicates: c.duplicates };
      } catch (err) {
        const detail = err instanceof WorkflowFailedError && err.cause ? rootFailure(err.cause).message : (err as Error).message;
        return { hour: key, status: 'failed', detail };
      }
    }),
  );
}

function rowFromParameters(hour: string, status: string, p: Record<string, string>): HourSummaryRow {
  return { hour, status, raw_lines: Number(p.raw_lines), curated: Number(p.curated_rows), rejected: Number(p.rejected), duplicates: Number(p.duplicates) };
}
