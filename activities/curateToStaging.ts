import { parseHour, partitionValues } from '../core/hours';
import { s3Uri, stagingPrefix } from '../core/locations';
import type { ActivityDeps } from './deps';
import { queryToken } from './queryToken';
import { runEngineQuery } from './runEngineQuery';
import type { StagingResult } from '../core/contracts/steps';

export interface CurateInput {
  hour: string;
  /** The verified raw prefix and the exact files to read (relative keys from the manifest). */
  rawPrefix: string;
  files: string[];
  /** The workflow run id: the staging folder and query tokens are unique to it. */
  runId: string;
}

/**
 * Runs the curation query (Athena StartQueryExecution/GetQueryExecution on AWS) into a staging
 * folder unique to this run. Nothing readers see changes here; publish does that.
 */
export function makeCurateToStaging(deps: ActivityDeps) {
  return async function curateToStaging(input: CurateInput): Promise<StagingResult> {
    const hour = parseHour(input.hour);
    const stagingLocation = s3Uri(deps.layout.bucket, stagingPrefix(deps.layout, hour, input.runId));
    const rawFiles = input.files.map((f) => `${input.rawPrefix}${f}`);
    const done = await runEngineQuery(
      deps.backend.engine,
      (epoch) =>
        deps.backend.statements.curateHour({
          rawFiles,
          stagingLocation,
          partition: partitionValues(hour),
          idempotencyToken: queryToken(deps.tables.curated, hour, 'curate', input.runId, epoch),
        }),
      deps.poll,
    );
    return { stagingLocation, queryId: done.queryId, statusCalls: done.statusCalls, ...statsOf(done.status.stats) };
  };
}

export function statsOf(stats: { bytesScanned: number; engineMs: number; queueMs: number }) {
  return { bytesScanned: stats.bytesScanned, engineMs: stats.engineMs, queueMs: stats.queueMs };
}
