import { createHash } from 'node:crypto';
import { PipelineError } from '../core/errors';
import type { Hour } from '../core/hours';
import { rawHourPrefix, s3Uri, type LakeLayout } from '../core/locations';
import type { ObjectStore } from './ports';
import type { RawManifest } from '../core/contracts/steps';

/**
 * The raw hour's manifest: its *.jsonl objects and a fingerprint over (key, size, etag).
 * Shared by verification (what curation will read), backfill planning (has raw changed since
 * publishing?) and `clickstream partitions`, so all mean exactly the same thing by "the raw hour".
 */
export async function readRawManifest(store: ObjectStore, layout: LakeLayout, hour: Hour): Promise<RawManifest> {
  const prefix = rawHourPrefix(layout, hour);
  // Only *.jsonl files are data: markers such as _SUCCESS or .crc files must not count as rows.
  const objects = (await store.list(layout.bucket, prefix)).filter((o) => o.key.endsWith('.jsonl'));
  const globbed = objects.find((o) => /[*?[\]{}]/.test(o.key));
  if (globbed) {
    // Engines read file lists as glob patterns; such a name could silently read other files.
    throw new PipelineError(
      'InvalidInput',
      `raw object s3://${layout.bucket}/${globbed.key} has a glob character (* ? [ ] { }) in its name; rename it at the producer and re-run the hour`,
      { details: { key: globbed.key } },
    );
  }
  const hash = createHash('sha256');
  for (const o of objects) hash.update(`${o.key}\t${o.size}\t${o.etag}\n`);
  return {
    prefix: s3Uri(layout.bucket, prefix),
    files: objects.map((o) => o.key.slice(prefix.length)),
    objects: objects.length,
    bytes: objects.reduce((sum, o) => sum + o.size, 0),
    fingerprint: objects.length ? hash.digest('hex') : '',
  };
}
