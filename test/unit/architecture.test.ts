import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';

/**
 * Dependencies point one way (docs/architecture.md): a folder imports only from its own floor or
 * lower ones. Type-only imports count too, since a type is a dependency of the design. Lazy
 * require() calls (the CLI loads commands on demand) are checked like static imports.
 */
const ROOT = path.resolve(__dirname, '..', '..');
const FLOORS: Record<string, number> = {
  core: 0,
  config: 1,
  lake: 2,
  generator: 3,
  activities: 3,
  workflows: 4,
  client: 5,
  devserver: 5,
  cli: 6,
  workers: 6,
};

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

/** Every relative module a file names: import/export ... from, bare import, require(), import(). */
function localSpecifiers(src: string): string[] {
  const specs: string[] = [];
  for (const m of src.matchAll(/\bfrom\s+['"](\.{1,2}\/[^'"]+)['"]/g)) specs.push(m[1]!);
  for (const m of src.matchAll(/^\s*import\s+['"](\.{1,2}\/[^'"]+)['"]/gm)) specs.push(m[1]!);
  for (const m of src.matchAll(/\b(?:require|import)\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g)) specs.push(m[1]!);
  return specs;
}

/** "file -> target" for each import that climbs to a higher floor (or leaves the known folders). */
function upwardImports(root: string): string[] {
  const out: string[] = [];
  for (const [folder, floor] of Object.entries(FLOORS)) {
    for (const file of sources(path.join(root, folder))) {
      for (const spec of localSpecifiers(readFileSync(file, 'utf8'))) {
        const target = path.relative(root, path.resolve(path.dirname(file), spec));
        const top = target.split(path.sep)[0]!;
        const targetFloor = FLOORS[top];
        if (targetFloor === undefined || targetFloor > floor) out.push(`${path.relative(root, file)} -> ${target}`);
      }
    }
  }
  return out;
}

describe('architecture: dependencies point one way', () => {
  it('no production folder imports from a higher floor (core <- config <- lake <- activities <- workflows <- client <- cli/workers), nor from test/ or bench/', () => {
    assert.deepEqual(upwardImports(ROOT), []);
  });

  it('the check sees static, lazy and dynamic imports', () => {
    assert.deepEqual(
      localSpecifiers(
        [
          "import { a } from '../workflows/x';",
          "import type { B } from '../../client/y';",
          "export { c } from './z';",
          "const d = require('../cli/commands/q');",
          "const e = await import('../workers/w');",
          "import 'node:fs';",
        ].join('\n'),
      ),
      ['../workflows/x', '../../client/y', './z', '../cli/commands/q', '../workers/w'],
    );
  });
});
