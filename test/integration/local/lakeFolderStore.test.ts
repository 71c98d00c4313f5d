import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PipelineError } from '../../../core/errors';
import { LakeFolderStore } from '../../../lake/local/lakeFolderStore';
import { isPipelineError } from '../../support/assertions';

const BUCKET = 'clickstream-lake';

/** Walks a folder, returning relative paths of files and (with a trailing slash) folders. */
async function tree(dir: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.readdir(path.join(dir, rel), { withFileTypes: true })) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(`${p}/`, ...(await tree(dir, p)));
    else out.push(p);
  }
  return out.sort();
}

describe('lake/local/lakeFolderStore (real folder)', () => {
  let root: string;
  let lakeDir: string;
  let store: LakeFolderStore;

  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'lakefolder-'));
    lakeDir = path.join(root, 'lake');
    await fs.mkdir(lakeDir);
    store = new LakeFolderStore(lakeDir);
  });
  afterEach(async () => {
    await fs.rm(root, { recursive: true, force: true });
  });

  describe('list', () => {
    beforeEach(async () => {
      // Written out of order on purpose.
      for (const key of ['a/bc/e.jsonl', 'a/b/d.jsonl', 'a/b2.jsonl', 'a/b/x/y/z.jsonl', 'a/b/c.jsonl', 'z.jsonl', 'a/B/upper.jsonl']) {
        await store.put(BUCKET, key, `body of ${key}`);
      }
    });

    it('lists every object under a folder prefix, nested ones included, sorted by key, with sizes', async () => {
      const objects = await store.list(BUCKET, 'a/b/');
      assert.deepEqual(
        objects.map((o) => o.key),
        ['a/b/c.jsonl', 'a/b/d.jsonl', 'a/b/x/y/z.jsonl'],
      );
      assert.deepEqual(
        objects.map((o) => o.size),
        objects.map((o) => Buffer.byteLength(`body of ${o.key}`)),
      );
      for (const o of objects) assert.match(o.etag, new RegExp(`^${o.size}-\\d+$`));
    });

    it('has S3 prefix semantics: a prefix is a string, not a folder', async () => {
      assert.deepEqual(
        (await store.list(BUCKET, 'a/b')).map((o) => o.key),
        ['a/b/c.jsonl', 'a/b/d.jsonl', 'a/b/x/y/z.jsonl', 'a/b2.jsonl', 'a/bc/e.jsonl'],
      );
      assert.deepEqual((await store.list(BUCKET, 'a/b/c')).map((o) => o.key), ['a/b/c.jsonl']);
      assert.deepEqual((await store.list(BUCKET, 'a/b/c.jsonl')).map((o) => o.key), ['a/b/c.jsonl']);
      // Case-sensitive, like S3.
      assert.deepEqual((await store.list(BUCKET, 'a/B/')).map((o) => o.key), ['a/B/upper.jsonl']);
    });

    it('with an empty prefix lists the whole bucket in byte order', async () => {
      const keys = (await store.list(BUCKET, '')).map((o) => o.key);
      assert.deepEqual(keys, ['a/B/upper.jsonl', 'a/b/c.jsonl', 'a/b/d.jsonl', 'a/b/x/y/z.jsonl', 'a/b2.jsonl', 'a/bc/e.jsonl', 'z.jsonl']);
    });

    it('a missing prefix, folder or bucket is an empty list, not an error', async () => {
      assert.deepEqual(await store.list(BUCKET, 'nope/'), []);
      assert.deepEqual(await store.list(BUCKET, 'a/b/nope/deeper/'), []);
      assert.deepEqual(await store.list('other-bucket', 'a/'), []);
    });

    it('ignores temp files of writes in progress', async () => {
      await fs.writeFile(path.join(lakeDir, BUCKET, 'a/b/c.jsonl.5f2e.tmp'), 'half a');
      await fs.writeFile(path.join(lakeDir, BUCKET, 'a/b/new.jsonl.0000.tmp'), 'half b');
      assert.deepEqual((await store.list(BUCKET, 'a/b/')).map((o) => o.key), ['a/b/c.jsonl', 'a/b/d.jsonl', 'a/b/x/y/z.jsonl']);
    });
  });

  describe('put', () => {
    it('creates folders, writes strings and bytes, and replaces whole objects', async () => {
      await store.put(BUCKET, 'p/q/obj.bin', new Uint8Array([1, 2, 3]));
      assert.deepEqual([...(await fs.readFile(path.join(lakeDir, BUCKET, 'p/q/obj.bin')))], [1, 2, 3]);
      await store.put(BUCKET, 'p/q/obj.txt', 'first version, long');
      await store.put(BUCKET, 'p/q/obj.txt', 'second');
      assert.equal(await fs.readFile(path.join(lakeDir, BUCKET, 'p/q/obj.txt'), 'utf8'), 'second');
      assert.deepEqual(await tree(path.join(lakeDir, BUCKET)), ['p/', 'p/q/', 'p/q/obj.bin', 'p/q/obj.txt'], 'no temp files left behind');
    });

    it('a reader never sees a partly written object while it is replaced', async () => {
      const a = 'A'.repeat(2_000_000);
      const b = 'B'.repeat(1_000_000);
      const file = path.join(lakeDir, BUCKET, 'big/obj.txt');
      await store.put(BUCKET, 'big/obj.txt', a);
      let writing = true;
      const writer = (async () => {
        try {
          for (let i = 0; i < 30; i++) await store.put(BUCKET, 'big/obj.txt', i % 2 ? a : b);
        } finally {
          writing = false;
        }
      })();
      let reads = 0;
      while (writing) {
        const text = await fs.readFile(file, 'utf8');
        assert.ok(text === a || text === b, `torn read of ${text.length} chars`);
        reads++;
      }
      await writer;
      assert.ok(reads > 0);
    });

    it('changes the etag when an object is replaced', async () => {
      await store.put(BUCKET, 'e/obj.txt', 'one');
      const [before] = await store.list(BUCKET, 'e/');
      await new Promise((r) => setTimeout(r, 15));
      await store.put(BUCKET, 'e/obj.txt', 'two'); // same size, new mtime
      const [after] = await store.list(BUCKET, 'e/');
      assert.equal(after!.size, before!.size);
      assert.notEqual(after!.etag, before!.etag);
    });
  });

  describe('deleteKeys', () => {
    it('deletes exactly the given keys, is idempotent, and prunes folders left empty', async () => {
      for (const key of ['c/h=01/run=a/part.parquet', 'c/h=01/run=b/part.parquet', 'c/h=02/run=a/part.parquet', 'c/h=02/run=a/other.parquet']) {
        await store.put(BUCKET, key, 'x');
      }
      assert.equal(await store.deleteKeys(BUCKET, ['c/h=01/run=a/part.parquet', 'c/h=02/run=a/part.parquet', 'c/missing.parquet']), 3);
      assert.deepEqual(await tree(path.join(lakeDir, BUCKET)), ['c/', 'c/h=01/', 'c/h=01/run=b/', 'c/h=01/run=b/part.parquet', 'c/h=02/', 'c/h=02/run=a/', 'c/h=02/run=a/other.parquet']);

      // Again: the same keys are already gone; success, nothing else touched.
      assert.equal(await store.deleteKeys(BUCKET, ['c/h=01/run=a/part.parquet', 'c/h=02/run=a/part.parquet']), 2);
      assert.equal((await tree(path.join(lakeDir, BUCKET))).length, 7);

      assert.equal(await store.deleteKeys(BUCKET, ['c/h=01/run=b/part.parquet', 'c/h=02/run=a/other.parquet']), 2);
      // Every now-empty folder is pruned up to, but not including, the bucket folder.
      assert.deepEqual(await tree(path.join(lakeDir, BUCKET)), []);
      assert.ok((await fs.stat(path.join(lakeDir, BUCKET))).isDirectory());
      assert.deepEqual(await store.list(BUCKET, 'c/'), []);
    });

    it('an empty list deletes nothing', async () => {
      await store.put(BUCKET, 'k/obj', 'x');
      assert.equal(await store.deleteKeys(BUCKET, []), 0);
      assert.equal((await store.list(BUCKET, 'k/')).length, 1);
    });
  });

  describe('safety', () => {
    it('rejects keys that escape the bucket folder, before touching the disk', async () => {
      await fs.writeFile(path.join(lakeDir, 'outside.txt'), 'keep me');
      for (const key of ['../x', '../outside.txt', 'a/../../x', '/etc/passwd', `../${BUCKET}-evil/x`]) {
        const message = new RegExp(`^object key '${key.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}' escapes bucket folder `);
        assert.throws(() => store.pathOf(BUCKET, key), isPipelineError('InvalidInput', message), key);
        await assert.rejects(store.put(BUCKET, key, 'x'), isPipelineError('InvalidInput', message), key);
        await assert.rejects(store.deleteKeys(BUCKET, [key]), isPipelineError('InvalidInput', message), key);
      }
      await assert.rejects(store.list(BUCKET, '../'), isPipelineError('InvalidInput'));
      assert.equal(await fs.readFile(path.join(lakeDir, 'outside.txt'), 'utf8'), 'keep me');
      assert.deepEqual(await tree(root), ['lake/', 'lake/outside.txt']);
    });

    it('maps keys to paths under <lake>/<bucket>/', () => {
      assert.equal(store.pathOf(BUCKET, 'raw/x.jsonl'), path.join(lakeDir, BUCKET, 'raw', 'x.jsonl'));
      assert.equal(store.pathOf(BUCKET, ''), path.join(lakeDir, BUCKET));
    });

    it('a missing lake folder is StorageUnavailable naming the path and the setting', async () => {
      const missing = new LakeFolderStore(path.join(root, 'no-such-lake'));
      await assert.rejects(missing.list(BUCKET, 'raw/'), (err: unknown) => {
        isPipelineError('StorageUnavailable')(err);
        const e = err as PipelineError;
        assert.equal(e.message, `lake folder ${path.join(root, 'no-such-lake')} is missing or not a folder; create it or set CLICKSTREAM_LAKE_DIR`);
        assert.deepEqual(e.details, { path: path.join(root, 'no-such-lake') });
        return true;
      });
    });

    it('a lake "folder" that is a file is StorageUnavailable too', async () => {
      const file = path.join(root, 'a-file');
      await fs.writeFile(file, '');
      await assert.rejects(new LakeFolderStore(file).list(BUCKET, ''), isPipelineError('StorageUnavailable', new RegExp(`^lake folder ${file} is missing or not a folder`)));
    });
  });
});
