#!/usr/bin/env node
/**
 * Compiles the CLI (cli/clickstream.ts and everything it imports) to dist/ with tsc and
 * tsconfig.cli.json, then writes dist/build.json: the sources it was built from. Its mtime is the
 * time the build started, so bin/clickstream.js can tell, with one stat per source, whether any
 * source changed since (a source saved mid-build counts as changed).
 *
 * `npm run build` fails on a type error. `npm ci` runs it as `prepare --prepare`, where a failure
 * (a type error, or typescript absent under --omit=dev) is a warning: the CLI then runs its
 * sources through tsx, as it did before there was a build.
 */
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const DIST = path.join(ROOT, 'dist');
const STAMP = path.join(DIST, 'build.json');
/** Not compiled, but a change in them changes the output. */
const CONFIG_FILES = ['tsconfig.json', 'tsconfig.cli.json'];

function build() {
  const started = new Date();
  // No stamp while tsc writes: a CLI started meanwhile runs the sources.
  fs.rmSync(STAMP, { force: true });
  let tsc;
  try {
    tsc = require.resolve('typescript/bin/tsc', { paths: [ROOT] });
  } catch {
    return 'typescript is not installed (a devDependency: npm ci without --omit=dev)';
  }
  const r = spawnSync(process.execPath, [tsc, '-p', path.join(ROOT, 'tsconfig.cli.json'), '--listEmittedFiles'], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) {
    process.stderr.write(r.stdout.split('\n').filter((l) => !l.startsWith('TSFILE: ')).join('\n'));
    return `tsc exited ${r.status}`;
  }
  // SQL files are read at run time from ../sql next to lake/ (lake/sqlFiles.ts): dist/sql points at the real folder.
  const sqlLink = path.join(DIST, 'sql');
  fs.rmSync(sqlLink, { force: true, recursive: false });
  fs.symlinkSync(path.join('..', 'sql'), sqlLink, 'dir');
  const sources = [...listSources(DIST), ...CONFIG_FILES].sort();
  fs.writeFileSync(STAMP, JSON.stringify({ builtAt: started.toISOString(), sources }, null, 2) + '\n');
  fs.utimesSync(STAMP, started, started);
  return null;
}

/**
 * The .ts source of every .js under dist/ (tsc's incremental mode may emit only what changed, so
 * the folder is the truth). Output whose source was moved or deleted is removed here: tsc never
 * deletes it, and listing it would make every later start find the build stale.
 */
function listSources(dir) {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory() && !e.isSymbolicLink()) out.push(...listSources(p));
    else if (e.isFile() && e.name.endsWith('.js')) {
      const source = path.relative(DIST, p).replace(/\.js$/, '.ts');
      if (fs.existsSync(path.join(ROOT, source))) out.push(source);
      else for (const stale of [p, `${p}.map`]) fs.rmSync(stale, { force: true });
    }
  }
  return out;
}

const prepare = process.argv.includes('--prepare');
const t0 = Date.now();
const problem = build();
if (problem === null) {
  console.error(`clickstream: CLI compiled to dist/ in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
} else if (prepare) {
  console.error(`clickstream: warning: CLI not compiled (${problem}); bin/clickstream.js runs the TypeScript through tsx until \`npm run build\` succeeds`);
} else {
  console.error(`clickstream: CLI not compiled: ${problem}`);
  process.exit(1);
}
