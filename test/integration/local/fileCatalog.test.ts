import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PipelineError } from '../../../core/errors';
import { FileCatalog } from '../../../lake/local/fileCatalog';
import { curatedTableDef, rawTableDef } from '../../../lake/tableDefinitions';
import type { PartitionDef, TableDef } from '../../../lake/ports';
import { isPipelineError } from '../../support/assertions';

const LAYOUT = { bucket: 'clickstream-lake', rawPrefix: 'raw/clickstream', curatedPrefix: 'curated/clickstream' };

function partition(values: string[], extra: Record<string, string> = {}): PartitionDef {
  return {
    values,
    location: `s3://clickstream-lake/curated/clickstream/year=${values[0]}/month=${values[1]}/day=${values[2]}/hour=${values[3]}/run=r1/`,
    parameters: { curated_rows: '10', ...extra },
  };
}

describe('lake/local/fileCatalog (real files)', () => {
  let dir: string;
  let catalog: FileCatalog;
  let curated: TableDef;

  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'filecatalog-'));
    catalog = new FileCatalog(path.join(dir, '_catalog'));
    curated = curatedTableDef(LAYOUT, 'clickstream', 'events_curated');
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  describe('ensureTable', () => {
    it('creates, then leaves alone, then updates a changed definition', async () => {
      assert.equal(await catalog.getTable('clickstream', 'events_curated'), undefined);
      assert.equal(await catalog.ensureTable(curated), 'created');
      assert.deepEqual(await catalog.getTable('clickstream', 'events_curated'), curated);
      assert.equal(await catalog.ensureTable(curated), 'unchanged');
      assert.equal(await catalog.ensureTable(structuredClone(curated)), 'unchanged');
      const changed = { ...curated, parameters: { ...curated.parameters, owner: 'data-eng' } };
      assert.equal(await catalog.ensureTable(changed), 'updated');
      assert.deepEqual(await catalog.getTable('clickstream', 'events_curated'), changed);
      assert.equal(await catalog.ensureTable(changed), 'unchanged');
    });

    it('keeps tables apart by database and name', async () => {
      await catalog.ensureTable(curated);
      await catalog.ensureTable(rawTableDef(LAYOUT, 'clickstream', 'events'));
      await catalog.ensureTable({ ...curated, database: 'other_db' });
      assert.equal((await catalog.getTable('clickstream', 'events'))?.format, 'jsonl');
      assert.equal((await catalog.getTable('clickstream', 'events_curated'))?.format, 'parquet');
      assert.equal((await catalog.getTable('other_db', 'events_curated'))?.database, 'other_db');
    });
  });

  describe('partitions', () => {
    beforeEach(async () => {
      await catalog.ensureTable(curated);
    });

    it('upsertPartition: created, unchanged, updated, each with the partition it found; getPartition reads it back', async () => {
      const v = ['2024', '03', '01', '07'];
      assert.equal(await catalog.getPartition('clickstream', 'events_curated', v), undefined);
      assert.deepEqual(await catalog.upsertPartition('clickstream', 'events_curated', partition(v)), { outcome: 'created' });
      assert.deepEqual(await catalog.upsertPartition('clickstream', 'events_curated', partition(v)), { outcome: 'unchanged', previous: partition(v) });
      assert.deepEqual(await catalog.getPartition('clickstream', 'events_curated', v), partition(v));
      const moved = { ...partition(v), location: partition(v).location.replace('run=r1', 'run=r2') };
      assert.deepEqual(await catalog.upsertPartition('clickstream', 'events_curated', moved), { outcome: 'updated', previous: partition(v) });
      assert.deepEqual(await catalog.getPartition('clickstream', 'events_curated', v), moved);
      assert.deepEqual(await catalog.upsertPartition('clickstream', 'events_curated', partition(v, { validated: 'true' })), { outcome: 'updated', previous: moved });
      assert.equal((await catalog.getPartition('clickstream', 'events_curated', v))?.parameters.validated, 'true');
    });

    it('upsertPartition with replace: a create writes the partition as given; an existing one is replaced by what replace derives from it', async () => {
      const v = ['2024', '03', '01', '07'];
      const found: PartitionDef[] = [];
      const swap = (to: PartitionDef) => ({
        replace: (previous: PartitionDef) => {
          found.push(previous);
          return previous.location === to.location ? previous : { ...to, parameters: { ...to.parameters, replaced: previous.location } };
        },
      });
      const first = partition(v);
      assert.deepEqual(await catalog.upsertPartition('clickstream', 'events_curated', first, swap(first)), { outcome: 'created' });
      assert.deepEqual(found, [], 'replace is not called for a create');
      assert.deepEqual(await catalog.getPartition('clickstream', 'events_curated', v), first);

      const second = { ...partition(v), location: first.location.replace('run=r1', 'run=r2') };
      assert.deepEqual(await catalog.upsertPartition('clickstream', 'events_curated', second, swap(second)), { outcome: 'updated', previous: first });
      const swapped = { ...second, parameters: { ...second.parameters, replaced: first.location } };
      assert.deepEqual(await catalog.getPartition('clickstream', 'events_curated', v), swapped);
      // Again (a retry): replace keeps what it finds, so nothing is written and the lineage survives.
      assert.deepEqual(await catalog.upsertPartition('clickstream', 'events_curated', second, swap(second)), { outcome: 'unchanged', previous: swapped });
      assert.deepEqual(await catalog.getPartition('clickstream', 'events_curated', v), swapped);

      const elsewhere = { replace: (p: PartitionDef) => ({ ...p, values: ['2024', '03', '01', '08'] }) };
      await assert.rejects(catalog.upsertPartition('clickstream', 'events_curated', second, elsewhere), isPipelineError('InvalidInput', /must keep its values/));
      assert.deepEqual(await catalog.getPartition('clickstream', 'events_curated', v), swapped);
    });

    it('listPartitions returns every partition in key order, across days and years', async () => {
      const all = [
        ['2024', '03', '02', '00'],
        ['2023', '12', '31', '23'],
        ['2024', '03', '01', '23'],
        ['2024', '03', '01', '07'],
      ];
      for (const v of all) await catalog.upsertPartition('clickstream', 'events_curated', partition(v));
      // A temp file from an interrupted write is not a partition.
      await fs.writeFile(path.join(dir, '_catalog/clickstream/events_curated/partitions/year=2024/month=03/day=01/hour=07/partition.json.abc.tmp'), '{');
      const listed = await catalog.listPartitions('clickstream', 'events_curated');
      assert.deepEqual(
        listed.map((p) => p.values.join('-')),
        ['2023-12-31-23', '2024-03-01-07', '2024-03-01-23', '2024-03-02-00'],
      );
      assert.deepEqual(listed[1], partition(['2024', '03', '01', '07']));
    });

    it('listPartitions of a table with none is empty', async () => {
      assert.deepEqual(await catalog.listPartitions('clickstream', 'events_curated'), []);
    });

    it('partition calls on a missing table are EntityNotFound, naming the table and what to do', async () => {
      const missing = isPipelineError('EntityNotFound', /^table clickstream\.nope is not in the catalog at .*; start the worker once/);
      await assert.rejects(catalog.getPartition('clickstream', 'nope', ['2024', '03', '01', '07']), missing);
      await assert.rejects(catalog.upsertPartition('clickstream', 'nope', partition(['2024', '03', '01', '07'])), missing);
      await assert.rejects(catalog.listPartitions('clickstream', 'nope'), missing);
    });
  });

  describe('corruption is reported, never silently reset', () => {
    const v = ['2024', '03', '01', '07'];
    const partFile = () => path.join(dir, '_catalog/clickstream/events_curated/partitions/year=2024/month=03/day=01/hour=07/partition.json');

    beforeEach(async () => {
      await catalog.ensureTable(curated);
      await catalog.upsertPartition('clickstream', 'events_curated', partition(v));
    });

    it('a truncated partition file is CatalogCorrupt naming the path, on read, list and upsert; the file is kept', async () => {
      const full = await fs.readFile(partFile(), 'utf8');
      const truncated = full.slice(0, Math.floor(full.length / 2));
      await fs.writeFile(partFile(), truncated);
      const corrupt = (err: unknown) => {
        isPipelineError('CatalogCorrupt')(err);
        const e = err as PipelineError;
        assert.equal(e.message, `catalog file ${partFile()} is not valid JSON (truncated or edited?); restore it from backup or delete it and re-run the affected hours`);
        assert.deepEqual(e.details, { path: partFile() });
        assert.ok(e.cause instanceof SyntaxError);
        return true;
      };
      await assert.rejects(catalog.getPartition('clickstream', 'events_curated', v), corrupt);
      await assert.rejects(catalog.listPartitions('clickstream', 'events_curated'), corrupt);
      await assert.rejects(catalog.upsertPartition('clickstream', 'events_curated', partition(v, { new: 'x' })), corrupt);
      assert.equal(await fs.readFile(partFile(), 'utf8'), truncated, 'the evidence is left for the operator');
    });

    it('an empty table file is CatalogCorrupt too, and ensureTable does not overwrite it', async () => {
      const tableFile = path.join(dir, '_catalog/clickstream/events_curated/table.json');
      await fs.writeFile(tableFile, '');
      await assert.rejects(catalog.ensureTable(curated), isPipelineError('CatalogCorrupt', new RegExp(`^catalog file ${tableFile} is not valid JSON`)));
      await assert.rejects(catalog.getPartition('clickstream', 'events_curated', v), isPipelineError('CatalogCorrupt'));
      assert.equal(await fs.readFile(tableFile, 'utf8'), '');
    });

    it('an unreadable path (a folder where the file should be) is StorageUnavailable, not "missing"', async () => {
      await fs.rm(partFile());
      await fs.mkdir(partFile());
      await assert.rejects(catalog.getPartition('clickstream', 'events_curated', v), isPipelineError('StorageUnavailable', /^cannot read catalog file /));
    });
  });

  describe('unsafe names', () => {
    beforeEach(async () => {
      await catalog.ensureTable(curated);
    });

    it('database and table names that could leave the catalog folder are InvalidInput', async () => {
      for (const [db, table] of [
        ['..', 'events_curated'],
        ['clickstream', '../../x'],
        ['click/stream', 'events_curated'],
        ['clickstream', 'a b'],
        ['', 'events_curated'],
      ] as const) {
        await assert.rejects(catalog.ensureTable({ ...curated, database: db, name: table }), isPipelineError('InvalidInput', /name '.*' must match/), `${db}.${table}`);
        await assert.rejects(catalog.getTable(db, table), isPipelineError('InvalidInput'));
      }
      assert.deepEqual(await fs.readdir(path.join(dir, '_catalog')), ['clickstream']);
      assert.deepEqual(await fs.readdir(dir), ['_catalog']);
    });

    it('partition values must be safe segments and match the partition keys in number', async () => {
      for (const values of [
        ['..', '03', '01', '07'],
        ['2024', '03/..', '01', '07'],
        ['2024', '03', '01', ''],
        ['2024', '03', '01', '07 '],
      ]) {
        await assert.rejects(catalog.upsertPartition('clickstream', 'events_curated', partition(values)), isPipelineError('InvalidInput', /^partition value '.*' must match/));
      }
      await assert.rejects(
        catalog.upsertPartition('clickstream', 'events_curated', partition(['2024', '03', '01'])),
        isPipelineError('InvalidInput', /^partition of clickstream\.events_curated needs 4 values \(year, month, day, hour\); got 3$/),
      );
      assert.deepEqual(await catalog.listPartitions('clickstream', 'events_curated'), []);
    });
  });

  it('a concurrent reader during many writes never sees a torn or missing partition', async () => {
    await catalog.ensureTable(curated);
    const v = ['2024', '03', '01', '07'];
    // Large parameters make each write take long enough for reads to land in the middle of one.
    const version = (i: number) => partition(v, { version: String(i), lineage: `${i}:`.padEnd(200_000, String(i % 10)) });
    await catalog.upsertPartition('clickstream', 'events_curated', version(0));
    const writes = 60;
    let done = false;
    const writer = (async () => {
      try {
        for (let i = 1; i <= writes; i++) assert.equal((await catalog.upsertPartition('clickstream', 'events_curated', version(i))).outcome, 'updated');
      } finally {
        done = true;
      }
    })();
    // A second catalog object over the same folder, as the CLI would have.
    const reader = new FileCatalog(catalog.dir);
    const seen = new Set<number>();
    let reads = 0;
    while (!done) {
      const [got, listed] = await Promise.all([reader.getPartition('clickstream', 'events_curated', v), reader.listPartitions('clickstream', 'events_curated')]);
      assert.ok(got, 'the partition never disappears while it is replaced');
      const n = Number(got.parameters.version);
      assert.deepEqual(got, version(n));
      assert.equal(listed.length, 1);
      assert.deepEqual(listed[0], version(Number(listed[0]!.parameters.version)));
      seen.add(n);
      reads++;
    }
    await writer;
    assert.ok(reads > 5, `only ${reads} reads overlapped the writes`);
    assert.ok(seen.size > 1, 'reads saw the partition change');
    assert.equal((await reader.getPartition('clickstream', 'events_curated', v))?.parameters.version, String(writes));
    const leftovers = (await fs.readdir(path.dirname(path.join(dir, '_catalog/clickstream/events_curated/partitions/year=2024/month=03/day=01/hour=07/partition.json')))).sort();
    assert.deepEqual(leftovers, ['partition.json'], 'no temp files left');
  });
});
