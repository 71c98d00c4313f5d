/**
 * A test lake for CLI processes against the shared dev server: a curated table of its own (so its
 * schedule id and workflow ids are its own), the hourly schedule's minute half an hour away (no
 * regular fire lands during a test), the environment a CLI process needs for it, and a cleanup
 * that also deletes the table's schedule.
 */
import { randomUUID } from 'node:crypto';
import { ScheduleNotFoundError } from '@temporalio/client';
import { hourlyScheduleId } from '../../core/ids';
import { testTemporal } from './temporalServer';
import { makeTestLake, type TestLake } from './testLake';

export interface CliLake {
  lake: TestLake;
  table: string;
  /** The schedule's fire minute. */
  minute: number;
  /** CLICKSTREAM_* settings and TEMPORAL_ADDRESS for runCli. */
  env: Record<string, string>;
  cleanup(): Promise<void>;
}

export async function makeCliLake(tablePrefix: string): Promise<CliLake> {
  const { server, client } = await testTemporal();
  const table = `${tablePrefix}_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const minute = (new Date().getUTCMinutes() + 30) % 60;
  const settings = { CLICKSTREAM_CURATED_TABLE: table, CLICKSTREAM_RAW_WAIT_SECONDS: '0', CLICKSTREAM_SCHEDULE_MINUTE: String(minute) };
  const lake = await makeTestLake(settings);
  const env = { ...settings, TEMPORAL_ADDRESS: server.address, CLICKSTREAM_LAKE_DIR: lake.config.lake.dir, CLICKSTREAM_TASK_QUEUE: lake.config.temporal.taskQueue };
  return {
    lake,
    table,
    minute,
    env,
    cleanup: async () => {
      await client.schedule
        .getHandle(hourlyScheduleId(table))
        .delete()
        .catch((err) => {
          if (!(err instanceof ScheduleNotFoundError)) throw err;
        });
      await lake.cleanup();
    },
  };
}
