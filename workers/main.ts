/**
 * `npm start`: the whole pipeline on one machine, on the embedded default.
 * Uses the Temporal server at TEMPORAL_ADDRESS if one answers, else starts a dev server with a
 * persistent DB file and the Web UI; starts a worker; creates or updates the hourly Schedule;
 * seeds demo data when the lake is empty; processes recent hours not yet published; prints
 * where to look. Ctrl-C stops everything cleanly; a second `npm start` resumes the same state.
 * `npm start -- --once` exits after processing (used by the smoke test).
 */
import * as path from 'node:path';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { ensureHourlySchedule } from '../client/hourlySchedule';
import { startHour } from '../client/hourlyStarter';
import { temporalHourRunHistory } from '../client/hourRunHistory';
import { runningBackfillCounter } from '../client/runningBackfills';
import { summaryTable, type HourSummaryRow } from '../client/formatReport';
import { loadConfig, type PipelineConfig } from '../config/config';
import { addHours, formatHour, hourFromMs, partitionValues, PARTITION_KEYS, type Hour } from '../core/hours';
import { rawHourPrefix } from '../core/locations';
import { rootFailure } from '../core/failureType';
import { hourlyScheduleId } from '../core/ids';
import { isPublished } from '../core/lineage';
import { SEARCH_ATTRIBUTES } from '../core/searchAttributes';
import { ensureSearchAttributes } from '../client/searchAttributes';
import { DevServerPortTakenError, startDevServer, type DevServer } from '../devserver/devServer';
import { canConnect } from '../devserver/freePort';
import { generateHour } from '../generator/clickstreamGenerator';
import { writeRawHour } from '../generator/writeRawHour';
import { createBackend } from '../lake/createBackend';
import type { LakeBackend } from '../lake/ports';
import { createPipelineWorker } from './createPipelineWorker';
import { installRuntime } from './installRuntime';

const RECENT_HOURS = 6;
const DEMO_EVENTS_PER_HOUR = 500;

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

    const recent = recentHours(Date.now());
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
  const port = Number(address.slice(address.lastIndexOf(':') + 1));
  const dbFile = path.join(config.lake.dir, '_temporal', 'temporal.db');
  say(`no Temporal server at ${address}: starting a dev server (state in ${dbFile})`);
  const server = await startDevServer({
    port,
    uiPort: config.temporal.uiPort,
    dbFile,
    namespace: config.temporal.namespace,
    logFile: path.join(config.lake.dir, '_temporal', 'server.log'),
    searchAttributes: SEARCH_ATTRIBUTES,
    log: say,
  }).catch((err: unknown) => {
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

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
