#!/usr/bin/env node
/**
 * npx entry point. Runs the compiled CLI (dist/, built by `npm run build`, which `npm ci` runs as
 * its prepare step) when the build is at least as new as every source it was built from, listed in
 * dist/build.json: one stat per source, about a millisecond. Otherwise it runs the TypeScript
 * through tsx (a runtime dependency), slower to start but never stale, and says so in one line on
 * stderr. It does not rebuild by itself: tsc takes 10-15 s on a 2-core machine, and two CLIs
 * started at once would write dist/ together.
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const STAMP = path.join(ROOT, 'dist', 'build.json');

/** Why the build cannot be used, or null when it is fresh. */
function staleReason() {
  let built;
  let sources;
  try {
    built = fs.statSync(STAMP).mtimeMs;
    sources = JSON.parse(fs.readFileSync(STAMP, 'utf8')).sources;
  } catch {
    return 'the CLI is not compiled';
  }
  for (const source of sources) {
    let changed;
    try {
      changed = fs.statSync(path.join(ROOT, source)).mtimeMs;
    } catch {
      return `${source} is gone since the CLI was compiled`;
    }
    if (changed > built) return `${source} changed since the CLI was compiled`;
  }
  return null;
}

const reason = staleReason();
if (reason === null) {
  require('../dist/cli/clickstream.js');
} else {
  process.stderr.write(`clickstream: ${reason}; running the sources through tsx (npm run build compiles them)\n`);
  require('tsx/cjs');
  require('../cli/clickstream.ts');
}
