/**
 * `npm start`: the whole pipeline on one machine, on the embedded default. A launcher only:
 * uses the Temporal server at TEMPORAL_ADDRESS if one answers, else starts a dev server with a
 * persistent DB file and the Web UI; starts a worker; creates or updates the hourly Schedule;
 * runs the demo job (client/recentHours.ts: seed when empty, process recent hours, summary);
 * prints where to look. Ctrl-C stops everything cleanly; a second `npm start` resumes the same
 * state. `npm start -- --once` exits after the job (used by the smoke test).
 */
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { ensureHourlySchedule } from '../client/hourlySchedule';
import { temporalHourRunHistory } from '../client/hourRunHistory';
import { seedAndProcessRecentHours } from '../client/recentHours';
import { runningBackfillCounter } from '../client/runningBackfills';
import { loadConfig, type PipelineConfig } from '../config/config';
import { hourlyScheduleId } from '../core/ids';
import { ensureSearchAttributes } from '../client/searchAttributes';
import { DevServerPortTakenError, startDevServer, type DevServer } from '../devserver/devServer';
import { canConnect } from '../devserver/freePort';
import { userDevServerOptions } from '../devserver/userDevServerOptions';
import { createBackend } from '../lake/createBackend';
import { createPipelineWorker } from './createPipelineWorker';
import { installRuntime } from './installRuntime';

async function main(): Promise<void> {
  const config = loadConfig();
  // The summary below is what the operator reads; worker lifecycle chatter would bury it.
  installRuntime(config, { logLevel: 'WARN' });
  const once = process.argv.includes('--once');
  const say = (m: string) => console.log(m);
  const backend = await createBackend(config, { createLakeDir: true });
  let devServer: DevServer | undefined;
  let connection: Connection | undefined;
  let nativeConnection: NativeConnection | undefined;
  try {
    const address = await temporalAddress(config, (s) => (devServer = s), say);
    connection = await Connection.connect({ address });
    const added = await ensureSearchAttributes(connection, config.temporal.namespace);
    if (added.length) say(`registered search attributes: ${added.join(', ')}`);
    nativeConnection = await NativeConnection.connect({ address });
    const client = new Client({ connection, namespace: config.temporal.namespace });
    const worker = await createPipelineWorker({
      config,
      backend,
      connection: nativeConnection,
      runs: temporalHourRunHistory(client),
      countRunningBackfills: runningBackfillCounter(client, config),
    });
    const running = worker.run();

    const schedule = await ensureHourlySchedule(client, config);
    say(`hourly schedule ${hourlyScheduleId(config.tables.curated)}: ${schedule} (fires at :${String(config.schedule.minuteOffset).padStart(2, '0')}, processes the previous hour)`);

    await seedAndProcessRecentHours(client, backend, config, { nowMs: Date.now(), say });
    say(`Temporal Web UI: ${devServer?.uiUrl ?? `(your server at ${address})`}`);
    say(`lake folder:     ${config.lake.dir}`);
    say(`query it:        npx clickstream query "SELECT year, month, day, hour, count(*) AS events FROM clickstream_events_curated GROUP BY ALL ORDER BY ALL"`);
    if (once) worker.shutdown();
    else say('worker running; Ctrl-C stops the worker and the dev server');
    await running; // the SDK turns SIGINT/SIGTERM into a graceful worker shutdown
  } finally {
    await nativeConnection?.close().catch(() => undefined);
    await connection?.close().catch(() => undefined);
    await backend.close();
    if (devServer) {
      say('stopping Temporal dev server');
      await devServer.stop();
    }
  }
}

/** TEMPORAL_ADDRESS if a server answers there; otherwise a dev server we start on that port. */
async function temporalAddress(config: PipelineConfig, onStarted: (s: DevServer) => void, say: (m: string) => void): Promise<string> {
  const address = config.temporal.address;
  if (await canConnect(address)) {
    say(`using Temporal server at ${address}`);
    return address;
  }
  // The options live in one function, which bench B2 also calls, so it measures this server.
  const options = userDevServerOptions(config, say);
  say(`no Temporal server at ${address}: starting a dev server (state in ${options.dbFile})`);
  const server = await startDevServer(options).catch((err: unknown) => {
    // Name the setting the operator can change, not the function option.
    if (err instanceof DevServerPortTakenError) {
      const setting = err.option === 'uiPort' ? 'CLICKSTREAM_TEMPORAL_UI_PORT' : 'TEMPORAL_ADDRESS';
      throw new Error(`${err.message} (the port comes from ${setting})`);
    }
    throw err;
  });
  onStarted(server);
  return server.address;
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
