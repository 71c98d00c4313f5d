import { parseHour } from '../core/hours';
import type { ActivityDeps } from './deps';
import { readRawManifest } from '../lake/rawManifest';
import type { RawManifest } from '../core/contracts/steps';

/** Lists the raw hour (S3 ListObjectsV2 on AWS) and returns its manifest; an empty list means "not there yet". */
export function makeVerifyRawPartition(deps: ActivityDeps) {
  return async function verifyRawPartition(input: { hour: string }): Promise<RawManifest> {
    return readRawManifest(deps.backend.store, deps.layout, parseHour(input.hour));
  };
}
