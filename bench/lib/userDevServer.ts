/**
 * The dev server as `npm start` starts it, for benchmarks that must measure what users run
 * (issue 14): the options come from devserver/userDevServerOptions.ts, the function
 * workers/main.ts calls, given a config whose lake folder is a fresh folder and whose ports are
 * free. Only `sqlitePragmas` may be replaced, to measure other pragmas side by side.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { loadConfig } from '../../config/config';
import { startDevServer } from '../../devserver/devServer';
import { freePort } from '../../devserver/freePort';
import { userDevServerOptions } from '../../devserver/userDevServerOptions';
import type { BenchTemporal } from './variants';

export interface UserDevServer extends BenchTemporal {
  dbFile: string;
  /** The pragmas it runs with (`--sqlite-pragma`), as passed. */
  sqlitePragmas: Record<string, string>;
  /** Bytes of the state file and its journal or WAL now. */
  stateBytes(): Promise<number>;
}

/**
 * Starts npm start's dev server on free ports, its state under a fresh folder in BENCH_STATE_DIR or
 * the OS temp folder (it must be a real disk, as a user's project folder is: on tmpfs an fsync
 * costs nothing). The folder is deleted on stop().
 */
export async function startUserDevServer(opts: { sqlitePragmas?: Record<string, string> } = {}): Promise<UserDevServer> {
  const root = await fs.mkdtemp(path.join(process.env.BENCH_STATE_DIR ?? os.tmpdir(), 'bench-user-devserver-'));
  const config = loadConfig({
    CLICKSTREAM_LAKE_DIR: root,
    TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}`,
    CLICKSTREAM_TEMPORAL_UI_PORT: String(await freePort()),
  });
  const options = userDevServerOptions(config);
  const sqlitePragmas = opts.sqlitePragmas ?? options.sqlitePragmas ?? {};
  const server = await startDevServer({ ...options, sqlitePragmas });
  const connection = await Connection.connect({ address: server.address });
  const nativeConnection = await NativeConnection.connect({ address: server.address });
  const stateFiles = [options.dbFile, `${options.dbFile}-journal`, `${options.dbFile}-wal`];
  return {
    client: new Client({ connection, namespace: config.temporal.namespace }),
    connection,
    nativeConnection,
    pid: server.process.pid!,
    dbFile: options.dbFile,
    sqlitePragmas,
    async stateBytes() {
      const sizes = await Promise.all(stateFiles.map((f) => fs.stat(f).then((s) => s.size, () => 0)));
      return sizes.reduce((a, b) => a + b, 0);
    },
    stop: async () => {
      await nativeConnection.close();
      await connection.close();
      await server.stop();
      await fs.rm(root, { recursive: true, force: true });
    },
  };
}

/** "journal_mode=wal, synchronous=normal", or the server's own default when none are set. */
export function pragmaText(pragmas: Record<string, string>): string {
  const set = Object.entries(pragmas);
  return set.length ? set.map(([k, v]) => `${k}=${v}`).join(', ') : "the server's default (rollback journal, synchronous=FULL)";
}
