import assert from 'node:assert/strict';
import { runCli } from '../../support/runCli';
import { testTemporal } from '../../support/temporalServer';
import { makeTestLake, type TestLake } from '../../support/testLake';

describe('clickstream doctor (real CLI process, local backend)', () => {
  let lake: TestLake;
  beforeEach(async () => {
    lake = await makeTestLake();
  });
  afterEach(async () => {
    await lake.cleanup();
  });

  it('passes every check against a reachable Temporal server and an existing lake folder', async () => {
    const { server } = await testTemporal();
    const r = await runCli(['--lake-dir', lake.config.lake.dir, '--temporal-address', server.address, 'doctor']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^PASS lake folder: /m);
    assert.match(r.stdout, /^PASS temporal: /m);
  });

  it('fails with a fix for each failed check', async () => {
    const r = await runCli(['--lake-dir', `${lake.dir}/missing`, '--temporal-address', '127.0.0.1:1', 'doctor']);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^FAIL lake folder: .*missing is missing or not a folder\n\s+fix: create it \(mkdir -p /m);
    assert.match(r.stdout, /^FAIL temporal: cannot reach Temporal at 127\.0\.0\.1:1/m);
    assert.match(r.stdout, /2 of 3 checks failed/);
  });
});
