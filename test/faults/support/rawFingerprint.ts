/**
 * "Raw data is never modified or deleted": a fingerprint of every file under the raw prefix
 * (path, size, sha256, mtime), taken before a fault case and compared after it.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import assert from 'node:assert/strict';
import type { TestLake } from '../../support/testLake';

export interface FileFingerprint {
  size: number;
  sha256: string;
  mtimeMs: number;
}

export type TreeFingerprint = Record<string, FileFingerprint>;

/** Every file below `root`, keyed by its path relative to root; a missing root is an empty tree. */
export async function fingerprintTree(root: string): Promise<TreeFingerprint> {
  const out: TreeFingerprint = {};
  const walk = async (dir: string): Promise<void> => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else {
        const st = await fs.stat(p);
        out[path.relative(root, p)] = { size: st.size, sha256: createHash('sha256').update(await fs.readFile(p)).digest('hex'), mtimeMs: st.mtimeMs };
      }
    }
  };
  await walk(root);
  return out;
}

/** The raw prefix's folder in the lake. */
export function rawRoot(lake: TestLake): string {
  return lake.backend.store.pathOf(lake.config.lake.bucket, `${lake.config.lake.rawPrefix}/`);
}

export function rawFingerprint(lake: TestLake): Promise<TreeFingerprint> {
  return fingerprintTree(rawRoot(lake));
}

/** Fails naming every added, removed or changed raw file. */
export async function assertRawUnchanged(lake: TestLake, before: TreeFingerprint): Promise<void> {
  const after = await rawFingerprint(lake);
  assert.ok(Object.keys(before).length > 0, 'the fingerprint taken before covers some raw files');
  const problems: string[] = [];
  for (const [p, fp] of Object.entries(before)) {
    const now = after[p];
    if (!now) problems.push(`deleted: ${p}`);
    else if (now.sha256 !== fp.sha256 || now.size !== fp.size) problems.push(`content changed: ${p}`);
    else if (now.mtimeMs !== fp.mtimeMs) problems.push(`rewritten (mtime changed): ${p}`);
  }
  for (const p of Object.keys(after)) if (!before[p]) problems.push(`added: ${p}`);
  assert.deepEqual(problems, [], 'raw data is never modified or deleted');
}
