/**
 * What `clickstream status` shows the on-call engineer, read in one go: the hourly schedule
 * (Temporal DescribeSchedule), the newest published hour and its freshness (the catalog), hours
 * whose latest run failed in the last 24 h with the failure's type and message (Temporal
 * visibility, then each run's result), and running backfills with their progress (visibility,
 * then the progress query). Plain JSON, so `--json` prints it as it is.
 */
import { WorkflowFailedError, type Client } from '@temporalio/client';
import type { PipelineConfig } from '../config/config';
import { PipelineError } from '../core/errors';
import { rootFailure } from '../core/failureType';
import { formatHour, hourStartMs } from '../core/hours';
import { hourlyScheduleId, WORKFLOW_TYPES } from '../core/ids';
import { newestPublishedHour } from '../lake/publishedHours';
import type { Catalog } from '../lake/ports';
import type { BackfillProgress } from '../core/contracts/backfill';
import { readBackfillStatus } from './backfillControl';
import { describeHourlySchedule, hourForNominalTime } from './hourlySchedule';

const HOUR_MS = 3_600_000;
/** How far back failed hours are listed. */
export const FAILED_WINDOW_HOURS = 24;
/** At most this many failed runs are read (newest first); more is a flood the Web UI lists better. */
export const MAX_FAILED_RUNS = 100;

export interface PipelineStatus {
  table: string;
  taskQueue: string;
  /** When this was read (ISO). */
  at: string;
  schedule:
    | { scheduleId: string; state: 'active' | 'paused'; note?: string; nextRun?: { at: string; hour: string } }
    | { scheduleId: string; state: 'missing'; fix: string };
  /** null: nothing published yet. */
  newestPublished: { hour: string; endedAt: string; freshnessSeconds: number } | null;
  /** Hours whose latest run failed within the window, newest failure first. */
  failedHours: Array<{ hour: string; workflowId: string; runId: string; failedAt: string; errorType: string; message: string }>;
  /** True when more failed runs exist than were read (MAX_FAILED_RUNS). */
  failedHoursTruncated: boolean;
  runningBackfills: Array<{ workflowId: string; startedAt: string; progress?: BackfillProgress; progressError?: string }>;
}

export async function readPipelineStatus(client: Client, catalog: Catalog, config: PipelineConfig, nowMs = Date.now()): Promise<PipelineStatus> {
  const [schedule, newestPublished, failed, runningBackfills] = await Promise.all([
    readSchedule(client, config),
    readNewestPublished(catalog, config, nowMs),
    readFailedHours(client, config, nowMs),
    readRunningBackfills(client, config),
  ]);
  return {
    table: config.tables.curated,
    taskQueue: config.temporal.taskQueue,
    at: new Date(nowMs).toISOString(),
    schedule,
    newestPublished,
    failedHours: failed.hours,
    failedHoursTruncated: failed.truncated,
    runningBackfills,
  };
}

async function readSchedule(client: Client, config: PipelineConfig): Promise<PipelineStatus['schedule']> {
  try {
    const d = await describeHourlySchedule(client, config);
    const next = d.info.nextActionTimes[0];
    return {
      scheduleId: d.scheduleId,
      state: d.state.paused ? 'paused' : 'active',
      ...(d.state.note ? { note: d.state.note } : {}),
      ...(next ? { nextRun: { at: next.toISOString(), hour: hourForNominalTime(next) } } : {}),
    };
  } catch (err) {
    // No schedule is a state to show (and fix), not a reason to hide the rest of the screen.
    if (err instanceof PipelineError && err.type === 'EntityNotFound') {
      return { scheduleId: hourlyScheduleId(config.tables.curated), state: 'missing', fix: 'clickstream schedule create' };
    }
    throw err;
  }
}

async function readNewestPublished(catalog: Catalog, config: PipelineConfig, nowMs: number): Promise<PipelineStatus['newestPublished']> {
  const newest = await newestPublishedHour(catalog, config.tables.database, config.tables.curated);
  if (!newest) return null;
  const endMs = hourStartMs(newest) + HOUR_MS;
  return { hour: formatHour(newest), endedAt: new Date(endMs).toISOString(), freshnessSeconds: Math.round((nowMs - endMs) / 1000) };
}

/** Visibility strings are quoted with single quotes; the values here come from validated config. */
const q = (v: string) => `'${v.replace(/'/g, "\\'")}'`;

async function readFailedHours(client: Client, config: PipelineConfig, nowMs: number) {
  const since = new Date(nowMs - FAILED_WINDOW_HOURS * HOUR_MS).toISOString();
  const prefix = `clickstream-hour:${config.tables.curated}:`;
  // The task queue keeps two deployments in one namespace apart; the ID prefix, two tables on one queue.
  const query =
    `WorkflowType = ${q(WORKFLOW_TYPES.hourly)} AND ExecutionStatus = 'Failed' AND CloseTime > ${q(since)} ` +
    `AND TaskQueue = ${q(config.temporal.taskQueue)}`;
  const runs: Array<{ workflowId: string; runId: string; closeTime?: Date }> = [];
  let truncated = false;
  for await (const w of client.workflow.list({ query })) {
    if (!w.workflowId.startsWith(prefix)) continue;
    if (runs.length === MAX_FAILED_RUNS) {
      truncated = true;
      break;
    }
    runs.push({ workflowId: w.workflowId, runId: w.runId, closeTime: w.closeTime });
  }
  // One entry per hour: its newest failed run, and only while that is the hour's latest run (a re-run may have fixed it).
  runs.sort((a, b) => (b.closeTime?.getTime() ?? 0) - (a.closeTime?.getTime() ?? 0));
  const newestPerHour = runs.filter((r, i) => runs.findIndex((o) => o.workflowId === r.workflowId) === i);
  const hours = await Promise.all(
    newestPerHour.map(async (r) => {
      const latest = await client.workflow.getHandle(r.workflowId).describe();
      if (latest.runId !== r.runId) return undefined;
      const failure = await client.workflow
        .getHandle(r.workflowId, r.runId)
        .result()
        .then(
          () => ({ type: 'Unknown', message: 'the run is listed as failed but returned a result' }),
          (err: unknown) => rootFailure(err instanceof WorkflowFailedError ? err.cause : err),
        );
      return {
        hour: r.workflowId.slice(prefix.length),
        workflowId: r.workflowId,
        runId: r.runId,
        failedAt: (r.closeTime ?? latest.closeTime)?.toISOString() ?? '',
        errorType: failure.type,
        message: failure.message,
      };
    }),
  );
  return { hours: hours.filter((h) => h !== undefined), truncated };
}

async function readRunningBackfills(client: Client, config: PipelineConfig): Promise<PipelineStatus['runningBackfills']> {
  const query =
    `WorkflowType = ${q(WORKFLOW_TYPES.backfill)} AND ExecutionStatus = 'Running' AND ClickstreamTable = ${q(config.tables.curated)} ` +
    `AND TaskQueue = ${q(config.temporal.taskQueue)}`;
  const ids: Array<{ workflowId: string; startTime: Date }> = [];
  for await (const w of client.workflow.list({ query })) ids.push({ workflowId: w.workflowId, startTime: w.startTime });
  return Promise.all(
    ids.map(async ({ workflowId, startTime }) => {
      try {
        const s = await readBackfillStatus(client, workflowId);
        return { workflowId, startedAt: startTime.toISOString(), progress: s.progress };
      } catch (err) {
        // No worker to answer the progress query: still list the backfill, and say why its progress is missing.
        return { workflowId, startedAt: startTime.toISOString(), progressError: err instanceof Error ? err.message : String(err) };
      }
    }),
  );
}
