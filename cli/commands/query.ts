/** `clickstream query`: ad-hoc SQL over the lake's raw, curated and rejected tables (local backend). */
import type { PipelineConfig } from '../../config/config';
import { PipelineError } from '../../core/errors';
import { createLocalBackend } from '../../lake/createBackend';
import { queryLakeTables } from '../../lake/local/lakeTables';
import { hourArg } from '../parseArgs';

export async function queryCommand(
  config: PipelineConfig,
  sql: string,
  opts: { from?: string; to?: string },
): Promise<Record<string, unknown>[]> {
  if (config.backend !== 'local') {
    throw new PipelineError('InvalidInput', `clickstream query reads the local lake; with --backend aws use Athena (see docs/aws.md)`);
  }
  const range = { from: opts.from ? hourArg('--from', opts.from) : undefined, to: opts.to ? hourArg('--to', opts.to) : undefined };
  const backend = await createLocalBackend(config);
  try {
    const [rows] = await queryLakeTables(backend, config, [sql], range);
    return rows ?? [];
  } finally {
    await backend.close();
  }
}
