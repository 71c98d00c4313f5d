/**
 * The Temporal dev server exactly as `npm start` starts it when no server answers at
 * TEMPORAL_ADDRESS: state in `<lake>/_temporal/temporal.db`, the Web UI, this project's search
 * attributes. One function, called by workers/main.ts and by bench B2, so the benchmark measures
 * the server users run (issue 14: the persistent file made it about half as fast as the
 * in-memory server the benchmark used to measure).
 */
import * as path from 'node:path';
import type { PipelineConfig } from '../config/config';
import { SEARCH_ATTRIBUTES } from '../core/searchAttributes';
import type { DevServerOptions } from './devServer';

/**
 * SQLite pragmas for the state file: write-ahead log, synced at checkpoints only.
 *
 * The server's own default is a rollback journal with synchronous=FULL: for every transaction it
 * commits (each workflow task, activity start and completion) it creates, syncs and deletes a
 * journal file and syncs the database. Bench B2, 240 hours at concurrency 16, same run: 2.8-3.7
 * partitions/s with that default, 8.6 with these, 7.9 on the in-memory server; the server's CPU
 * per partition 101-120 ms -> 55 ms (in-memory: 61). synchronous=FULL with WAL (one sync per
 * commit) gave 4.2/s; OFF gave 9.0/s, within the noise of NORMAL.
 *
 * What it gives up: a committed transaction survives a crash of the server or of npm start (it
 * is in the OS's page cache), but after a power loss or an OS crash the transactions since the
 * last checkpoint may be rolled back. The file stays consistent (WAL never tears a commit), so
 * Temporal resumes from a slightly earlier state and re-runs the steps it no longer sees done;
 * every step is idempotent (a re-published hour replaces, never appends), so the lake is not
 * harmed. OFF was not chosen: it also skips the syncs that keep the file consistent at a
 * checkpoint, so a power loss could corrupt it, for no speed measured.
 */
export const USER_SQLITE_PRAGMAS: Record<string, string> = { journal_mode: 'wal', synchronous: 'normal' };

/** Where `npm start` keeps the dev server's state and log: beside the lake it belongs to. */
export function userDevServerStateDir(config: Pick<PipelineConfig, 'lake'>): string {
  return path.join(config.lake.dir, '_temporal');
}

/** The options `npm start` passes to startDevServer. */
export function userDevServerOptions(
  config: Pick<PipelineConfig, 'lake' | 'temporal'>,
  log?: (message: string) => void,
): DevServerOptions & { dbFile: string } {
  const { address, uiPort, namespace } = config.temporal;
  const stateDir = userDevServerStateDir(config);
  return {
    port: Number(address.slice(address.lastIndexOf(':') + 1)),
    uiPort,
    dbFile: path.join(stateDir, 'temporal.db'),
    sqlitePragmas: USER_SQLITE_PRAGMAS,
    namespace,
    logFile: path.join(stateDir, 'server.log'),
    searchAttributes: SEARCH_ATTRIBUTES,
    log,
  };
}
