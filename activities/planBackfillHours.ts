import type { PlanChunkInput, PlannedChunk } from '../core/contracts/backfill';
import { isRetryable, PipelineError } from '../core/errors';
import { addHours, formatHour, parseHour, partitionValues, PARTITION_KEYS, type Hour } from '../core/hours';
import { hourWorkflowId } from '../core/ids';
import { isPublished, rawChanged } from '../core/lineage';
import type { ActivityDeps } from './deps';
import { readRawManifest } from '../lake/rawManifest';

const FAILED_STATES = new Set(['failed', 'cancelled', 'terminated', 'timed_out']);

/**
 * Decides, for a chunk of a backfill range, which hours run: reads the catalog (published and
 * validated? lineage fingerprint), the raw manifest (S3 ListObjectsV2 on AWS) and, for mode
 * 'failed', the hour's last workflow status. Read-only, so retries are harmless.
 */
export function makePlanBackfillHours(deps: ActivityDeps) {
  return async function planBackfillHours(input: PlanChunkInput): Promise<PlannedChunk> {
    const start = parseHour(input.from);
    const out: PlannedChunk = { run: [], skipped: [], failed: [] };
    for (let i = 0; i < input.count; i++) {
      const hour = addHours(start, i);
      const key = formatHour(hour);
      try {
        await planHour(hour, key);
      } catch (err) {
        // One hour's broken state (e.g. a corrupt catalog file) fails that hour, not the whole backfill.
        if (!(err instanceof PipelineError) || isRetryable(err)) throw err;
        out.failed.push({ hour: key, reason: `${err.type}: ${err.message}` });
      }
    }
    return out;

    async function planHour(hour: Hour, key: string): Promise<void> {
      const v = partitionValues(hour);
      const published = await deps.backend.catalog.getPartition(deps.tables.database, deps.tables.curated, PARTITION_KEYS.map((k) => v[k]));
      const alreadyPublished = isPublished(published?.parameters);

      if (input.mode === 'missing' && alreadyPublished) {
        out.skipped.push({ hour: key, reason: 'already published and validated' });
        return;
      }
      if (input.mode === 'failed') {
        if (!deps.runs) throw new PipelineError('ConfigInvalid', 'backfill mode "failed" needs the worker to have a Temporal client (HourRunHistory)');
        const status = await deps.runs.lastRunStatus(hourWorkflowId(deps.tables.curated, hour));
        if (!FAILED_STATES.has(status)) {
          out.skipped.push({ hour: key, reason: status === 'none' ? 'never ran' : `last run ${status}` });
          return;
        }
      }
      const manifest = await readRawManifest(deps.backend.store, deps.layout, hour);
      if (input.mode === 'changed') {
        if (!alreadyPublished) {
          out.skipped.push({ hour: key, reason: 'not published yet (use mode "missing")' });
          return;
        }
        if (!rawChanged(published!.parameters, manifest.fingerprint)) {
          out.skipped.push({ hour: key, reason: 'raw unchanged since publish' });
          return;
        }
      }
      if (manifest.objects === 0) {
        out.failed.push({ hour: key, reason: `RawPartitionMissing: no .jsonl objects under ${manifest.prefix}` });
        return;
      }
      out.run.push(key);
    }
  };
}
