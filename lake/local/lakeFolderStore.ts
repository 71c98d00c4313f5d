/**
 * ObjectStore over a folder on disk: s3://bucket/key is <lakeDir>/bucket/key.
 * Writes go to a temp file and are renamed into place so a reader never sees half an object.
 */
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { PipelineError } from '../../core/errors';
import type { ObjectInfo, ObjectStore } from '../ports';

export class LakeFolderStore implements ObjectStore {
  constructor(readonly lakeDir: string) {}

  /** Local path of an object; rejects keys that would escape the bucket folder. */
  pathOf(bucket: string, key: string): string {
    const bucketDir = path.join(this.lakeDir, bucket);
    const p = path.resolve(bucketDir, key);
    if (p !== bucketDir && !p.startsWith(bucketDir + path.sep)) {
      throw new PipelineError('InvalidInput', `object key '${key}' escapes bucket folder ${bucketDir}`);
    }
    return p;
  }

  async list(bucket: string, prefix: string): Promise<ObjectInfo[]> {
    await this.assertLakeDir();
    // S3 prefixes are not folders; list the deepest folder the prefix names, then filter by string prefix.
    const dirPart = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/') + 1) : '';
    const root = this.pathOf(bucket, dirPart);
    const out: ObjectInfo[] = [];
    for (const file of await walk(root)) {
      const key = path.relative(path.join(this.lakeDir, bucket), file).split(path.sep).join('/');
      if (!key.startsWith(prefix) || isTempFile(key)) continue;
      const st = await fs.stat(file);
      out.push({ key, size: st.size, etag: `${st.size}-${Math.trunc(st.mtimeMs)}` });
    }
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async deleteKeys(bucket: string, keys: string[]): Promise<number> {
    for (const key of keys) {
      await fs.rm(this.pathOf(bucket, key), { force: true });
      await pruneEmptyParents(path.dirname(this.pathOf(bucket, key)), path.join(this.lakeDir, bucket));
    }
    return keys.length;
  }

  async put(bucket: string, key: string, body: string | Uint8Array): Promise<void> {
    const target = this.pathOf(bucket, key);
    await fs.mkdir(path.dirname(target), { recursive: true });
    const tmp = `${target}.${randomUUID()}.tmp`;
    await fs.writeFile(tmp, body);
    await fs.rename(tmp, target);
  }

  private async assertLakeDir(): Promise<void> {
    try {
      const st = await fs.stat(this.lakeDir);
      if (!st.isDirectory()) throw new Error('not a directory');
    } catch (err) {
      throw new PipelineError(
        'StorageUnavailable',
        `lake folder ${this.lakeDir} is missing or not a folder; create it or set CLICKSTREAM_LAKE_DIR`,
        { cause: err, details: { path: this.lakeDir } },
      );
    }
  }
}

function isTempFile(key: string): boolean {
  return key.endsWith('.tmp');
}

async function walk(dir: string): Promise<string[]> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const files: string[] = [];
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) files.push(...(await walk(p)));
    else if (e.isFile()) files.push(p);
  }
  return files;
}

/** Empty run folders left after deleting superseded output would otherwise accumulate forever. */
async function pruneEmptyParents(dir: string, stopAt: string): Promise<void> {
  let current = dir;
  while (current.startsWith(stopAt + path.sep)) {
    try {
      await fs.rmdir(current);
    } catch {
      return; // not empty or already gone: stop climbing
    }
    current = path.dirname(current);
  }
}
