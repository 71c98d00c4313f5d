/** CLICKSTREAM_TRINO_* parsing: defaults, accepted forms, and every problem named with its variable, alone and through loadConfig. */
import assert from 'node:assert/strict';
import { loadConfig } from '../../../config/config';
import { PipelineError } from '../../../core/errors';
import { parseTrinoSettings, TRINO_ENV_NAMES } from '../../../config/trinoSettings';

/** The problems loadConfig lists in its one ConfigInvalid error. */
function configProblems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    assert.ok(err instanceof PipelineError && err.type === 'ConfigInvalid', String(err));
    return (err.details as { problems: string[] }).problems;
  }
  return assert.fail('loadConfig accepted the environment');
}

describe('parseTrinoSettings', () => {
  it('defaults: coordinator on localhost:8080, catalog hive, user clickstream-lake (unset and empty alike)', () => {
    const expected = { url: 'http://localhost:8080', catalog: 'hive', user: 'clickstream-lake' };
    assert.deepEqual(parseTrinoSettings({}), { ok: true, settings: expected });
    assert.deepEqual(parseTrinoSettings({ CLICKSTREAM_TRINO_URL: '', CLICKSTREAM_TRINO_CATALOG: '', CLICKSTREAM_TRINO_USER: '' }), { ok: true, settings: expected });
    assert.deepEqual(TRINO_ENV_NAMES, ['CLICKSTREAM_TRINO_URL', 'CLICKSTREAM_TRINO_CATALOG', 'CLICKSTREAM_TRINO_USER']);
  });

  it('accepts http and https coordinators with or without a port; a trailing slash is dropped', () => {
    const r = parseTrinoSettings({ CLICKSTREAM_TRINO_URL: 'https://trino.internal.example.com:8443/', CLICKSTREAM_TRINO_CATALOG: 'glue_lake', CLICKSTREAM_TRINO_USER: 'svc.clickstream@etl' });
    assert.deepEqual(r, { ok: true, settings: { url: 'https://trino.internal.example.com:8443', catalog: 'glue_lake', user: 'svc.clickstream@etl' } });
    const plain = parseTrinoSettings({ CLICKSTREAM_TRINO_URL: 'http://trino' });
    assert.ok(plain.ok);
    assert.equal(plain.settings.url, 'http://trino');
  });

  for (const url of ['localhost:8080', 'trino://localhost:8080', 'http://localhost:8080/v1/statement', 'http://user:pw@localhost:8080', 'http://local host:8080', 'ftp://trino']) {
    it(`refuses the URL ${JSON.stringify(url)}, naming CLICKSTREAM_TRINO_URL and the accepted form`, () => {
      const r = parseTrinoSettings({ CLICKSTREAM_TRINO_URL: url });
      assert.ok(!r.ok);
      assert.deepEqual(r.problems, [`CLICKSTREAM_TRINO_URL: must be the coordinator URL, http(s)://host:port, e.g. http://localhost:8080 (got ${JSON.stringify(url)})`]);
    });
  }

  for (const catalog of ['Hive', 'hive-glue', '1hive', 'hive;DROP TABLE x', '"hive"', 'a'.repeat(129)]) {
    it(`refuses the catalog ${JSON.stringify(catalog.length > 20 ? `${catalog.slice(0, 8)}… (${catalog.length} chars)` : catalog)}: it reaches SQL as an identifier`, () => {
      const r = parseTrinoSettings({ CLICKSTREAM_TRINO_CATALOG: catalog });
      assert.ok(!r.ok);
      assert.equal(r.problems.length, 1, r.problems.join('\n'));
      assert.match(r.problems[0]!, /^CLICKSTREAM_TRINO_CATALOG: must be a Trino catalog name \(lower-case letters, digits, underscore\), the Hive catalog over Glue \(got /);
    });
  }

  it('refuses a user with spaces, quotes or over 128 characters', () => {
    for (const user of ['click stream', "o'brien", 'u'.repeat(129)]) {
      const r = parseTrinoSettings({ CLICKSTREAM_TRINO_USER: user });
      assert.ok(!r.ok, user);
      assert.match(r.problems[0]!, /^CLICKSTREAM_TRINO_USER: must be a Trino user name \(1-128 of A-Z a-z 0-9 \. _ @ -\)/);
    }
  });

  it('names an unknown CLICKSTREAM_TRINO_* variable (a typo never falls back to a default) with the known ones', () => {
    const r = parseTrinoSettings({ CLICKSTREAM_TRINO_CATALOGUE: 'lake', CLICKSTREAM_TRINO_URL: 'http://trino:8080' });
    assert.ok(!r.ok);
    assert.deepEqual(r.problems, [
      'CLICKSTREAM_TRINO_CATALOGUE: unknown setting; known Trino settings are CLICKSTREAM_TRINO_URL, CLICKSTREAM_TRINO_CATALOG, CLICKSTREAM_TRINO_USER',
    ]);
  });

  it('reports every problem at once; ignores variables outside CLICKSTREAM_TRINO_*', () => {
    const r = parseTrinoSettings({
      CLICKSTREAM_TRINO_URL: 'localhost',
      CLICKSTREAM_TRINO_CATALOG: 'Hive',
      CLICKSTREAM_TRINO_USER: 'a b',
      CLICKSTREAM_TRINO_SCHEMA: 'clickstream',
      TRINO_URL: 'not ours',
      CLICKSTREAM_BACKEND: 'trino',
    });
    assert.ok(!r.ok);
    assert.equal(r.problems.length, 4, r.problems.join('\n'));
    for (const name of ['CLICKSTREAM_TRINO_URL', 'CLICKSTREAM_TRINO_CATALOG', 'CLICKSTREAM_TRINO_USER', 'CLICKSTREAM_TRINO_SCHEMA']) {
      assert.ok(r.problems.some((p) => p.startsWith(`${name}: `)), `${name} named`);
    }
  });
});

describe('loadConfig with the trino backend', () => {
  it('fills config.trino with the defaults and polls with the trino defaults (100 ms × 1.5, cap 1000 ms)', () => {
    const config = loadConfig({ CLICKSTREAM_BACKEND: 'trino' });
    assert.equal(config.backend, 'trino');
    assert.deepEqual(config.trino, { url: 'http://localhost:8080', catalog: 'hive', user: 'clickstream-lake' });
    assert.deepEqual(config.engine.poll, { initialMs: 100, maxMs: 1000, multiplier: 1.5 });
  });

  it('folds Trino problems into the one ConfigInvalid error beside the other settings', () => {
    const problems = configProblems({
      CLICKSTREAM_BACKEND: 'trino',
      CLICKSTREAM_TRINO_URL: 'trino:8080',
      CLICKSTREAM_TRINO_CATALOG: 'Hive',
      CLICKSTREAM_TRINO_PASSWORD: 'x',
      CLICKSTREAM_DATABASE: 'bad-db',
    });
    assert.equal(problems.length, 4, problems.join('\n'));
    assert.ok(problems.some((p) => p.startsWith('CLICKSTREAM_TRINO_URL: must be the coordinator URL')));
    assert.ok(problems.some((p) => p.startsWith('CLICKSTREAM_TRINO_CATALOG: must be a Trino catalog name')));
    assert.ok(problems.some((p) => p.startsWith('CLICKSTREAM_TRINO_PASSWORD: unknown setting; known Trino settings are')));
    assert.ok(problems.some((p) => p.startsWith('CLICKSTREAM_DATABASE: ')));
    // Named once, by the Trino parser: the generic unknown-CLICKSTREAM_* check leaves the prefix to it.
    assert.equal(problems.filter((p) => p.includes('CLICKSTREAM_TRINO_PASSWORD')).length, 1);
  });
});
