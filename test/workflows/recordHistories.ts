/**
 * Records the workflow histories the replay test guards (`npm run record-histories`).
 * Re-record only when a workflow change is meant to be incompatible, and then version it:
 * histories of runs already in flight in production would fail the same way.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { startHour } from '../../client/hourlyStarter';
import { withWorker } from '../support/pipelineWorker';
import { stopTestTemporal, testTemporal } from '../support/temporalServer';
import { makeRawHour, makeTestLake } from '../support/testLake';

async function main() {
  const lake = await makeTestLake({ CLICKSTREAM_RAW_WAIT_SECONDS: '2', CLICKSTREAM_RAW_RECHECK_SECONDS: '1' });
  try {
    const { client } = await testTemporal();
    await makeRawHour(lake, { hour: '2024-03-01T07', rows: 40, malformed: 2, duplicates: 2 });
    const handles = await withWorker(lake, async () => {
      const ok = await startHour(client, lake.config, '2024-03-01T07');
      await ok.result();
      const missing = await startHour(client, lake.config, '2024-03-01T08');
      await missing.result().catch(() => undefined);
      return { 'hourly-published': ok, 'hourly-raw-missing': missing };
    });
    for (const [name, handle] of Object.entries(handles)) {
      const history = await handle.fetchHistory();
      const file = path.join(__dirname, 'histories', `${name}.json`);
      await fs.writeFile(file, historyToJSON(history) + '\n');
      console.log(`recorded ${history.events?.length} events -> ${file}`);
    }
  } finally {
    await lake.cleanup();
    await stopTestTemporal();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
