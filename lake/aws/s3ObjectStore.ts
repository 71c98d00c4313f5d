/**
 * ObjectStore over S3: ListObjectsV2 (all pages, via the SDK paginator), DeleteObjects in
 * batches of 1000 with every per-key error surfaced, PutObject.
 */
import { DeleteObjectsCommand, PutObjectCommand, paginateListObjectsV2, type S3Client } from '@aws-sdk/client-s3';
import { PipelineError } from '../../core/errors';
import type { ObjectInfo, ObjectStore } from '../ports';
import { awsCall, classifyAwsError } from './classifyAwsError';

/** DeleteObjects accepts at most 1000 keys per request. */
export const DELETE_BATCH = 1000;

export class S3ObjectStore implements ObjectStore {
  constructor(
    private readonly s3: S3Client,
    private readonly opts: { pageSize?: number } = {},
  ) {}

  async list(bucket: string, prefix: string): Promise<ObjectInfo[]> {
    const out: ObjectInfo[] = [];
    const ctx = { service: 'S3', operation: 'ListObjectsV2', resource: `s3://${bucket}/${prefix}`, setting: 'CLICKSTREAM_BUCKET' } as const;
    await awsCall(ctx, async () => {
      const pages = paginateListObjectsV2({ client: this.s3, pageSize: this.opts.pageSize }, { Bucket: bucket, Prefix: prefix });
      for await (const page of pages) {
        for (const o of page.Contents ?? []) {
          if (o.Key === undefined) continue;
          out.push({ key: o.Key, size: o.Size ?? 0, etag: (o.ETag ?? '').replace(/"/g, '') });
        }
      }
    });
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async deleteKeys(bucket: string, keys: string[]): Promise<number> {
    for (let i = 0; i < keys.length; i += DELETE_BATCH) {
      const batch = keys.slice(i, i + DELETE_BATCH);
      const ctx = { service: 'S3', operation: 'DeleteObjects', resource: `s3://${bucket}/ (${batch.length} keys)` } as const;
      const res = await awsCall(ctx, () =>
        this.s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } })),
      );
      // A missing key is already deleted; every other per-key error fails the call.
      const errors = (res.Errors ?? []).filter((e) => e.Code !== 'NoSuchKey');
      if (errors.length > 0) {
        const first = errors[0]!;
        const classified = classifyAwsError({ name: first.Code, message: first.Message }, ctx);
        const sample = errors
          .slice(0, 5)
          .map((e) => `${e.Key}: ${e.Code}`)
          .join(', ');
        throw new PipelineError(
          classified.type,
          `S3 DeleteObjects could not delete ${errors.length} of ${batch.length} keys in s3://${bucket}/ (${sample}${errors.length > 5 ? ', ...' : ''}). ${classified.message}`,
          {
            cause: classified,
            details: { ...classified.details, failedKeys: errors.map((e) => ({ key: e.Key, code: e.Code, message: e.Message })) },
            retryable: classified.retryableOverride,
          },
        );
      }
    }
    return keys.length;
  }

  async put(bucket: string, key: string, body: string | Uint8Array): Promise<void> {
    await awsCall({ service: 'S3', operation: 'PutObject', resource: `s3://${bucket}/${key}`, setting: 'CLICKSTREAM_BUCKET' }, () =>
      this.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body })),
    );
  }
}
