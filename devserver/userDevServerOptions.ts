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
 * SQLite pragmas for the state file. The server's own default is a rollback journal with
 * synchronous=FULL: several fsyncs for every transaction it commits (each workflow task,
 * activity start and completion).
 */
export const USER_SQLITE_PRAGMAS: Record<string, string> = {};

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
