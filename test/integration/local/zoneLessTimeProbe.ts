/**
 * Child-process probe for curation.test.ts: curates one raw line whose event_time has no zone,
 * through the real activities, and prints the stored UTC time as JSON. The parent runs it with
 * a non-UTC TZ, because the process time zone cannot be changed once DuckDB has loaded.
 */
import { makeRawHour, makeTestLake } from '../../support/testLake';
import { runHourSteps, stagedRows } from './pipelineSteps';

async function main(): Promise<void> {
  const lake = await makeTestLake();
  try {
    const hour = '2024-03-01T07';
    await makeRawHour(lake, { hour, files: 1, lines: [JSON.stringify({ event_id: 'z', event_time: '2024-03-01T07:20:00', user_id: 'u' })] });
    const { staging } = await runHourSteps(lake, hour, 'run-zoneless');
    const rows = await stagedRows(lake, staging.stagingLocation);
    const [tz] = await lake.backend.engine.runNow(`SELECT current_setting('TimeZone') AS tz`);
    process.stdout.write(JSON.stringify({ times: rows.map((r) => r.event_time), sessionTimeZone: tz?.tz }));
  } finally {
    await lake.cleanup();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
