/** Writes generated lines as a raw hour's JSONL files. Refuses to touch an hour that already has raw data. */
import { PipelineError } from '../core/errors';
import { formatHour, type Hour } from '../core/hours';
import { rawHourPrefix, type LakeLayout } from '../core/locations';
import type { ObjectStore } from '../lake/ports';

export async function writeRawHour(
  store: ObjectStore,
  layout: LakeLayout,
  hour: Hour,
  lines: string[],
  opts: { files?: number; lineEnding?: '\n' | '\r\n' } = {},
): Promise<string[]> {
  const prefix = rawHourPrefix(layout, hour);
  const existing = await store.list(layout.bucket, prefix);
  if (existing.length > 0) {
    throw new PipelineError(
      'InvalidInput',
      `raw hour ${formatHour(hour)} already has ${existing.length} object(s) under s3://${layout.bucket}/${prefix}; raw data is never overwritten, pick another hour range`,
    );
  }
  const files = Math.max(1, Math.min(opts.files ?? 1, Math.max(1, lines.length)));
  const per = Math.ceil(lines.length / files);
  const keys: string[] = [];
  for (let f = 0; f < files; f++) {
    const chunk = lines.slice(f * per, (f + 1) * per);
    const key = `${prefix}part-${String(f).padStart(4, '0')}.jsonl`;
    const eol = opts.lineEnding ?? '\n';
    await store.put(layout.bucket, key, chunk.length ? chunk.join(eol) + eol : '');
    keys.push(key);
  }
  return keys;
}
