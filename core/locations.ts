/**
 * Where an hour's objects live. Pure: built from validated config and an Hour, so the
 * same keys are produced by the worker, the CLI, the generator and the tests.
 */
import { partitionPath, type Hour } from './hours';

export interface LakeLayout {
  bucket: string;
  rawPrefix: string;
  curatedPrefix: string;
}

export function s3Uri(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}

/** Splits s3://bucket/key; throws on anything else so a bad location never reaches a store. */
export function parseS3Uri(uri: string): { bucket: string; key: string } {
  const m = /^s3:\/\/([a-z0-9](?:[a-z0-9.-]*[a-z0-9])?)\/(.*)$/.exec(uri);
  if (!m || m[1]!.includes('..')) throw new Error(`not an s3://bucket/key location: '${uri}'`);
  return { bucket: m[1]!, key: m[2]! };
}

/** 'raw/clickstream/year=YYYY/month=MM/day=DD/hour=HH/' (trailing slash: a prefix, not a key). */
export function rawHourPrefix(layout: LakeLayout, hour: Hour): string {
  return `${layout.rawPrefix}/${partitionPath(hour)}/`;
}

/** The curated hour's parent prefix; every run's output lives below it, one folder per run. */
export function curatedHourPrefix(layout: LakeLayout, hour: Hour): string {
  return `${layout.curatedPrefix}/${partitionPath(hour)}/`;
}

/**
 * A staging prefix unique to one attempt epoch (workflow run). It becomes the published
 * location as is: publishing swaps the catalog pointer, it never copies or moves data.
 */
export function stagingPrefix(layout: LakeLayout, hour: Hour, attemptEpoch: string): string {
  const safe = attemptEpoch.replace(/[^A-Za-z0-9-]/g, '').slice(0, 64);
  if (safe.length === 0) throw new Error(`attempt epoch '${attemptEpoch}' has no usable characters`);
  return `${curatedHourPrefix(layout, hour)}run=${safe}/`;
}

export function tableRoot(layout: LakeLayout, which: 'raw' | 'curated'): string {
  return s3Uri(layout.bucket, `${which === 'raw' ? layout.rawPrefix : layout.curatedPrefix}/`);
}
