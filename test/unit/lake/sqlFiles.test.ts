import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SQL_ROOT, loadSetupSql, loadSql } from '../../../lake/sqlFiles';
import { duckdbStatements } from '../../../lake/local/duckdbStatements';

/** A throwaway sql root, so loader behaviour is tested apart from the real statements. */
function tempSqlRoot(files: Record<string, string>): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'sqlfiles-'));
  mkdirSync(path.join(root, 'duckdb'));
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(root, 'duckdb', name), text);
  return root;
}

/** Named parameters ($name) used by a statement, comments stripped. */
function paramsIn(sql: string): string[] {
  const code = sql.replace(/--.*$/gm, '');
  return [...new Set([...code.matchAll(/\$([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]!))].sort();
}

describe('lake/sqlFiles', () => {
  const roots: string[] = [];
  after(() => {
    for (const r of roots) rmSync(r, { recursive: true, force: true });
  });
  const root = (files: Record<string, string>) => {
    const r = tempSqlRoot(files);
    roots.push(r);
    return r;
  };

  describe('loadSql', () => {
    it('loads a statement file as is', () => {
      const r = root({ 'plain.sql': 'SELECT 1 AS one;\n' });
      assert.equal(loadSql('duckdb', 'plain', {}, r), 'SELECT 1 AS one;\n');
      assert.equal(loadSql('duckdb', 'curate_hour'), readFileSync(path.join(SQL_ROOT, 'duckdb', 'curate_hour.sql'), 'utf8'));
    });

    it('substitutes valid identifiers into every {{placeholder}}', () => {
      const r = root({ 'ids.sql': 'CREATE TABLE {{t}} AS SELECT * FROM {{src}} JOIN {{t}}_x USING (id);' });
      assert.equal(loadSql('duckdb', 'ids', { t: 'events', src: '_raw_1' }, r), 'CREATE TABLE events AS SELECT * FROM _raw_1 JOIN events_x USING (id);');
    });

    it('throws on an unsafe identifier, naming it and the pattern', () => {
      const r = root({ 'ids.sql': 'SELECT * FROM {{t}};' });
      for (const bad of ['a;DROP TABLE x', 'Events', '1abc', 'a b', 'a"b', "a'b", 'a.b', '', 'a'.repeat(129)]) {
        assert.throws(
          () => loadSql('duckdb', 'ids', { t: bad }, r),
          (err: unknown) => err instanceof Error && err.message.startsWith(`identifier '${bad}' for {{t}} does not match /^[a-z_]`),
          bad,
        );
      }
    });

    it('throws on a placeholder with no value, naming the file and placeholder', () => {
      const r = root({ 'ids.sql': 'SELECT * FROM {{t}} JOIN {{u}};' });
      assert.throws(
        () => loadSql('duckdb', 'ids', { t: 'ok' }, r),
        (err: unknown) => err instanceof Error && err.message === `${path.join(r, 'duckdb', 'ids.sql')}: no value for identifier placeholder {{u}}`,
      );
      // The real curated-table loader needs its identifier too.
      assert.throws(() => loadSql('duckdb', 'load_curated_table'), /no value for identifier placeholder \{\{curated_table\}\}/);
    });

    it('throws when the file does not exist', () => {
      assert.throws(() => loadSql('duckdb', 'no_such_statement'), /ENOENT/);
    });
  });

  describe('loadSetupSql', () => {
    it('returns setup_*.sql in file-name order and nothing else', () => {
      const r = root({
        'setup_10_last.sql': '-- 3',
        'setup_02_second.sql': '-- 2',
        'setup_01_first.sql': '-- 1',
        'other.sql': '-- not setup',
        'setup_notes.txt': '-- not sql',
      });
      assert.deepEqual(loadSetupSql('duckdb', r), ['-- 1', '-- 2', '-- 3']);
    });

    it('the real setup defines the macros in dependency order', () => {
      const setup = loadSetupSql('duckdb');
      assert.equal(setup.length, 3);
      const defines = setup.map((s) => [...s.matchAll(/CREATE OR REPLACE MACRO (\w+)/g)].map((m) => m[1]));
      assert.deepEqual(defines, [
        ['clickstream_raw_lines', 'clickstream_csv_rows', 'clickstream_lines_are_plain', 'clickstream_plain_lines', 'clickstream_lines'],
        ['clickstream_checked_lines', 'clickstream_classified_lines'],
        ['clickstream_curated_events'],
      ]);
      assert.match(setup[1]!, /FROM clickstream_lines\(files, reader\)/);
      assert.match(setup[2]!, /FROM clickstream_checked_lines\(files, reader\)/);
    });
  });

  describe('sql/duckdb never splices input into SQL', () => {
    const files = readdirSync(path.join(SQL_ROOT, 'duckdb')).filter((f) => f.endsWith('.sql')).sort();
    const text = (f: string) => readFileSync(path.join(SQL_ROOT, 'duckdb', f), 'utf8');

    /** What each statement may bind, as its caller binds it (statement builders and lake/local/lakeTables.ts). */
    const BOUND: Record<string, string[]> = {
      'curate_hour.sql': Object.keys(duckdbStatements.curateHour(sampleInput()).params).sort(),
      'validation_counts.sql': Object.keys(duckdbStatements.validationCounts(sampleInput()).params).sort(),
      'load_raw_table.sql': ['raw_files'],
      'load_rejected_table.sql': ['raw_files'],
      'load_curated_table.sql': ['curated_files'],
      'setup_01_raw_lines.sql': [],
      'setup_02_classified_lines.sql': [],
      'setup_03_curated_events.sql': [],
    };

    it('every file is known here, so a new statement gets the same scrutiny', () => {
      assert.deepEqual(files, Object.keys(BOUND).sort());
    });

    for (const f of Object.keys(BOUND)) {
      it(`${f}: uses exactly the parameters its caller binds, no concatenation, no quoted parameters`, () => {
        const sql = text(f);
        assert.deepEqual(paramsIn(sql), BOUND[f]);
        const code = sql.replace(/--.*$/gm, '');
        assert.doesNotMatch(code, /\|\|/, 'string concatenation');
        assert.doesNotMatch(code, /\bconcat\s*\(/i, 'string concatenation');
        // Literals are matched left to right, so quotes pair up as the SQL parser pairs them.
        for (const lit of code.match(/'(?:[^']|'')*'/g) ?? []) assert.doesNotMatch(lit, /\$\w/, `parameter inside the literal ${lit}`);
        assert.doesNotMatch(code, /\$\{/, 'template-literal leftovers');
        // Placeholders are identifiers only, each substituted through the strict pattern.
        for (const m of code.matchAll(/\{\{([^}]*)\}\}/g)) assert.match(m[1]!, /^(raw_table|curated_table)$/);
      });
    }

    it('statement builders pass values only as parameters: hostile paths never reach the SQL text', () => {
      const hostile = "s3://b/x'); DROP TABLE t; --/";
      const input = { ...sampleInput(), stagingLocation: hostile, rawFiles: [`${hostile}a.jsonl`] };
      const curate = duckdbStatements.curateHour(input);
      assert.equal(curate.sql, loadSql('duckdb', 'curate_hour'));
      assert.deepEqual(curate.params, { raw_files: [`${hostile}a.jsonl`], line_reader: 'plain', output_file: `${hostile}part-00000.parquet` });
      assert.equal(curate.outputLocation, hostile);
      assert.equal(curate.idempotencyToken, input.idempotencyToken);
      const counts = duckdbStatements.validationCounts(input);
      assert.equal(counts.sql, loadSql('duckdb', 'validation_counts'));
      assert.deepEqual(counts.params, { raw_files: [`${hostile}a.jsonl`], line_reader: 'plain', staging_glob: `${hostile}*.parquet` });
      assert.ok(!curate.sql.includes('DROP') && !counts.sql.includes('DROP'));
    });
  });
});

function sampleInput() {
  return {
    rawFiles: ['s3://b/raw/year=2024/month=03/day=01/hour=07/part-0000.jsonl'],
    stagingLocation: 's3://b/curated/year=2024/month=03/day=01/hour=07/run=r1/',
    idempotencyToken: 'a'.repeat(64),
    partition: { year: '2024', month: '03', day: '01', hour: '07' },
  };
}
