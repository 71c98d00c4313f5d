/**
 * One real Temporal dev server per test run, started on first use (unit tests never pay for it)
 * and stopped by the root hook. If the CLI is missing and cannot be built, tests fail with the
 * resolver's message saying how to get it; they are never skipped.
 */
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { SEARCH_ATTRIBUTES } from '../../core/searchAttributes';
import { startDevServer, type DevServer } from '../../devserver/devServer';

export interface TestTemporal {
  server: DevServer;
  client: Client;
  connection: Connection;
  nativeConnection: NativeConnection;
}

let shared: Promise<TestTemporal> | undefined;

export function testTemporal(): Promise<TestTemporal> {
  shared ??= (async () => {
    const server = await startDevServer({ log: (m) => console.error(m), searchAttributes: SEARCH_ATTRIBUTES });
    const connection = await Connection.connect({ address: server.address });
    const nativeConnection = await NativeConnection.connect({ address: server.address });
    return { server, connection, nativeConnection, client: new Client({ connection }) };
  })();
  return shared;
}

export async function stopTestTemporal(): Promise<void> {
  if (!shared) return;
  const t = await shared.catch(() => undefined);
  shared = undefined;
  if (!t) return;
  await t.nativeConnection.close();
  await t.connection.close();
  await t.server.stop();
}
