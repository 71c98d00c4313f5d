/**
 * S3 and Glue paths moto does not reach, with aws-sdk-client-mock: pagination across several
 * pages with real continuation tokens, DeleteObjects batching at 1000 keys with per-key errors,
 * BatchCreatePartition at 100 per call with per-item errors, throttling and access denial.
 */
import assert from 'node:assert/strict';
import {
  BatchCreatePartitionCommand,
  CreatePartitionCommand,
  DeleteTableCommand,
  GetPartitionCommand,
  GetPartitionsCommand,
  GetTableCommand,
  GlueClient,
  UpdatePartitionCommand,
} from '@aws-sdk/client-glue';
import { DeleteObjectsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { PipelineError, isRetryable } from '../../../core/errors';
import { GlueCatalog } from '../../../lake/aws/glueCatalog';
import { S3ObjectStore } from '../../../lake/aws/s3ObjectStore';

const CREDS = { region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' }, maxAttempts: 1 };

function sdkError(name: string, message: string, status = 400): Error {
  return Object.assign(new Error(message), { name, $fault: 'client', $metadata: { httpStatusCode: status } });
}

describe('S3ObjectStore with a scripted S3 (aws-sdk-client-mock)', () => {
  const client = new S3Client(CREDS);
  const s3 = mockClient(client);
  const store = new S3ObjectStore(client);
  beforeEach(() => s3.reset());
  after(() => s3.restore());

  it('follows continuation tokens across pages and sorts the union by key', async () => {
    const seen: Array<string | undefined> = [];
    s3.on(ListObjectsV2Command).callsFake((input: { ContinuationToken?: string }) => {
      seen.push(input.ContinuationToken);
      if (!input.ContinuationToken) return { Contents: [{ Key: 'p/b', Size: 2, ETag: '"e2"' }], IsTruncated: true, NextContinuationToken: 'c1' };
      if (input.ContinuationToken === 'c1') return { Contents: [{ Key: 'p/c', Size: 3, ETag: '"e3"' }], IsTruncated: true, NextContinuationToken: 'c2' };
      return { Contents: [{ Key: 'p/a', Size: 1, ETag: '"e1"' }], IsTruncated: false };
    });
    assert.deepEqual(await store.list('lake', 'p/'), [
      { key: 'p/a', size: 1, etag: 'e1' },
      { key: 'p/b', size: 2, etag: 'e2' },
      { key: 'p/c', size: 3, etag: 'e3' },
    ]);
    assert.deepEqual(seen, [undefined, 'c1', 'c2']);
  });

  it('deletes in batches of at most 1000 keys', async () => {
    s3.on(DeleteObjectsCommand).resolves({});
    const keys = Array.from({ length: 2500 }, (_, i) => `k/${i}`);
    assert.equal(await store.deleteKeys('lake', keys), 2500);
    const batches = s3.commandCalls(DeleteObjectsCommand).map((c) => c.args[0].input.Delete!.Objects!.map((o) => o.Key));
    assert.deepEqual(
      batches.map((b) => b.length),
      [1000, 1000, 500],
    );
    assert.deepEqual(batches.flat(), keys);
  });

  it('surfaces per-key errors (NoSuchKey aside) with the keys, typed by their code', async () => {
    s3.on(DeleteObjectsCommand).resolves({
      Errors: [
        { Key: 'k/1', Code: 'AccessDenied', Message: 'Access Denied' },
        { Key: 'k/2', Code: 'NoSuchKey', Message: 'gone already' },
        { Key: 'k/3', Code: 'AccessDenied', Message: 'Access Denied' },
      ],
    });
    await assert.rejects(store.deleteKeys('lake', ['k/1', 'k/2', 'k/3']), (err: unknown) => {
      assert.ok(err instanceof PipelineError);
      assert.equal(err.type, 'AccessDenied');
      assert.equal(isRetryable(err), false);
      assert.match(err.message, /could not delete 2 of 3 keys in s3:\/\/lake\/ \(k\/1: AccessDenied, k\/3: AccessDenied\)/);
      assert.deepEqual(
        (err.details.failedKeys as Array<{ key: string }>).map((f) => f.key),
        ['k/1', 'k/3'],
      );
      return true;
    });
    s3.reset();
    s3.on(DeleteObjectsCommand).resolves({ Errors: [{ Key: 'k/2', Code: 'NoSuchKey' }] });
    assert.equal(await store.deleteKeys('lake', ['k/2']), 1);
  });

  it('a per-key InternalError is retryable', async () => {
    s3.on(DeleteObjectsCommand).resolves({ Errors: [{ Key: 'k/1', Code: 'InternalError', Message: 'We encountered an internal error' }] });
    await assert.rejects(store.deleteKeys('lake', ['k/1']), (err: unknown) => err instanceof PipelineError && err.type === 'TransientBackend' && isRetryable(err));
  });

  it('throttling (SlowDown) and access denial on ListObjectsV2 are classified', async () => {
    s3.on(ListObjectsV2Command).rejectsOnce(sdkError('SlowDown', 'Please reduce your request rate.', 503)).rejects(sdkError('AccessDenied', 'Access Denied', 403));
    await assert.rejects(store.list('lake', 'raw/'), (err: unknown) => err instanceof PipelineError && err.type === 'Throttled' && isRetryable(err));
    await assert.rejects(store.list('lake', 'raw/'), (err: unknown) => err instanceof PipelineError && err.type === 'AccessDenied' && !isRetryable(err));
  });
});

describe('GlueCatalog with a scripted Glue (aws-sdk-client-mock)', () => {
  const client = new GlueClient(CREDS);
  const glue = mockClient(client);
  const catalog = new GlueCatalog(client);
  const TABLE = {
    Table: {
      Name: 'events',
      PartitionKeys: [{ Name: 'year', Type: 'string' }, { Name: 'month', Type: 'string' }, { Name: 'day', Type: 'string' }, { Name: 'hour', Type: 'string' }],
      StorageDescriptor: { Location: 's3://lake/raw/', Columns: [{ Name: 'event_id', Type: 'string' }] },
    },
  };
  const part = (h: number) => ({ values: ['2024', '03', '01', String(h).padStart(2, '0')], location: `s3://lake/raw/h=${h}/`, parameters: {} });
  beforeEach(() => {
    glue.reset();
    glue.on(GetTableCommand).resolves(TABLE);
  });
  after(() => glue.restore());

  it('GetPartitions follows NextToken across pages', async () => {
    const seen: Array<string | undefined> = [];
    glue.on(GetPartitionsCommand).callsFake((input: { NextToken?: string }) => {
      seen.push(input.NextToken);
      const p = (h: string) => ({ Values: ['2024', '03', '01', h], StorageDescriptor: { Location: `s3://lake/raw/${h}/` } });
      if (!input.NextToken) return { Partitions: [p('02')], NextToken: 'n1' };
      return { Partitions: [p('01')] };
    });
    assert.deepEqual(
      (await catalog.listPartitions('db', 'events')).map((x) => x.values[3]),
      ['01', '02'],
    );
    assert.deepEqual(seen, [undefined, 'n1']);
  });

  it('BatchCreatePartition is called with at most 100 partitions; AlreadyExists per item is success', async () => {
    glue.on(BatchCreatePartitionCommand).callsFake((input: { PartitionInputList: Array<{ Values: string[] }> }) => ({
      Errors: input.PartitionInputList.slice(0, 1).map((p) => ({ PartitionValues: p.Values, ErrorDetail: { ErrorCode: 'AlreadyExistsException', ErrorMessage: 'exists' } })),
    }));
    const parts = Array.from({ length: 250 }, (_, i) => part(i));
    assert.deepEqual(await catalog.createPartitions('db', 'events', parts), { created: 247, existing: 3 });
    assert.deepEqual(
      glue.commandCalls(BatchCreatePartitionCommand).map((c) => c.args[0].input.PartitionInputList!.length),
      [100, 100, 50],
    );
  });

  it('any other per-item error fails the registration, naming the partitions', async () => {
    glue.on(BatchCreatePartitionCommand).resolves({
      Errors: [{ PartitionValues: ['2024', '03', '01', '05'], ErrorDetail: { ErrorCode: 'InternalServiceException', ErrorMessage: 'try later' } }],
    });
    await assert.rejects(catalog.createPartitions('db', 'events', [part(5), part(6)]), (err: unknown) => {
      assert.ok(err instanceof PipelineError);
      assert.equal(err.type, 'TransientBackend');
      assert.match(err.message, /failed for 1 of 2 partitions \(\[2024, 03, 01, 05\]: InternalServiceException try later\)/);
      return true;
    });
  });

  it('AccessDenied on GetTable is non-retryable and names the action', async () => {
    glue.on(GetTableCommand).rejects(sdkError('AccessDeniedException', 'not authorized to perform: glue:GetTable'));
    // A fresh catalog: nothing cached by an earlier test.
    await assert.rejects(new GlueCatalog(client).upsertPartition('db', 'events', part(1)), (err: unknown) => {
      assert.ok(err instanceof PipelineError);
      assert.equal(err.type, 'AccessDenied');
      assert.match(err.message, /glue:GetTable/);
      return true;
    });
  });

  it('a partition deleted between the failed create and the read is created on the second pass; one that keeps vanishing is TransientBackend', async () => {
    const exists = sdkError('AlreadyExistsException', 'Partition already exists.');
    const gone = sdkError('EntityNotFoundException', 'Partition not found.');
    glue.on(CreatePartitionCommand).rejectsOnce(exists).resolves({});
    glue.on(GetPartitionCommand).rejects(gone);
    assert.deepEqual(await new GlueCatalog(client).upsertPartition('db', 'events', part(2)), { outcome: 'created' });
    assert.equal(glue.commandCalls(CreatePartitionCommand).length, 2);
    assert.equal(glue.commandCalls(UpdatePartitionCommand).length, 0);

    glue.on(CreatePartitionCommand).rejects(exists);
    await assert.rejects(new GlueCatalog(client).upsertPartition('db', 'events', part(2)), (err: unknown) => {
      assert.ok(err instanceof PipelineError);
      assert.equal(err.type, 'TransientBackend');
      assert.ok(isRetryable(err));
      return true;
    });
  });

  it('a table with partition projection is never cached: turning projection off reaches the next registration', async () => {
    const projected = { Table: { ...TABLE.Table, Parameters: { 'projection.enabled': 'true' } } };
    glue.on(GetTableCommand).resolvesOnce(projected).resolves(TABLE);
    glue.on(CreatePartitionCommand).resolves({});
    const fresh = new GlueCatalog(client);
    assert.deepEqual(await fresh.upsertPartition('db', 'events', part(3)), { outcome: 'unchanged' });
    assert.equal(glue.commandCalls(CreatePartitionCommand).length, 0);
    assert.deepEqual(await fresh.upsertPartition('db', 'events', part(3)), { outcome: 'created' });
    assert.equal(glue.commandCalls(GetTableCommand).length, 2);
    assert.deepEqual(glue.commandCalls(CreatePartitionCommand)[0]!.args[0].input.PartitionInput?.StorageDescriptor?.Location, 's3://lake/raw/h=3/');
  });

  it('the table definition is reused between partition writes, but not when a table change here overlapped its read', async () => {
    glue.on(CreatePartitionCommand).resolves({});
    glue.on(DeleteTableCommand).resolves({});
    const fresh = new GlueCatalog(client);
    await fresh.upsertPartition('db', 'events', part(6));
    await fresh.upsertPartition('db', 'events', part(7));
    assert.equal(glue.commandCalls(GetTableCommand).length, 1);

    const overlapped = new GlueCatalog(client);
    const writing = overlapped.upsertPartition('db', 'events', part(8)); // its GetTable is in flight...
    await overlapped.dropTable('db', 'other'); // ...while a table changes here
    await writing;
    await overlapped.upsertPartition('db', 'events', part(9));
    assert.equal(glue.commandCalls(GetTableCommand).length, 3, 'the overlapping read was not cached');
    assert.equal(glue.commandCalls(CreatePartitionCommand).length, 4);
  });

  it('a replacement that changes the partition values is refused before any write', async () => {
    glue.on(CreatePartitionCommand).rejects(sdkError('AlreadyExistsException', 'Partition already exists.'));
    glue.on(GetPartitionCommand).resolves({ Partition: { Values: part(4).values, StorageDescriptor: { Location: 's3://lake/raw/old/' }, Parameters: {} } });
    await assert.rejects(
      new GlueCatalog(client).upsertPartition('db', 'events', part(4), { replace: (p) => ({ ...p, values: part(5).values }) }),
      (err: unknown) => err instanceof PipelineError && err.type === 'InvalidInput' && /must keep its values/.test(err.message),
    );
    assert.equal(glue.commandCalls(UpdatePartitionCommand).length, 0);
  });
});
