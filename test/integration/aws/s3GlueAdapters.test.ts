/**
 * The S3 store and the Glue catalog against a real AWS-API emulator (moto server): every call
 * goes over HTTP through the real SDK clients, paginators included.
 */
import assert from 'node:assert/strict';
import { GetPartitionCommand, GetTableCommand } from '@aws-sdk/client-glue';
import { PipelineError } from '../../../core/errors';
import { curatedTableDef, rawTableDef } from '../../../lake/tableDefinitions';
import type { PartitionDef } from '../../../lake/ports';
import { GlueCatalog, TABLE_CACHE_MS } from '../../../lake/aws/glueCatalog';
import { rawLinesTableName } from '../../../lake/aws/glueTables';
import { useMotoServer } from '../../support/aws/motoServer';
import { makeAwsTestLake, type AwsTestLake } from '../../support/aws/awsTestLake';

const HOUR_VALUES = ['2024', '03', '01', '07'];

function partition(values: string[], location: string, parameters: Record<string, string> = {}): PartitionDef {
  return { values, location, parameters };
}

describe('aws adapters on moto: S3 store and Glue catalog', function () {
  this.timeout(60_000);
  const moto = useMotoServer();
  let lake: AwsTestLake;

  beforeEach(async () => {
    // Pages of 2 make the paginators really page, with moto's real continuation tokens.
    lake = await makeAwsTestLake(moto(), { pageSize: 2 });
  });
  afterEach(async () => {
    await lake?.close();
  });

  async function gluePartition(table: string, values: string[]) {
    const res = await lake.backend.clients.glue.send(new GetPartitionCommand({ DatabaseName: lake.config.tables.database, TableName: table, PartitionValues: values }));
    return res.Partition;
  }

  /** Records the Glue operations sent from now on (per request, as B6 counts them). */
  function countGlueRequests() {
    const name = `testGlueCounter-${Math.random()}`;
    let sent: string[] = [];
    const stack = lake.backend.clients.glue.middlewareStack as { add: (mw: unknown, opts: unknown) => void; remove: (name: string) => boolean };
    stack.add(
      (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: unknown) => {
        sent.push(context.commandName?.replace(/Command$/, '') ?? '?');
        return next(args);
      },
      { step: 'deserialize', name },
    );
    return {
      take(): string[] {
        const out = sent;
        sent = [];
        return out;
      },
      stop: () => stack.remove(name),
    };
  }

  describe('S3ObjectStore', () => {
    it('lists every page of a prefix, sorted, with sizes and ETags; a missing prefix is empty', async () => {
      const { store } = lake.backend;
      const bucket = lake.config.lake.bucket;
      for (const k of ['p/c.jsonl', 'p/a.jsonl', 'p/b/d.jsonl', 'p/e.jsonl', 'q/x.jsonl']) await store.put(bucket, k, `body of ${k}`);
      const listed = await store.list(bucket, 'p/');
      assert.deepEqual(
        listed.map((o) => o.key),
        ['p/a.jsonl', 'p/b/d.jsonl', 'p/c.jsonl', 'p/e.jsonl'],
      );
      assert.deepEqual(
        listed.map((o) => o.size),
        listed.map((o) => `body of ${o.key}`.length),
      );
      assert.ok(listed.every((o) => /^[0-9a-f]{32}$/.test(o.etag)), `ETags without quotes: ${listed.map((o) => o.etag).join(',')}`);
      assert.deepEqual(await store.list(bucket, 'nothing/here/'), []);
    });

    it('replacing an object changes its ETag (the manifest fingerprint depends on it)', async () => {
      const { store } = lake.backend;
      const bucket = lake.config.lake.bucket;
      await store.put(bucket, 'r/f.jsonl', 'one');
      const [before] = await store.list(bucket, 'r/');
      await store.put(bucket, 'r/f.jsonl', 'two');
      const [after] = await store.list(bucket, 'r/');
      assert.notEqual(before!.etag, after!.etag);
    });

    it('deletes exactly the given keys; a missing key is success', async () => {
      const { store } = lake.backend;
      const bucket = lake.config.lake.bucket;
      for (const k of ['d/1', 'd/2', 'd/3']) await store.put(bucket, k, 'x');
      assert.equal(await store.deleteKeys(bucket, ['d/1', 'd/3', 'd/never-existed']), 3);
      assert.deepEqual(
        (await store.list(bucket, 'd/')).map((o) => o.key),
        ['d/2'],
      );
    });

    it('a missing bucket is EntityNotFound naming CLICKSTREAM_BUCKET, not a stack trace', async () => {
      await assert.rejects(lake.backend.store.list('no-such-bucket-here', 'raw/'), (err: unknown) => {
        assert.ok(err instanceof PipelineError);
        assert.equal(err.type, 'EntityNotFound');
        assert.match(err.message, /S3 ListObjectsV2 on s3:\/\/no-such-bucket-here\/raw\/: not found .*CLICKSTREAM_BUCKET/);
        return true;
      });
    });
  });

  describe('GlueCatalog', () => {
    it('ensureTable creates the database, the tables and the raw _lines companion with projection; again is unchanged', async () => {
      const { catalog } = lake.backend;
      const { database, raw, curated } = lake.config.tables;
      const rawDef = rawTableDef(lake.config.lake, database, raw);
      assert.equal(await catalog.ensureTable(rawDef), 'unchanged', 'created by makeAwsTestLake already');
      const got = await catalog.getTable(database, raw);
      assert.deepEqual(got?.columns, rawDef.columns);
      assert.deepEqual(got?.partitionKeys, ['year', 'month', 'day', 'hour']);
      assert.equal(got?.location, `s3://${lake.config.lake.bucket}/raw/clickstream/`);
      assert.equal(got?.format, 'jsonl');

      const lines = await lake.backend.clients.glue.send(new GetTableCommand({ DatabaseName: database, Name: rawLinesTableName(raw) }));
      assert.equal(lines.Table?.Parameters?.['projection.enabled'], 'true');
      assert.equal(
        lines.Table?.Parameters?.['storage.location.template'],
        `s3://${lake.config.lake.bucket}/raw/clickstream/year=\${year}/month=\${month}/day=\${day}/hour=\${hour}/`,
      );
      assert.equal(lines.Table?.StorageDescriptor?.SerdeInfo?.SerializationLibrary, 'org.apache.hadoop.hive.serde2.RegexSerDe');

      const rawGlue = await lake.backend.clients.glue.send(new GetTableCommand({ DatabaseName: database, Name: raw }));
      assert.equal(rawGlue.Table?.StorageDescriptor?.SerdeInfo?.SerializationLibrary, 'org.openx.data.jsonserde.JsonSerDe');
      assert.equal(rawGlue.Table?.StorageDescriptor?.SerdeInfo?.Parameters?.['ignore.malformed.json'], 'true');

      const curatedDef = curatedTableDef(lake.config.lake, database, curated);
      assert.equal((await catalog.getTable(database, curated))?.format, 'parquet');
      const drifted = { ...curatedDef, columns: [...curatedDef.columns, { name: 'country', type: 'string' }] };
      assert.equal(await catalog.ensureTable(drifted), 'updated');
      assert.deepEqual((await catalog.getTable(database, curated))?.columns.at(-1), { name: 'country', type: 'string' });
      assert.equal(await catalog.ensureTable(drifted), 'unchanged');
    });

    it('upsertPartition creates, is unchanged on a repeat, and swaps the location in place, returning the partition it found', async () => {
      const { catalog } = lake.backend;
      const { database, curated } = lake.config.tables;
      const bucket = lake.config.lake.bucket;
      const first = partition(HOUR_VALUES, `s3://${bucket}/curated/clickstream/year=2024/month=03/day=01/hour=07/run=a/`, { curated_rows: '5' });
      assert.deepEqual(await catalog.upsertPartition(database, curated, first), { outcome: 'created' });
      assert.deepEqual(await catalog.upsertPartition(database, curated, first), { outcome: 'unchanged', previous: first });
      const second = { ...first, location: first.location.replace('run=a', 'run=b'), parameters: { curated_rows: '6' } };
      assert.deepEqual(await catalog.upsertPartition(database, curated, second), { outcome: 'updated', previous: first });
      assert.deepEqual(await catalog.getPartition(database, curated, HOUR_VALUES), second);
      // The partition inherits the table's Parquet storage: Athena reads it with the right SerDe.
      const stored = await gluePartition(curated, HOUR_VALUES);
      assert.equal(stored?.StorageDescriptor?.SerdeInfo?.SerializationLibrary, 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe');
      assert.equal(stored?.StorageDescriptor?.Location, second.location);
      assert.equal((await catalog.listPartitions(database, curated)).length, 1);
    });

    it('upsertPartition with replace: the swap records what it replaced in the same write; a retry is unchanged and keeps it', async () => {
      const { catalog } = lake.backend;
      const { database, curated } = lake.config.tables;
      const bucket = lake.config.lake.bucket;
      const at = (run: string) => `s3://${bucket}/curated/clickstream/year=2024/month=03/day=01/hour=07/run=${run}/`;
      const publish = (run: string) => {
        const desired = partition(HOUR_VALUES, at(run), { run_id: run, replaced_location: '' });
        return catalog.upsertPartition(database, curated, desired, {
          replace: (found) => (found.location === desired.location ? found : { ...desired, parameters: { run_id: run, replaced_location: found.location } }),
        });
      };
      assert.deepEqual(await publish('a'), { outcome: 'created' });
      const a = partition(HOUR_VALUES, at('a'), { run_id: 'a', replaced_location: '' });
      assert.deepEqual(await catalog.getPartition(database, curated, HOUR_VALUES), a);

      assert.deepEqual(await publish('b'), { outcome: 'updated', previous: a });
      const b = partition(HOUR_VALUES, at('b'), { run_id: 'b', replaced_location: at('a') });
      const stored = await gluePartition(curated, HOUR_VALUES);
      assert.equal(stored?.StorageDescriptor?.Location, at('b'));
      assert.deepEqual(stored?.Parameters, b.parameters);

      assert.deepEqual(await publish('b'), { outcome: 'unchanged', previous: b }, 'a retried swap finds its own write, lineage included');
      assert.deepEqual(await catalog.getPartition(database, curated, HOUR_VALUES), b);
    });

    it('Glue requests: CreatePartition first (no read for a new partition); GetPartition only when it exists; one GetTable per table while cached', async () => {
      const { catalog } = lake.backend;
      const { database, raw, curated } = lake.config.tables;
      const bucket = lake.config.lake.bucket;
      const sent = countGlueRequests();
      const rawHour = (h: string) => partition(['2024', '03', '01', h], `s3://${bucket}/raw/clickstream/year=2024/month=03/day=01/hour=${h}/`);
      const cur = (run: string) => partition(HOUR_VALUES, `s3://${bucket}/curated/clickstream/year=2024/month=03/day=01/hour=07/run=${run}/`);

      assert.equal((await catalog.upsertPartition(database, raw, rawHour('07'))).outcome, 'created');
      assert.deepEqual(sent.take(), ['GetTable', 'CreatePartition']);
      assert.equal((await catalog.upsertPartition(database, raw, rawHour('08'))).outcome, 'created');
      assert.deepEqual(sent.take(), ['CreatePartition'], 'the raw table definition is reused');
      assert.equal((await catalog.upsertPartition(database, raw, rawHour('07'))).outcome, 'unchanged');
      assert.deepEqual(sent.take(), ['CreatePartition', 'GetPartition']);
      assert.equal((await catalog.upsertPartition(database, curated, cur('a'))).outcome, 'created');
      // The partition write alone: dropping the run's CTAS staging table is publish's own step (publishPartition.ts).
      assert.deepEqual(sent.take(), ['GetTable', 'CreatePartition'], 'each table is read once');
      assert.deepEqual(await catalog.upsertPartition(database, curated, cur('b')), { outcome: 'updated', previous: cur('a') });
      assert.deepEqual(sent.take(), ['CreatePartition', 'GetPartition', 'UpdatePartition']);
      assert.deepEqual(await catalog.getPartition(database, curated, HOUR_VALUES), cur('b'));
      sent.stop();
    });

    it('the table cache: ensureTable here is seen at once; another writer\'s change after the TTL; a dropped table is read again, not written blindly', async () => {
      const { database, curated } = lake.config.tables;
      const bucket = lake.config.lake.bucket;
      let now = 1_000_000;
      const catalog = new GlueCatalog(lake.backend.clients.glue, { now: () => now });
      const other = new GlueCatalog(lake.backend.clients.glue); // another worker process
      const def = curatedTableDef(lake.config.lake, database, curated);
      const cur = (h: string) => partition(['2024', '03', '01', h], `s3://${bucket}/curated/clickstream/year=2024/month=03/day=01/hour=${h}/run=a/`);
      const columnsOf = async (h: string) => ((await gluePartition(curated, ['2024', '03', '01', h]))?.StorageDescriptor?.Columns ?? []).map((c) => c.Name);

      await catalog.upsertPartition(database, curated, cur('01'));
      assert.deepEqual(await columnsOf('01'), def.columns.map((c) => c.name));
      // This process changes the table: the very next partition copies the new columns.
      const withCountry = { ...def, columns: [...def.columns, { name: 'country', type: 'string' }] };
      assert.equal(await catalog.ensureTable(withCountry), 'updated');
      await catalog.upsertPartition(database, curated, cur('02'));
      assert.deepEqual(await columnsOf('02'), withCountry.columns.map((c) => c.name));
      // Another process changes it: within the TTL this one still writes what it read (as if just before the change)...
      const withCity = { ...withCountry, columns: [...withCountry.columns, { name: 'city', type: 'string' }] };
      assert.equal(await other.ensureTable(withCity), 'updated');
      now += TABLE_CACHE_MS - 1;
      await catalog.upsertPartition(database, curated, cur('03'));
      assert.deepEqual(await columnsOf('03'), withCountry.columns.map((c) => c.name));
      // ...and once it expires, reads it again.
      now += 1;
      await catalog.upsertPartition(database, curated, cur('04'));
      assert.deepEqual(await columnsOf('04'), withCity.columns.map((c) => c.name));

      // Dropped by someone else while cached: the failed write drops the entry and reads the table, which is gone.
      assert.equal(await other.dropTable(database, curated), true);
      await assert.rejects(catalog.upsertPartition(database, curated, cur('05')), (err: unknown) => {
        assert.ok(err instanceof PipelineError);
        assert.equal(err.type, 'EntityNotFound');
        assert.match(err.message, new RegExp(`Glue table ${database}\\.${curated} does not exist`));
        return true;
      });
      // Recreated: written against the new definition without waiting for the TTL.
      assert.equal(await other.ensureTable(def), 'created');
      assert.equal((await catalog.upsertPartition(database, curated, cur('05'))).outcome, 'created');
      assert.deepEqual(await columnsOf('05'), def.columns.map((c) => c.name));
    });

    it('listPartitions returns every page, sorted by values', async () => {
      const { catalog } = lake.backend;
      const { database, raw } = lake.config.tables;
      const bucket = lake.config.lake.bucket;
      for (const h of ['05', '01', '03', '02', '04']) {
        await catalog.upsertPartition(database, raw, partition(['2024', '03', '01', h], `s3://${bucket}/raw/clickstream/year=2024/month=03/day=01/hour=${h}/`));
      }
      const listed = await catalog.listPartitions(database, raw);
      assert.deepEqual(
        listed.map((p) => p.values[3]),
        ['01', '02', '03', '04', '05'],
      );
    });

    it('createPartitions registers in batches of 100; existing partitions count as success', async () => {
      const { catalog } = lake.backend;
      const { database, raw } = lake.config.tables;
      const bucket = lake.config.lake.bucket;
      const many: PartitionDef[] = [];
      for (let d = 1; d <= 7; d++) {
        for (let h = 0; h < 24; h++) {
          const [dd, hh] = [String(d).padStart(2, '0'), String(h).padStart(2, '0')];
          many.push(partition(['2024', '04', dd, hh], `s3://${bucket}/raw/clickstream/year=2024/month=04/day=${dd}/hour=${hh}/`));
        }
      }
      assert.equal((await catalog.upsertPartition(database, raw, many[0]!)).outcome, 'created');
      assert.deepEqual(await catalog.createPartitions(database, raw, many), { created: 167, existing: 1 });
      assert.deepEqual(await catalog.createPartitions(database, raw, many), { created: 0, existing: 168 });
      assert.equal((await catalog.listPartitions(database, raw)).length, 168);
    });

    it('deletePartition removes the metadata; deleting again is success (false)', async () => {
      const { catalog } = lake.backend;
      const { database, raw } = lake.config.tables;
      await catalog.upsertPartition(database, raw, partition(HOUR_VALUES, `s3://${lake.config.lake.bucket}/raw/clickstream/x/`));
      assert.equal(await catalog.deletePartition(database, raw, HOUR_VALUES), true);
      assert.equal(await catalog.getPartition(database, raw, HOUR_VALUES), undefined);
      assert.equal(await catalog.deletePartition(database, raw, HOUR_VALUES), false);
    });

    it('registration on a table with partition projection is a no-op: no Glue partition is written', async () => {
      const { catalog } = lake.backend;
      const { database, raw } = lake.config.tables;
      const linesTable = rawLinesTableName(raw);
      const p = partition(HOUR_VALUES, `s3://${lake.config.lake.bucket}/raw/clickstream/year=2024/month=03/day=01/hour=07/`);
      assert.deepEqual(await catalog.upsertPartition(database, linesTable, p), { outcome: 'unchanged' });
      assert.deepEqual(await catalog.listPartitions(database, linesTable), []);
      assert.deepEqual(await catalog.createPartitions(database, linesTable, [p]), { created: 0, existing: 0 });
    });

    it('a missing table or database is EntityNotFound with the settings to check', async () => {
      const { catalog } = lake.backend;
      for (const [db, table] of [
        [lake.config.tables.database, 'no_such_table'],
        ['no_such_database', 'clickstream_events'],
      ] as const) {
        await assert.rejects(catalog.upsertPartition(db, table, partition(HOUR_VALUES, 's3://b/x/')), (err: unknown) => {
          assert.ok(err instanceof PipelineError);
          assert.equal(err.type, 'EntityNotFound');
          assert.match(err.message, new RegExp(`Glue table ${db}\\.${table} does not exist; .*CLICKSTREAM_DATABASE`));
          return true;
        });
        await assert.rejects(catalog.getPartition(db, table, HOUR_VALUES), { type: 'EntityNotFound' });
      }
      assert.equal(await catalog.getTable('no_such_database', 'x'), undefined);
    });
  });
});
