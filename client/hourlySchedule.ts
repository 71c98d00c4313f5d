/**
 * Creates, inspects and steers the hourly Schedule. It fires at :MM every hour and its action
 * processes the previous complete hour, taken from the nominal fire time (see
 * workflows/scheduledHour.ts). Every operator path (CLI, npm start, tests) goes through here.
 */
import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleDescription,
  type ScheduleHandle,
} from '@temporalio/client';
import type { PipelineConfig } from '../config/config';
import { PipelineError } from '../core/errors';
import { addHours, formatHour, hourCount, hourStartMs, previousCompleteHour, type Hour } from '../core/hours';
import { hourlyScheduleId, WORKFLOW_TYPES } from '../core/ids';
import type { ScheduledHourInput } from '../core/contracts/hourly';

const HOUR_MS = 3_600_000;

/** One scheduled run at a time; a run still going when the next fires is followed by exactly one more. */
export const SCHEDULE_OVERLAP = ScheduleOverlapPolicy.BUFFER_ONE;
/**
 * After downtime, fire every missed hour of the last day. Set explicitly: the server's default
 * is one year while parts of the SDK docs say otherwise, and a year of catch-up after a long
 * outage would flood the engine; older gaps are a job for a backfill.
 */
export const SCHEDULE_CATCHUP_WINDOW_MS = 24 * HOUR_MS;
/** Catching up through the Schedule runs hours one after another; a bigger gap is a backfill. */
export const MAX_SCHEDULE_CATCH_UP_HOURS = 72;

/** What `create` would send: the one definition of the hourly Schedule. */
export function hourlyScheduleDefinition(config: PipelineConfig) {
  const input: ScheduledHourInput = { table: config.tables.curated, rawWait: config.rawWait };
  return {
    scheduleId: hourlyScheduleId(config.tables.curated),
    spec: { intervals: [{ every: HOUR_MS, offset: config.schedule.minuteOffset * 60_000 }] },
    action: {
      type: 'startWorkflow' as const,
      workflowType: WORKFLOW_TYPES.scheduledHour,
      taskQueue: config.temporal.taskQueue,
      args: [input],
    },
    policies: { overlap: SCHEDULE_OVERLAP, catchupWindow: SCHEDULE_CATCHUP_WINDOW_MS },
  };
}

/** Creates the Schedule, or updates spec, action and policies of an existing one (its paused state is kept). */
export async function ensureHourlySchedule(client: Client, config: PipelineConfig): Promise<'created' | 'updated'> {
  const { scheduleId, spec, action, policies } = hourlyScheduleDefinition(config);
  try {
    await client.schedule.create({ scheduleId, spec, action, policies });
    return 'created';
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    await client.schedule.getHandle(scheduleId).update((prev) => ({ ...prev, spec, action, policies }));
    return 'updated';
  }
}

/** The nominal fire time whose run processes `hour`: the next hour's start plus the minute offset. */
export function nominalTimeFor(hour: Hour, minuteOffset: number): Date {
  return new Date(hourStartMs(addHours(hour, 1)) + minuteOffset * 60_000);
}

/** The hour a run with this nominal time processes (same rule as workflows/scheduledHour.ts). */
export function hourForNominalTime(nominal: Date): string {
  return formatHour(previousCompleteHour(nominal.getTime()));
}

export async function describeHourlySchedule(client: Client, config: PipelineConfig): Promise<ScheduleDescription> {
  return withSchedule(client, config, (h) => h.describe());
}

export async function pauseHourlySchedule(client: Client, config: PipelineConfig, note: string): Promise<void> {
  await withSchedule(client, config, (h) => h.pause(note));
}

export async function unpauseHourlySchedule(client: Client, config: PipelineConfig, note: string): Promise<void> {
  await withSchedule(client, config, (h) => h.unpause(note));
}

/**
 * Takes the action now (also while paused). The nominal time is the trigger time, so the run
 * processes the hour before it. ALLOW_ALL: a trigger is deliberate and the per-hour workflow ID
 * already stops the same hour from running twice.
 */
export async function triggerHourlySchedule(client: Client, config: PipelineConfig): Promise<void> {
  await withSchedule(client, config, (h) => h.trigger(ScheduleOverlapPolicy.ALLOW_ALL));
}

export async function deleteHourlySchedule(client: Client, config: PipelineConfig): Promise<void> {
  await withSchedule(client, config, (h) => h.delete());
}

/**
 * Replays the Schedule for hours it missed (Temporal's schedule backfill): one run per hour, at
 * the nominal time that hour's regular run would have had, so the runs are indistinguishable
 * from on-time ones. BUFFER_ALL runs them one after another so a catch-up cannot swamp the engine.
 */
export async function catchUpHourlySchedule(client: Client, config: PipelineConfig, from: Hour, to: Hour): Promise<Date[]> {
  const count = hourCount(from, to);
  if (count < 1 || count > MAX_SCHEDULE_CATCH_UP_HOURS) {
    throw new PipelineError(
      'InvalidInput',
      `schedule catch-up takes 1 to ${MAX_SCHEDULE_CATCH_UP_HOURS} hours (got ${count}); use clickstream backfill for larger ranges`,
    );
  }
  const first = nominalTimeFor(from, config.schedule.minuteOffset);
  const last = nominalTimeFor(to, config.schedule.minuteOffset);
  // The server takes every fire time in [start, end]; a second of margin either side is safe with hourly fires.
  await withSchedule(client, config, (h) =>
    h.backfill([{ start: new Date(first.getTime() - 1000), end: new Date(last.getTime() + 1000), overlap: ScheduleOverlapPolicy.BUFFER_ALL }]),
  );
  return Array.from({ length: count }, (_, i) => nominalTimeFor(addHours(from, i), config.schedule.minuteOffset));
}

async function withSchedule<T>(client: Client, config: PipelineConfig, fn: (h: ScheduleHandle) => Promise<T>): Promise<T> {
  const scheduleId = hourlyScheduleId(config.tables.curated);
  try {
    return await fn(client.schedule.getHandle(scheduleId));
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) {
      throw new PipelineError('EntityNotFound', `no schedule '${scheduleId}' in namespace ${config.temporal.namespace}; create it with: clickstream schedule create`, {
        cause: err,
      });
    }
    throw err;
  }
}
