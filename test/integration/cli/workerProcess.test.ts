import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { Client } from '@temporalio/client';
import { startHour } from '../../../client/hourlyStarter';
import { testTemporal } from '../../support/temporalServer';
import { makeRawHour, makeTestLake, type TestLake } from '../../support/testLake';

const BIN = path.resolve(__dirname, '..', '..', '..', 'bin', 'clickstream.js');

describe('clickstream worker (a real worker process)', () => {
  let lake: TestLake;
  beforeEach(async () => {
    lake = await makeTestLake();
  });
  afterEach(async () => {
    await lake.cleanup();
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`processes an hour from env config, then shuts down cleanly on ${signal}`, async () => {
      const { server, connection } = await testTemporal();
      await makeRawHour(lake, { hour: '2024-07-01T10', rows: 30 });
      const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CLICKSTREAM_')));
      const child = spawn(process.execPath, [BIN, 'worker'], {
        env: {
          ...clean,
          TEMPORAL_ADDRESS: server.address,
          CLICKSTREAM_LAKE_DIR: lake.config.lake.dir,
          CLICKSTREAM_TASK_QUEUE: lake.config.temporal.taskQueue,
        },
      });
      let output = '';
      child.stdout.on('data', (d) => (output += d));
      child.stderr.on('data', (d) => (output += d));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      try {
        const report = await (await startHour(new Client({ connection }), lake.config, '2024-07-01T10')).result();
        assert.equal(report.counts.curatedRows, 30);
        child.kill(signal);
        assert.equal(await exited, 0, output);
        assert.match(output, /clickstream worker: task queue/);
      } finally {
        child.kill('SIGKILL');
      }
    });
  }

  it('refuses to start with bad config, listing every problem', async () => {
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CLICKSTREAM_')));
    const child = spawn(process.execPath, [BIN, 'worker'], {
      env: { ...clean, CLICKSTREAM_BACKEND: 'oracle', CLICKSTREAM_DUCKDB_THREADS: 'many', CLICKSTREAM_LAKE_DIR: lake.config.lake.dir },
    });
    let output = '';
    child.stderr.on('data', (d) => (output += d));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 2);
    assert.match(output, /CLICKSTREAM_BACKEND: must be one of: local, aws, trino/);
    assert.match(output, /CLICKSTREAM_DUCKDB_THREADS: /);
  });
});
