/**
 * Creates or updates the hourly Schedule. It fires at :MM every hour and its action processes
 * the previous complete hour, taken from the nominal fire time (see workflows/scheduledHour.ts).
 */
import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import type { PipelineConfig } from '../config/config';
import { hourlyScheduleId, WORKFLOW_TYPES } from '../core/ids';
import type { ScheduledHourInput } from '../workflows/types';

const HOUR_MS = 3_600_000;

export async function ensureHourlySchedule(client: Client, config: PipelineConfig): Promise<'created' | 'updated'> {
  const scheduleId = hourlyScheduleId(config.tables.curated);
  const input: ScheduledHourInput = { table: config.tables.curated, rawWait: config.rawWait };
  const spec = { intervals: [{ every: HOUR_MS, offset: config.schedule.minuteOffset * 60_000 }] };
  const action = {
    type: 'startWorkflow' as const,
    workflowType: WORKFLOW_TYPES.scheduledHour,
    taskQueue: config.temporal.taskQueue,
    args: [input],
  };
  const policies = {
    // One scheduled run at a time; a run still going when the next fires is followed by exactly one more.
    overlap: ScheduleOverlapPolicy.BUFFER_ONE,
    // After downtime, fire every missed hour of the last day (the SDK default is documented inconsistently).
    catchupWindow: 24 * HOUR_MS,
  };
  try {
    await client.schedule.create({ scheduleId, spec, action, policies });
    return 'created';
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    await client.schedule.getHandle(scheduleId).update((prev) => ({ ...prev, spec, action, policies }));
    return 'updated';
  }
}
