/** One Temporal connection per CLI command: opened after the arguments are validated, closed in finally. */
import { Client, Connection } from '@temporalio/client';
import type { PipelineConfig } from '../config/config';
import { PipelineError } from '../core/errors';

/** `hint` is appended when the server cannot be reached (e.g. a flag that avoids needing it). */
export async function withTemporalClient<T>(config: PipelineConfig, fn: (client: Client) => Promise<T>, hint = ''): Promise<T> {
  const { address, namespace } = config.temporal;
  let connection: Connection;
  try {
    connection = await Connection.connect({ address, connectTimeout: 5_000 });
  } catch (err) {
    throw new PipelineError(
      'TransientBackend',
      `cannot reach Temporal at ${address} (${(err as Error).message}); start it with 'npm start', or point --temporal-address / TEMPORAL_ADDRESS at your server${hint}`,
      { cause: err },
    );
  }
  try {
    return await fn(new Client({ connection, namespace }));
  } finally {
    await connection.close();
  }
}
