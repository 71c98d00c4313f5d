/**
 * The CLI's exit codes, as a script sees them from the real process: 0 ok, 1 failed (a workflow,
 * a query, a check, an unreachable server), 2 bad input (commander's usage errors included),
 * the latter always before any side effect.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { withWorker } from '../../support/pipelineWorker';
import { CLI_SOURCES, runCli } from '../../support/runCli';
import { testTemporal } from '../../support/temporalServer';
import { makeRawHour, makeTestLake, type TestLake } from '../../support/testLake';

describe('clickstream exit codes: 0 ok, 1 failed, 2 bad input (real CLI process)', () => {
  let lake: TestLake;
  let env: Record<string, string>;
  beforeEach(async () => {
    const { server } = await testTemporal();
    lake = await makeTestLake({ CLICKSTREAM_RAW_WAIT_SECONDS: '0' });
    env = { TEMPORAL_ADDRESS: server.address, CLICKSTREAM_LAKE_DIR: lake.config.lake.dir, CLICKSTREAM_TASK_QUEUE: lake.config.temporal.taskQueue, CLICKSTREAM_RAW_WAIT_SECONDS: '0' };
  });
  afterEach(async () => {
    await lake.cleanup();
  });

  describe('2: bad input, nothing done', () => {
    const cases: Array<[string, string[], RegExp]> = [
      ['unknown command', ['publish-everything'], /unknown command 'publish-everything'/],
      ['unknown option', ['partitions', '--from', '2024-01-01T00', '--to', '2024-01-01T01', '--colour'], /unknown option '--colour'/],
      ['missing required option', ['generate', '--from', '2024-01-01T00', '--events-per-hour', '5'], /required option '--to <hour>' not specified/],
      ['missing argument', ['run-hour'], /missing required argument 'hour'/],
      ['unknown subcommand option', ['schedule', 'describe', '--yaml'], /unknown option '--yaml'/],
      ['bad hour', ['run-hour', '2024-02-30T00', '--json'], /day must be 01-29 for 2024-02/],
      ['bad query format', ['query', 'SELECT 1', '--format', 'xml'], /--format/],
      ['bad setting', ['--backend', 'hdfs', 'doctor', '--json'], /CLICKSTREAM_BACKEND: must be one of: local, aws, trino/],
    ];
    for (const [name, args, message] of cases) {
      it(name, async () => {
        const r = await runCli(args, env);
        assert.equal(r.code, 2, `stdout: ${r.stdout}\nstderr: ${r.stderr}`);
        assert.match(r.stderr, message);
        assert.equal(r.stdout, '', 'nothing on stdout: a script reading it gets no half document');
        assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      });
    }
  });

  describe('1: accepted, then failed', () => {
    it('a workflow that fails (an hour without raw data)', async () => {
      const r = await withWorker(lake, () => runCli(['run-hour', '2024-05-03T00', '--json'], env));
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /^workflow failed \(\w+\): /m);
      assert.equal(r.stdout, '');
    });

    it('a query the engine rejects', async () => {
      await makeRawHour(lake, { hour: '2024-05-03T01', rows: 3 });
      const r = await runCli(['query', 'SELECT no_such_column FROM clickstream_events'], env);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /error \(QueryFailed\): .*no_such_column/);
    });

    it('Temporal unreachable', async () => {
      const r = await runCli(['schedule', 'describe', '--json'], { ...env, TEMPORAL_ADDRESS: '127.0.0.1:1' });
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /cannot reach Temporal at 127\.0\.0\.1:1/);
      assert.equal(r.stdout, '');
    });

    it('a failed doctor check', async () => {
      const r = await runCli(['doctor'], { ...env, CLICKSTREAM_LAKE_DIR: `${lake.dir}/missing` });
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stdout, /^FAIL lake folder: /m);
    });
  });

  describe('0: ok', () => {
    it('help, at every level', async () => {
      for (const args of [['--help'], ['help', 'backfill'], ['backfill', 'start', '--help'], []]) {
        const r = await runCli(args, env);
        // Bare `clickstream` prints the help on stderr, as a usage hint, and is bad input.
        if (args.length === 0) {
          assert.equal(r.code, 2, r.stderr);
          assert.match(r.stderr, /^Usage: clickstream /m);
          continue;
        }
        assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
        assert.match(r.stdout, /^Usage: clickstream/m);
      }
    });

    it('the sources through tsx (what bin/clickstream.js runs when the build is stale) load each command when it runs', async () => {
      const r = await runCli(['partitions', '--from', '2024-05-03T00', '--to', '2024-05-03T01', '--no-temporal', '--json'], env, undefined, CLI_SOURCES);
      assert.equal(r.code, 0, r.stderr);
      assert.equal((JSON.parse(r.stdout) as { counts: { 'missing-raw': number } }).counts['missing-raw'], 2);
      const bad = await runCli(['backfill', 'pause'], env, undefined, CLI_SOURCES);
      assert.equal(bad.code, 2, bad.stderr);
      assert.match(bad.stderr, /name the backfill with --from and --to/);
    });

    it('a command that did its work', async () => {
      const r = await runCli(['generate', '--from', '2024-05-03T02', '--to', '2024-05-03T02', '--events-per-hour', '4'], env);
      assert.equal(r.code, 0, r.stderr);
      await fs.stat(lake.config.lake.dir);
      assert.match(r.stdout, /^2024-05-03T02 {2}4 lines/m);
    });
  });
});
