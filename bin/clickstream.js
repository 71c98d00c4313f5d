#!/usr/bin/env node
// npx entry point: runs the TypeScript CLI through tsx (a runtime dependency), no build step.
require('tsx/cjs');
require('../cli/clickstream.ts');
