/**
 * The Athena dialect's SQL files: the classification is written once (the classified-lines view)
 * and the statements select from it instead of repeating it, duplicates are ranked alike wherever
 * they are ranked, statements carry exactly as many values as `?` markers, and literals only ever
 * receive strictly validated locations. (The Hive DDL is rendered, not a file: test/unit/aws/hiveDdl.test.ts.)
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { loadConfig } from '../../../config/config';
import { SQL_ROOT } from '../../../lake/sqlFiles';
import { athenaLiteral, countParameterMarkers, loadAthenaSql } from '../../../lake/aws/athenaSql';
import { athenaViewStatements, createAthenaStatements, isCtasRequest } from '../../../lake/aws/athenaStatements';
import { stagingTableName } from '../../../lake/aws/glueTables';

const ATHENA_DIR = path.join(SQL_ROOT, 'athena');
const read = (name: string) => readFileSync(path.join(ATHENA_DIR, `${name}.sql`), 'utf8');
const config = loadConfig({}, {});
const tables = { database: config.tables.database, raw: config.tables.raw, curated: config.tables.curated };
const STAGING = 's3://clickstream-lake/curated/clickstream/year=2024/month=03/day=01/hour=07/run=abc-123/';
const FILES = ['s3://clickstream-lake/raw/clickstream/year=2024/month=03/day=01/hour=07/part-0000.jsonl'];
const PARTITION = { year: '2024', month: '03', day: '01', hour: '07' };

const REJECT_REASONS = ['not valid JSON', 'not a JSON object', 'missing or empty event_id', 'missing or empty user_id', 'missing or unparseable event_time'];
const DUPLICATE_REASON = 'duplicate event_id (an earlier copy was kept)';
/** The statements that select classified lines; none may classify on its own. */
const CONSUMERS = ['curate_hour', 'validation_counts', 'create_rejected_lines_view'];

/** SQL without its comments, so an explanation never counts as logic. */
const code = (text: string) => text.replace(/--.*$/gm, '');

/** Every duplicate ranking of a statement: the window's PARTITION BY and ORDER BY. */
function duplicateRankings(text: string): { partitionBy: string[]; orderBy: string }[] {
  return [...code(text).matchAll(/row_number\(\) OVER \(PARTITION BY ([^)]*?) ORDER BY ([^)]*)\)/g)].map((m) => ({
    partitionBy: m[1]!.split(',').map((c) => c.trim()),
    orderBy: m[2]!.trim(),
  }));
}

describe('sql/athena', () => {
  it('the classification is written once, in the classified-lines view, with the reasons of sql/duckdb', () => {
    const view = code(read('create_classified_lines_view'));
    const duckdb = readFileSync(path.join(SQL_ROOT, 'duckdb', 'setup_02_classified_lines.sql'), 'utf8');
    assert.match(view, /^\s*CREATE OR REPLACE VIEW \{\{database\}\}\.\{\{classified_view\}\} AS/);
    assert.match(view, /FROM \{\{database\}\}\.\{\{raw_lines_table\}\}/);
    for (const reason of [...REJECT_REASONS, DUPLICATE_REASON]) assert.ok(duckdb.includes(`'${reason}'`), `sql/duckdb has '${reason}'`);
    for (const reason of REJECT_REASONS) assert.ok(view.includes(`'${reason}'`), `the view gives '${reason}'`);
    // Row by row, so a caller's filter on the manifest's files applies before anything is ranked.
    assert.doesNotMatch(view, /\bOVER\s*\(|\bGROUP BY\b/, 'no window or aggregate in the view');
    // What the statements select from it, all in the view's outer SELECT.
    const outer = view.slice(view.lastIndexOf('\nSELECT'));
    for (const col of ['source_file', 'year', 'month', 'day', 'hour', 'line', 'reject_reason', 'event_id', 'event_ts', 'user_id', 'properties', 'top_level_fields']) {
      assert.match(outer, new RegExp(`\\b${col}\\b`), `the view has column ${col}`);
    }
  });

  it('curation, validation and the rejected-lines view select from the view and repeat none of its logic', () => {
    for (const name of CONSUMERS) {
      const sql = code(read(name));
      assert.match(sql, /FROM \{\{database\}\}\.\{\{classified_view\}\}/, `${name} selects from the classified-lines view`);
      assert.doesNotMatch(sql, /raw_lines_table|json_parse\(line\)|json_extract|from_iso8601_timestamp|regexp_replace\(line/, `${name} does not parse lines itself`);
      for (const reason of REJECT_REASONS) assert.ok(!sql.includes(`'${reason}'`), `${name} does not decide '${reason}'`);
    }
    // Curation and validation pin the manifest's files (source_file is "$path") and the hour.
    for (const name of ['curate_hour', 'validation_counts']) {
      assert.match(code(read(name)), /WHERE year = \? AND month = \? AND day = \? AND hour = \?\s+AND contains\(CAST\(json_parse\(\?\) AS ARRAY\(VARCHAR\)\), source_file\)/, name);
    }
  });

  it('duplicates are ranked alike by curation and the rejected-lines view: per event_id in the hour, earliest event_time, then line text', () => {
    const curate = duplicateRankings(read('curate_hour'));
    const rejected = duplicateRankings(read('create_rejected_lines_view'));
    assert.equal(curate.length, 1);
    assert.equal(rejected.length, 1);
    assert.equal(curate[0]!.orderBy, 'event_ts, line');
    assert.equal(rejected[0]!.orderBy, curate[0]!.orderBy);
    // Curation ranks one pinned hour of valid lines; the view ranks every hour, valid lines apart from rejected ones.
    assert.deepEqual(curate[0]!.partitionBy, ['event_id']);
    assert.match(code(read('curate_hour')), /AND reject_reason IS NULL\s*\)/);
    assert.deepEqual(rejected[0]!.partitionBy, ['year', 'month', 'day', 'hour', 'reject_reason IS NULL', 'event_id']);
    assert.ok(read('create_rejected_lines_view').includes(`'${DUPLICATE_REASON}'`));
    // Validation counts duplicates without the ranking, so it checks curation rather than repeating it.
    assert.equal(duplicateRankings(read('validation_counts')).length, 0);
    assert.match(
      code(read('validation_counts')),
      /count_if\(reject_reason IS NULL\) - count\(DISTINCT CASE WHEN reject_reason IS NULL THEN event_id END\) AS duplicates/,
    );
  });

  it('curation is a CTAS into the staging folder, with the staging table named from the location and 5 values for 5 markers', () => {
    const statements = createAthenaStatements(tables);
    const req = statements.curateHour({ rawFiles: FILES, stagingLocation: STAGING, idempotencyToken: 't'.repeat(64), partition: PARTITION });
    const staging = stagingTableName(tables.curated, STAGING);
    assert.match(staging, /^clickstream_events_curated_stg_[0-9a-f]{16}$/);
    assert.ok(req.sql.includes(`CREATE TABLE clickstream.${staging}`));
    assert.ok(req.sql.includes(`external_location = '${STAGING}'`));
    assert.ok(req.sql.includes('FROM clickstream.clickstream_events_classified'));
    assert.equal(countParameterMarkers(req.sql), 5);
    assert.deepEqual(req.params, { ...PARTITION, raw_files: JSON.stringify(FILES) });
    assert.equal(req.outputLocation, STAGING);
    assert.ok(isCtasRequest(req));
    assert.deepEqual(req.ctas, { database: 'clickstream', table: staging, location: STAGING });
  });

  it('validation reads the same staging table and returns the four counts', () => {
    const req = createAthenaStatements(tables).validationCounts({ rawFiles: FILES, stagingLocation: STAGING, idempotencyToken: 'v'.repeat(64), partition: PARTITION });
    assert.ok(req.sql.includes(`FROM clickstream.${stagingTableName(tables.curated, STAGING)}`));
    for (const c of ['raw_lines', 'curated_rows', 'rejected', 'duplicates', 'unknown_fields']) assert.match(req.sql, new RegExp(`AS ${c}\\b`));
    assert.match(req.sql, /CAST\(.*AS JSON\) AS unknown_fields/);
    assert.equal(countParameterMarkers(req.sql), Object.keys(req.params).length);
    assert.equal(isCtasRequest(req), false);
  });

  it('bootstrap creates the classified-lines view over the _lines table, then the rejected-lines view over it', () => {
    const [classified, rejected, ...rest] = athenaViewStatements(tables);
    assert.equal(rest.length, 0);
    assert.equal(classified!.view, 'clickstream_events_classified');
    assert.match(classified!.sql, /^CREATE OR REPLACE VIEW clickstream\.clickstream_events_classified AS/m);
    assert.ok(classified!.sql.includes('FROM clickstream.clickstream_events_lines'));
    assert.equal(rejected!.view, 'clickstream_events_rejected');
    assert.match(rejected!.sql, /^CREATE OR REPLACE VIEW clickstream\.clickstream_events_rejected AS/m);
    assert.ok(rejected!.sql.includes('FROM clickstream.clickstream_events_classified'));
    for (const v of [classified!, rejected!]) assert.equal(countParameterMarkers(v.sql), 0);
  });

  it('location literals accept only strict s3:// folders; identifiers only the strict pattern', () => {
    for (const bad of ["s3://b/x'; DROP TABLE t; --/", 's3://b/has space/', 's3://b/no-trailing-slash', 'https://b/x/', "s3://b/a\\'/"]) {
      assert.throws(() => loadAthenaSql('curate_hour', { database: 'd', staging_table: 's', classified_view: 'v' }, { staging_location: bad }), /does not match/, bad);
    }
    assert.throws(() => loadAthenaSql('curate_hour', { database: 'd; drop', staging_table: 's', classified_view: 'v' }, { staging_location: STAGING }), /does not match/);
    assert.throws(() => createAthenaStatements(tables).curateHour({ rawFiles: ['/etc/passwd'], stagingLocation: STAGING, idempotencyToken: 't'.repeat(64), partition: PARTITION }));
  });

  it('every file in sql/athena is a statement the Trino check parses; no Hive DDL file restates the schema', () => {
    const files = readdirSync(ATHENA_DIR).filter((f) => f.endsWith('.sql'));
    assert.deepEqual(files.sort(), ['create_classified_lines_view.sql', 'create_rejected_lines_view.sql', 'curate_hour.sql', 'validation_counts.sql']);
  });
});

describe('countParameterMarkers and athenaLiteral', () => {
  it("counts ? outside comments, string literals and quoted identifiers", () => {
    assert.equal(countParameterMarkers(`SELECT '?', "a?b" FROM t -- is it?\n WHERE a = ? /* or ? */ AND b = 'it''s ?' AND c = ?`), 2);
  });
  it("renders strings single-quoted with '' escapes, numbers bare, arrays as ARRAY[...]", () => {
    assert.equal(athenaLiteral("it's"), "'it''s'");
    assert.equal(athenaLiteral(42), '42');
    assert.equal(athenaLiteral(['a', "b'"]), "ARRAY['a', 'b''']");
    assert.throws(() => athenaLiteral(Number.NaN));
  });
});
