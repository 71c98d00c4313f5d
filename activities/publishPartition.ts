import { log } from '@temporalio/activity';
import { parseHour, partitionValues, PARTITION_KEYS } from '../core/hours';
import { curatedHourPrefix, parseS3Uri } from '../core/locations';
import type { ActivityDeps } from './deps';
import type { PublishInput, PublishResult } from '../core/contracts/steps';

/**
 * Publishes a validated staging folder: one catalog write swaps the curated partition's
 * location (Glue CreatePartition on AWS; GetPartition and UpdatePartition when it exists), drops
 * the CTAS staging table (Glue DeleteTable), then every other run folder of that hour is deleted
 * (S3 DeleteObjects). Readers resolve data through the catalog, so they see the
 * old complete set of files or the new one, never both and never neither. Re-running converges:
 * the swap is a no-op and the deletion finds only what an interrupted run left behind.
 */
export function makePublishPartition(deps: ActivityDeps) {
  return async function publishPartition(input: PublishInput): Promise<PublishResult> {
    const hour = parseHour(input.hour);
    const v = partitionValues(hour);
    const values = PARTITION_KEYS.map((k) => v[k]);
    const { database, curated } = deps.tables;
    const desired = { values, location: input.stagingLocation, parameters: { ...input.lineage, replaced_location: '' } };
    // One catalog call reads nothing first: it creates the partition, or swaps it and reports the one it found.
    const { outcome, previous } = await deps.backend.catalog.upsertPartition(database, curated, desired, {
      // Already at this location: a retried publish finds its own swap and leaves it as it is. Otherwise the
      // swap records what it replaced in the same write, so a retry can still report it.
      replace: (found) =>
        found.location === input.stagingLocation ? found : { ...desired, parameters: { ...input.lineage, replaced_location: found.location } },
    });
    const replaced = !previous ? null : previous.location === input.stagingLocation ? previous.parameters.replaced_location || null : previous.location;
    // The CTAS staging table's folder is now the partition: its own metadata is redundant (Glue
    // DeleteTable; already gone on a retry). DuckDB curation makes no such table.
    const stagingTable = deps.backend.statements.stagingTable?.(input.stagingLocation);
    if (stagingTable && deps.backend.catalog.dropTable) await deps.backend.catalog.dropTable(database, stagingTable);

    const { bucket, key: keepPrefix } = parseS3Uri(input.stagingLocation);
    const hourObjects = await deps.backend.store.list(bucket, curatedHourPrefix(deps.layout, hour));
    const superseded = hourObjects.filter((o) => !o.key.startsWith(keepPrefix)).map((o) => o.key);
    const deletedObjects = superseded.length ? await deps.backend.store.deleteKeys(bucket, superseded) : 0;
    log.info('partition published', { hour: input.hour, location: input.stagingLocation, outcome, deletedObjects });
    return { outcome, previousLocation: replaced, deletedObjects };
  };
}
