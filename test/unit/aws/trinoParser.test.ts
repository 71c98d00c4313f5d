/**
 * Every DML statement in sql/athena/ must parse with Trino's own SQL parser (Athena engine v3 is
 * Trino), checked without AWS by tools/trino-parser (io.trino:trino-parser from Maven Central).
 * The first run resolves and compiles it (cached under ~/.cache/clickstream-lake), later runs
 * take about a second. A missing Java or Maven fails this test; it is never skipped.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SQL_ROOT } from '../../../lake/sqlFiles';

const RUN = path.resolve(__dirname, '..', '..', '..', 'tools', 'trino-parser', 'run.sh');

function check(dir?: string) {
  const r = spawnSync('bash', dir ? [RUN, dir] : [RUN], { encoding: 'utf8', timeout: 300_000 });
  if (r.error) throw r.error;
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe("sql/athena parses with Trino's SQL parser", function () {
  this.timeout(300_000);

  it('every non-Hive statement parses; Hive DDL files are listed as skipped', () => {
    const r = check();
    assert.equal(r.code, 0, `trino-parser check failed:\n${r.out}\n${r.err}`);
    const dml = readdirSync(path.join(SQL_ROOT, 'athena')).filter((f) => f.endsWith('.sql') && !f.startsWith('hive_'));
    assert.ok(dml.length >= 3);
    for (const f of dml) assert.match(r.out, new RegExp(`^OK   ${f.replace('.', '\\.')}: `, 'm'));
    assert.match(r.out, /^OK {3}curate_hour\.sql: CreateTableAsSelect$/m);
    assert.match(r.out, /^OK {3}create_classified_lines_view\.sql: CreateView$/m);
    assert.match(r.out, /^OK {3}create_rejected_lines_view\.sql: CreateView$/m);
    assert.match(r.out, new RegExp(`^${dml.length} passed, 0 failed$`, 'm'));
  });

  it('a statement that does not parse fails the check with its line and column', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'trino-parse-'));
    try {
      writeFileSync(path.join(dir, 'broken.sql'), 'SELECT a FROM WHERE year = ?');
      writeFileSync(path.join(dir, 'fine.sql'), 'SELECT count(*) FROM {{database}}.t WHERE year = ?');
      const r = check(dir);
      assert.equal(r.code, 1);
      assert.match(r.out, /^FAIL broken\.sql: line 1:15: mismatched input 'WHERE'/m);
      assert.match(r.out, /^OK {3}fine\.sql: Query$/m);
      assert.match(r.out, /^1 passed, 1 failed$/m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
