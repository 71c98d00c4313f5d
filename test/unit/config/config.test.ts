import assert from 'node:assert/strict';
import * as path from 'node:path';
import { CONFIG_ENV_NAMES, loadConfig } from '../../../config/config';
import { PipelineError } from '../../../core/errors';
import { DEFAULT_TASK_QUEUE } from '../../../core/ids';

/** Runs loadConfig expecting ConfigInvalid; returns the listed problems. */
function problemsOf(env: Record<string, string | undefined>, overrides: Parameters<typeof loadConfig>[1] = {}): string[] {
  try {
    loadConfig(env, overrides);
  } catch (err) {
    assert.ok(err instanceof PipelineError, `expected PipelineError, got ${String(err)}`);
    assert.equal(err.type, 'ConfigInvalid');
    const problems = err.details.problems as string[];
    assert.ok(Array.isArray(problems));
    // The message lists every problem, one per line, so the operator fixes them all at once.
    assert.equal(err.message, `Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    return problems;
  }
  assert.fail('loadConfig accepted an invalid configuration');
}

describe('config/config', () => {
  it('has working defaults for the embedded backend', () => {
    const c = loadConfig({});
    assert.equal(c.backend, 'local');
    assert.equal(c.lake.dir, path.resolve('./lake-data'));
    assert.equal(c.lake.catalogDir, path.join(path.resolve('./lake-data'), '_catalog'));
    assert.equal(c.lake.bucket, 'clickstream-lake');
    assert.equal(c.lake.rawPrefix, 'raw/clickstream');
    assert.equal(c.lake.curatedPrefix, 'curated/clickstream');
    assert.deepEqual(c.tables, { database: 'clickstream', raw: 'clickstream_events', curated: 'clickstream_events_curated' });
    assert.deepEqual(c.engine, { threads: 2, memoryMiB: 768, poll: { initialMs: 10, maxMs: 5000, multiplier: 1.5 }, slots: { live: 2, backfill: 4 } });
    assert.deepEqual(c.rawWait, { timeoutSeconds: 7200, recheckSeconds: 300 });
    assert.deepEqual(c.temporal, { address: 'localhost:7233', namespace: 'default', taskQueue: DEFAULT_TASK_QUEUE, uiPort: 8233 });
    assert.deepEqual(c.schedule, { minuteOffset: 10 });
  });

  it('reads typed values from the environment; empty strings mean "unset"', () => {
    const c = loadConfig({
      CLICKSTREAM_LAKE_DIR: '/tmp/lake',
      CLICKSTREAM_CATALOG_DIR: '/tmp/cat',
      CLICKSTREAM_DUCKDB_THREADS: '8',
      CLICKSTREAM_QUERY_POLL_MULTIPLIER: '2',
      CLICKSTREAM_RAW_TABLE: 'events_raw',
      CLICKSTREAM_BUCKET: '',
      TEMPORAL_ADDRESS: 'temporal.internal:7233',
    });
    assert.equal(c.lake.dir, '/tmp/lake');
    assert.equal(c.lake.catalogDir, '/tmp/cat');
    assert.equal(c.engine.threads, 8);
    assert.equal(c.engine.poll.multiplier, 2);
    assert.equal(c.tables.raw, 'events_raw');
    assert.equal(c.lake.bucket, 'clickstream-lake');
    assert.equal(c.temporal.address, 'temporal.internal:7233');
  });

  it('overrides (flags) win over the environment', () => {
    const c = loadConfig(
      { CLICKSTREAM_DATABASE: 'from_env', CLICKSTREAM_DUCKDB_THREADS: '4', CLICKSTREAM_BACKEND: 'aws' },
      { CLICKSTREAM_DATABASE: 'from_flag', CLICKSTREAM_DUCKDB_THREADS: 3, CLICKSTREAM_BACKEND: 'local' },
    );
    assert.equal(c.tables.database, 'from_flag');
    assert.equal(c.engine.threads, 3);
    assert.equal(c.backend, 'local');
    // An undefined override falls back to the environment.
    assert.equal(loadConfig({ CLICKSTREAM_DATABASE: 'from_env' }, { CLICKSTREAM_DATABASE: undefined }).tables.database, 'from_env');
  });

  it('an invalid override is reported even when the environment value is valid', () => {
    const problems = problemsOf({ CLICKSTREAM_RAW_PREFIX: 'raw/ok' }, { CLICKSTREAM_RAW_PREFIX: '/abs' });
    assert.equal(problems.length, 1);
    assert.match(problems[0]!, /^CLICKSTREAM_RAW_PREFIX: must be a key prefix like raw\/clickstream .*\(got "\/abs"\)$/);
  });

  it('lists every problem together in one ConfigInvalid error, each naming its variable', () => {
    const problems = problemsOf({
      CLICKSTREAM_BACKEND: 'gcp',
      CLICKSTREAM_BUCKET: 'Bad_Bucket!',
      CLICKSTREAM_RAW_TABLE: 'a;DROP TABLE x',
      CLICKSTREAM_CURATED_PREFIX: '../x',
      CLICKSTREAM_DATABASE: 'click"stream',
      CLICKSTREAM_FOO: '1',
      CLICKSTREAM_DUCKDB_THREADS: '1.5',
      TEMPORAL_ADDRESS: 'no-port',
    });
    const byVar = new Map(problems.map((p) => [p.slice(0, p.indexOf(':')), p]));
    assert.deepEqual(
      [...byVar.keys()].sort(),
      [
        'CLICKSTREAM_BACKEND',
        'CLICKSTREAM_BUCKET',
        'CLICKSTREAM_CURATED_PREFIX',
        'CLICKSTREAM_DATABASE',
        'CLICKSTREAM_DUCKDB_THREADS',
        'CLICKSTREAM_FOO',
        'CLICKSTREAM_RAW_TABLE',
        'TEMPORAL_ADDRESS',
      ],
    );
    assert.equal(problems.length, 8);
    assert.equal(byVar.get('CLICKSTREAM_BACKEND'), 'CLICKSTREAM_BACKEND: must be one of: local, aws, trino (got "gcp")');
    assert.match(byVar.get('CLICKSTREAM_BUCKET')!, /must be an S3 bucket name.*\(got "Bad_Bucket!"\)$/);
    assert.match(byVar.get('CLICKSTREAM_RAW_TABLE')!, /raw table must match .*lower-case letters, digits, underscore.*\(got "a;DROP TABLE x"\)$/);
    assert.match(byVar.get('CLICKSTREAM_CURATED_PREFIX')!, /must be a key prefix like curated\/clickstream.*\(got "\.\.\/x"\)$/);
    assert.match(byVar.get('CLICKSTREAM_DATABASE')!, /database must match .*\(got "click\\"stream"\)$/);
    assert.match(byVar.get('CLICKSTREAM_DUCKDB_THREADS')!, /must be a whole number/);
    assert.match(byVar.get('TEMPORAL_ADDRESS')!, /must be host:port/);
    assert.match(byVar.get('CLICKSTREAM_FOO')!, /^CLICKSTREAM_FOO: unknown setting; known ones are CLICKSTREAM_BACKEND, .*CLICKSTREAM_RAW_TABLE/);
  });

  it('rejects unsafe identifiers and prefixes that could reach SQL or escape the lake', () => {
    const bad: Record<string, string[]> = {
      CLICKSTREAM_DATABASE: ['Clickstream', '1db', 'db-name', 'db name', "db'", 'db"x', 'a'.repeat(129)],
      CLICKSTREAM_RAW_TABLE: ['a;DROP TABLE x', 'events.raw', 'événements'],
      CLICKSTREAM_RAW_PREFIX: ['../x', 'raw/../x', 'raw/./x', '/raw', 'raw/', 'raw//x', 'raw x', 'raw\\x'],
      CLICKSTREAM_BUCKET: ['ab', 'UPPER', 'a..b', '-ab', 'ab-', 'a'.repeat(64), 'a_b'],
    };
    for (const [name, values] of Object.entries(bad)) {
      for (const value of values) {
        const problems = problemsOf({ [name]: value });
        assert.equal(problems.length, 1, `${name}=${value}`);
        assert.ok(problems[0]!.startsWith(`${name}: `), problems[0]);
        assert.ok(problems[0]!.endsWith(`(got ${JSON.stringify(value)})`), problems[0]);
      }
    }
    // The accepted forms still load.
    const ok = loadConfig({ CLICKSTREAM_DATABASE: '_db_1', CLICKSTREAM_RAW_PREFIX: 'a/b-c/d_e', CLICKSTREAM_BUCKET: 'my.bucket-1' });
    assert.equal(ok.tables.database, '_db_1');
    assert.equal(ok.lake.rawPrefix, 'a/b-c/d_e');
    assert.equal(ok.lake.bucket, 'my.bucket-1');
  });

  it('checks numeric ranges and the poll bounds against each other', () => {
    assert.match(problemsOf({ CLICKSTREAM_DUCKDB_THREADS: '0' })[0]!, /^CLICKSTREAM_DUCKDB_THREADS: must be >= 1 \(got "0"\)$/);
    assert.match(problemsOf({ CLICKSTREAM_SCHEDULE_MINUTE: '60' })[0]!, /^CLICKSTREAM_SCHEDULE_MINUTE: must be <= 59/);
    assert.match(problemsOf({ CLICKSTREAM_QUERY_POLL_MULTIPLIER: '0.5' })[0]!, /^CLICKSTREAM_QUERY_POLL_MULTIPLIER: must be >= 1/);
    assert.match(problemsOf({ CLICKSTREAM_RAW_WAIT_SECONDS: 'soon' })[0]!, /^CLICKSTREAM_RAW_WAIT_SECONDS: /);
    assert.deepEqual(problemsOf({ CLICKSTREAM_QUERY_POLL_INITIAL_MS: '500', CLICKSTREAM_QUERY_POLL_MAX_MS: '100' }), [
      'CLICKSTREAM_QUERY_POLL_MAX_MS: must be >= CLICKSTREAM_QUERY_POLL_INITIAL_MS (got 100 < 500, defaults filled in for the local backend)',
    ]);
    // An initial delay above the backend's default cap is caught too, not silently clamped.
    assert.deepEqual(problemsOf({ CLICKSTREAM_BACKEND: 'aws', CLICKSTREAM_QUERY_POLL_INITIAL_MS: '9000' }), [
      'CLICKSTREAM_QUERY_POLL_MAX_MS: must be >= CLICKSTREAM_QUERY_POLL_INITIAL_MS (got 8000 < 9000, defaults filled in for the aws backend)',
    ]);
  });

  it('takes the poll policy defaults from the backend, each unset setting on its own', () => {
    assert.deepEqual(loadConfig({}).engine.poll, { initialMs: 10, maxMs: 5000, multiplier: 1.5 });
    assert.deepEqual(loadConfig({ CLICKSTREAM_BACKEND: 'aws' }).engine.poll, { initialMs: 1000, maxMs: 8000, multiplier: 1.5 });
    assert.deepEqual(loadConfig({ CLICKSTREAM_BACKEND: 'aws', CLICKSTREAM_QUERY_POLL_MULTIPLIER: '2' }).engine.poll, {
      initialMs: 1000,
      maxMs: 8000,
      multiplier: 2,
    });
  });

  it('ignores non-CLICKSTREAM variables and the test harness variable', () => {
    const c = loadConfig({ PATH: '/bin', HOME: '/root', CLICKSTREAM_TEST_KEEP_DIRS: '1' });
    assert.equal(c.backend, 'local');
  });

  it('exports every variable name it reads', () => {
    assert.ok(CONFIG_ENV_NAMES.includes('CLICKSTREAM_BACKEND'));
    assert.ok(CONFIG_ENV_NAMES.includes('TEMPORAL_ADDRESS'));
    assert.ok(CONFIG_ENV_NAMES.every((n) => n.startsWith('CLICKSTREAM_') || n.startsWith('TEMPORAL_')));
  });
});
