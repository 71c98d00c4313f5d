import { parseHour, partitionValues, PARTITION_KEYS } from '../core/hours';
import { rawHourPrefix, s3Uri } from '../core/locations';
import type { UpsertOutcome } from '../lake/ports';
import type { ActivityDeps } from './deps';

/** Registers the raw hour in the catalog (Glue CreatePartition on AWS, GetPartition only when it exists); an existing partition is success. */
export function makeRegisterRawPartition(deps: ActivityDeps) {
  return async function registerRawPartition(input: { hour: string }): Promise<UpsertOutcome> {
    const hour = parseHour(input.hour);
    const values = partitionValues(hour);
    const { outcome } = await deps.backend.catalog.upsertPartition(deps.tables.database, deps.tables.raw, {
      values: PARTITION_KEYS.map((k) => values[k]),
      location: s3Uri(deps.layout.bucket, rawHourPrefix(deps.layout, hour)),
      parameters: {},
    });
    return outcome;
  };
}
