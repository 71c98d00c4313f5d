import { log } from '@temporalio/activity';
import { parseHour, partitionValues, PARTITION_KEYS } from '../core/hours';
import { curatedHourPrefix, parseS3Uri } from '../core/locations';
import type { ActivityDeps } from './deps';
import type { PublishInput, PublishResult } from './types';

/**
 * Publishes a validated staging folder: one catalog write swaps the curated partition's
 * location (Glue UpdatePartition/CreatePartition on AWS), then every other run folder of that
 * hour is deleted (S3 DeleteObjects). Readers resolve data through the catalog, so they see the
 * old complete set of files or the new one, never both and never neither. Re-running converges:
 * the swap is a no-op and the deletion finds only what an interrupted run left behind.
 */
export function makePublishPartition(deps: ActivityDeps) {
  return async function publishPartition(input: PublishInput): Promise<PublishResult> {
    const hour = parseHour(input.hour);
    const v = partitionValues(hour);
    const values = PARTITION_KEYS.map((k) => v[k]);
    const { database, curated } = deps.tables;
    const previous = await deps.backend.catalog.getPartition(database, curated, values);
    const alreadyPublished = previous?.location === input.stagingLocation;
    // The replaced location is kept in the lineage, so a retried publish still reports it.
    const replaced = alreadyPublished ? previous.parameters.replaced_location || null : (previous?.location ?? null);
    const outcome = alreadyPublished
      ? 'unchanged'
      : await deps.backend.catalog.upsertPartition(database, curated, {
          values,
          location: input.stagingLocation,
          parameters: { ...input.lineage, replaced_location: replaced ?? '' },
        });

    const { bucket, key: keepPrefix } = parseS3Uri(input.stagingLocation);
    const hourObjects = await deps.backend.store.list(bucket, curatedHourPrefix(deps.layout, hour));
    const superseded = hourObjects.filter((o) => !o.key.startsWith(keepPrefix)).map((o) => o.key);
    const deletedObjects = superseded.length ? await deps.backend.store.deleteKeys(bucket, superseded) : 0;
    log.info('partition published', { hour: input.hour, location: input.stagingLocation, outcome, deletedObjects });
    return { outcome, previousLocation: replaced, deletedObjects };
  };
}
