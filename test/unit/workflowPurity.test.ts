import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { builtinModules } from 'node:module';
import * as path from 'node:path';

/**
 * Workflow code must stay deterministic: no Node builtins, no I/O modules, and activity code only
 * as types. This walks every module the workflows import (transitively, value imports only) and
 * fails on anything that would smuggle I/O into the workflow sandbox. (Our lint rule.)
 */
const ROOT = path.resolve(__dirname, '..', '..');
const BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
const ALLOWED_PACKAGES = [/^@temporalio\/(workflow|common)(\/|$)/];

function valueImports(file: string): string[] {
  const src = readFileSync(file, 'utf8');
  const specs: string[] = [];
  for (const m of src.matchAll(/^\s*(import|export)\s+(?!type\b)[^'";]*?from\s+['"]([^'"]+)['"]/gm)) specs.push(m[2]!);
  for (const m of src.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm)) specs.push(m[1]!);
  for (const m of src.matchAll(/\brequire\(\s*['"]([^'"]+)['"]\s*\)/g)) specs.push(m[1]!);
  return specs;
}

function resolveLocal(from: string, spec: string): string {
  const base = path.resolve(path.dirname(from), spec);
  for (const candidate of [`${base}.ts`, path.join(base, 'index.ts')]) {
    try {
      readFileSync(candidate);
      return candidate;
    } catch {
      /* try next */
    }
  }
  throw new Error(`${from}: cannot resolve ${spec}`);
}

describe('workflow code is deterministic (no Node builtins or I/O reachable from workflows/)', () => {
  const entries = readdirSync(path.join(ROOT, 'workflows'))
    .filter((f) => f.endsWith('.ts'))
    .map((f) => path.join(ROOT, 'workflows', f));
  const seen = new Map<string, string[]>();
  const queue = [...entries];
  while (queue.length) {
    const file = queue.shift()!;
    if (seen.has(file)) continue;
    const specs = valueImports(file);
    seen.set(file, specs);
    for (const s of specs) if (s.startsWith('.')) queue.push(resolveLocal(file, s));
  }

  it('reaches only pure modules', () => {
    assert.ok(seen.size >= entries.length + 2, 'walked the workflows and the core modules they use');
    const problems: string[] = [];
    for (const [file, specs] of seen) {
      const rel = path.relative(ROOT, file);
      for (const s of specs) {
        if (BUILTINS.has(s)) problems.push(`${rel} imports Node builtin '${s}'`);
        else if (!s.startsWith('.') && !ALLOWED_PACKAGES.some((p) => p.test(s))) problems.push(`${rel} imports package '${s}'`);
        else if (s.startsWith('.') && /(^|\/)(activities|lake|workers|cli|devserver|config)(\/|$)/.test(path.relative(ROOT, resolveLocal(file, s)))) {
          problems.push(`${rel} imports implementation module '${s}' (import its types only)`);
        }
      }
      const src = readFileSync(file, 'utf8');
      if (/\bprocess\.env\b/.test(src)) problems.push(`${rel} reads process.env`);
      if (/\bMath\.random\(/.test(src)) problems.push(`${rel} uses Math.random()`);
    }
    assert.deepEqual(problems, []);
  });
});
