import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { queryLakeTables } from '../../../lake/local/lakeTables';
import { publishedRows, publishedSchema } from '../../support/lakeReads';
import { makeRawHour, makeTestLake, type TestLake } from '../../support/testLake';
import { runHourSteps, stagedRows } from './pipelineSteps';

const HOUR = '2024-03-01T07';

/** One raw event line; fields default to a valid event, `undefined` drops a field. */
function ev(fields: Record<string, unknown>): string {
  const base: Record<string, unknown> = {
    event_id: 'e1',
    event_time: '2024-03-01T07:10:00Z',
    user_id: 'u1',
    session_id: 'u1-s0',
    event_type: 'page_view',
    page_url: 'https://shop.example.com/',
    referrer: '',
    user_agent: 'Mozilla/5.0',
    properties: { scroll_depth: 10 },
  };
  const doc = { ...base, ...fields };
  for (const k of Object.keys(doc)) if (doc[k] === undefined) delete doc[k];
  return JSON.stringify(doc);
}

/** Rejected and duplicate lines as the documented rejected-lines table lists them. */
async function notCurated(lake: TestLake): Promise<{ outcome: string; reason: string; line: string }[]> {
  const t = lake.config.tables.raw;
  const [rows] = await queryLakeTables(lake.backend, lake.config, [`SELECT outcome, reason, line FROM ${t}_rejected ORDER BY source_file, line_no`]);
  return rows!.map((r) => ({ outcome: String(r.outcome), reason: String(r.reason), line: String(r.line) }));
}

describe('curation SQL on crafted raw files (real activities, DuckDB, lake folder, file catalog)', () => {
  let lake: TestLake;
  beforeEach(async () => {
    lake = await makeTestLake();
  });
  afterEach(async () => {
    await lake.cleanup();
  });

  it('ignores blank and space-only lines; only non-blank lines are counted', async () => {
    await makeRawHour(lake, { hour: HOUR, files: 1, lines: ['', ev({ event_id: 'a' }), '   ', '', ev({ event_id: 'b' }), '  ', ''] });
    const { validation, staging } = await runHourSteps(lake, HOUR, 'run-blank');
    assert.deepEqual(validation.counts, { rawLines: 2, curatedRows: 2, rejected: 0, duplicates: 0 });
    assert.deepEqual((await stagedRows(lake, staging.stagingLocation)).map((r) => r.event_id), ['a', 'b']);
    assert.deepEqual(await notCurated(lake), []);
  });

  it('treats tab and mixed-whitespace lines as blank too (whitespace-only lines are ignored)', async () => {
    await makeRawHour(lake, { hour: HOUR, files: 1, lines: [ev({ event_id: 'a' }), '\t', ' \t ', '\t\t'] });
    const { validation } = await runHourSteps(lake, HOUR, 'run-tabs');
    assert.deepEqual(await notCurated(lake), [], 'no whitespace-only line is rejected');
    assert.deepEqual(validation.counts, { rawLines: 1, curatedRows: 1, rejected: 0, duplicates: 0 });
  });

  it('handles CRLF line ends: no carriage return leaks into values or rejected lines', async () => {
    await makeRawHour(lake, {
      hour: HOUR,
      files: 2,
      lineEnding: '\r\n',
      lines: [ev({ event_id: 'a', properties: undefined, user_agent: 'agent-a' }), '', '{"event_id": "broken"', ev({ event_id: 'b', user_agent: 'agent-b' })],
    });
    const { validation, staging } = await runHourSteps(lake, HOUR, 'run-crlf');
    assert.deepEqual(validation.counts, { rawLines: 3, curatedRows: 2, rejected: 1, duplicates: 0 });
    const rows = await stagedRows(lake, staging.stagingLocation);
    assert.deepEqual(rows.map((r) => [r.event_id, r.user_agent]), [['a', 'agent-a'], ['b', 'agent-b']]);
    assert.ok(rows.every((r) => Object.values(r).every((v) => v === null || !String(v).includes('\r'))));
    assert.deepEqual(await notCurated(lake), [{ outcome: 'rejected', reason: 'not valid JSON', line: '{"event_id": "broken"' }]);
  });

  it('strips a UTF-8 byte-order mark at the start of each file', async () => {
    // Two files, each starting with a BOM (as some Windows exporters write them).
    await makeRawHour(lake, { hour: HOUR, files: 2, lines: [`\uFEFF${ev({ event_id: 'a' })}`, `\uFEFF${ev({ event_id: 'b' })}`] });
    const { validation, staging } = await runHourSteps(lake, HOUR, 'run-bom');
    assert.deepEqual(validation.counts, { rawLines: 2, curatedRows: 2, rejected: 0, duplicates: 0 });
    assert.deepEqual((await stagedRows(lake, staging.stagingLocation)).map((r) => r.event_id), ['a', 'b']);
  });

  it('preserves unicode in every field, including \\u escapes in the raw text', async () => {
    const fields = {
      event_id: 'é-1',
      user_id: 'ユーザー_1',
      session_id: 'séance-Ω',
      event_type: 'achat',
      page_url: 'https://shop.example.com/produit/crème-brûlée?q=🛒',
      referrer: 'https://例え.テスト/',
      user_agent: 'Mozilla/5.0 (Ünïcødé) 🚀',
      properties: { name: 'Zoë', tags: ['日本', '🎉'] },
    };
    const escaped = '{"event_id":"\\u00e9-2","event_time":"2024-03-01T07:00:00Z","user_id":"\\u30e6","properties":{"k":"\\u2603"}}';
    await makeRawHour(lake, { hour: HOUR, files: 1, lines: [ev(fields), escaped] });
    const { validation, staging } = await runHourSteps(lake, HOUR, 'run-unicode');
    assert.deepEqual(validation.counts, { rawLines: 2, curatedRows: 2, rejected: 0, duplicates: 0 });
    const [a, b] = await stagedRows(lake, staging.stagingLocation);
    for (const k of ['event_id', 'user_id', 'session_id', 'event_type', 'page_url', 'referrer', 'user_agent'] as const) assert.equal(a![k], fields[k], k);
    assert.deepEqual(JSON.parse(String(a!.properties)), fields.properties);
    assert.equal(b!.event_id, 'é-2');
    assert.equal(b!.user_id, 'ユ');
    assert.deepEqual(JSON.parse(String(b!.properties)), { k: '☃' });
  });

  it('keeps nested properties as JSON text; a missing properties field is NULL; unknown fields do not become columns', async () => {
    const nested = { a: { b: [1, 2.5, { c: null }], d: true }, s: 'x "quoted"', n: -3 };
    await makeRawHour(lake, {
      hour: HOUR,
      files: 1,
      lines: [
        ev({ event_id: 'nested', properties: nested, extra_field: { anything: 1 } }),
        ev({ event_id: 'empty', properties: {} }),
        ev({ event_id: 'none', properties: undefined }),
      ],
    });
    const { staging } = await runHourSteps(lake, HOUR, 'run-props');
    const rows = new Map((await stagedRows(lake, staging.stagingLocation)).map((r) => [r.event_id, r]));
    assert.equal(typeof rows.get('nested')!.properties, 'string');
    assert.deepEqual(JSON.parse(String(rows.get('nested')!.properties)), nested);
    assert.equal(rows.get('empty')!.properties, '{}');
    assert.equal(rows.get('none')!.properties, null);
    assert.deepEqual(Object.keys(rows.get('nested')!), ['event_id', 'event_time', 'user_id', 'session_id', 'event_type', 'page_url', 'referrer', 'user_agent', 'properties']);
    const schema = await lake.backend.engine.runNow('DESCRIBE SELECT * FROM read_parquet($g, hive_partitioning = false)', { g: `${staging.stagingLocation}*.parquet` });
    assert.deepEqual(
      schema.map((r) => [r.column_name, r.column_type]),
      [
        ['event_id', 'VARCHAR'],
        ['event_time', 'TIMESTAMP'],
        ['user_id', 'VARCHAR'],
        ['session_id', 'VARCHAR'],
        ['event_type', 'VARCHAR'],
        ['page_url', 'VARCHAR'],
        ['referrer', 'VARCHAR'],
        ['user_agent', 'VARCHAR'],
        ['properties', 'VARCHAR'],
      ],
    );
  });

  it('rejects each kind of bad line with its reason, and lists them', async () => {
    const bad: [string, string][] = [
      ['["an", "array"]', 'not a JSON object'],
      ['"just a string"', 'not a JSON object'],
      ['42', 'not a JSON object'],
      ['null', 'not a JSON object'],
      ['{"event_id": "t1", "user_id": "u1", "event_time": ', 'not valid JSON'],
      ['not json at all', 'not valid JSON'],
      [ev({ event_id: undefined }), 'missing or empty event_id'],
      [ev({ event_id: '' }), 'missing or empty event_id'],
      [ev({ event_id: null }), 'missing or empty event_id'],
      [ev({ event_id: 'nu', user_id: undefined }), 'missing or empty user_id'],
      [ev({ event_id: 'eu', user_id: '' }), 'missing or empty user_id'],
      [ev({ event_id: 'nt', event_time: undefined }), 'missing or unparseable event_time'],
      [ev({ event_id: 'bt', event_time: 'yesterday-ish' }), 'missing or unparseable event_time'],
      [ev({ event_id: 'bd', event_time: '2024-02-30T07:00:00Z' }), 'missing or unparseable event_time'],
    ];
    await makeRawHour(lake, { hour: HOUR, files: 1, lines: [ev({ event_id: 'good' }), ...bad.map(([line]) => line)] });
    const { validation, staging } = await runHourSteps(lake, HOUR, 'run-bad');
    assert.deepEqual(validation.counts, { rawLines: bad.length + 1, curatedRows: 1, rejected: bad.length, duplicates: 0 });
    assert.deepEqual((await stagedRows(lake, staging.stagingLocation)).map((r) => r.event_id), ['good']);
    assert.deepEqual(
      await notCurated(lake),
      bad.map(([line, reason]) => ({ outcome: 'rejected', reason, line })),
    );
  });

  it('converts event_time offsets to UTC and stores a zone-less timestamp', async () => {
    await makeRawHour(lake, {
      hour: HOUR,
      files: 1,
      lines: [
        ev({ event_id: 'plus2', event_time: '2024-03-01T09:15:00+02:00' }),
        ev({ event_id: 'minus0530', event_time: '2024-03-01T01:50:30.250-05:30' }),
        ev({ event_id: 'zulu', event_time: '2024-03-01T07:05:00Z' }),
        ev({ event_id: 'nextday', event_time: '2024-03-02T00:30:00+17:00' }),
        ev({ event_id: 'zoneless', event_time: '2024-03-01T07:40:00' }),
      ],
    });
    const { staging } = await runHourSteps(lake, HOUR, 'run-tz');
    const times = Object.fromEntries((await stagedRows(lake, staging.stagingLocation)).map((r) => [r.event_id, r.event_time]));
    assert.deepEqual(times, {
      plus2: '2024-03-01 07:15:00.000000',
      minus0530: '2024-03-01 07:20:30.250000',
      zulu: '2024-03-01 07:05:00.000000',
      nextday: '2024-03-01 07:30:00.000000',
      zoneless: '2024-03-01 07:40:00.000000',
    });
  });

  it('reads a zone-less event_time as UTC even when the worker runs in another time zone', async function () {
    this.timeout(60_000);
    // A child process, since the time zone DuckDB sees is fixed once it has loaded in this one.
    const probe = path.join(__dirname, 'zoneLessTimeProbe.ts');
    const { stdout } = await promisify(execFile)(process.execPath, ['--require', require.resolve('tsx/cjs'), probe], {
      env: { ...process.env, TZ: 'America/New_York' },
      timeout: 50_000,
    });
    const result = JSON.parse(stdout) as { times: string[]; sessionTimeZone: string };
    assert.deepEqual(result.times, ['2024-03-01 07:20:00.000000'], `stored time under TZ=America/New_York (DuckDB session TimeZone ${result.sessionTimeZone})`);
  });

  it('a duplicate event_id keeps the copy with the earliest event_time, whatever the line order', async () => {
    await makeRawHour(lake, {
      hour: HOUR,
      files: 2,
      lines: [
        ev({ event_id: 'd', event_time: '2024-03-01T07:30:00Z', user_id: 'late' }),
        ev({ event_id: 'x' }),
        ev({ event_id: 'd', event_time: '2024-03-01T09:10:00+02:00', user_id: 'earliest' }), // 07:10Z
        ev({ event_id: 'd', event_time: '2024-03-01T07:50:00Z', user_id: 'latest' }),
      ],
    });
    const { validation, staging } = await runHourSteps(lake, HOUR, 'run-dup');
    assert.deepEqual(validation.counts, { rawLines: 4, curatedRows: 2, rejected: 0, duplicates: 2 });
    const rows = await stagedRows(lake, staging.stagingLocation);
    assert.deepEqual(rows.map((r) => [r.event_id, r.user_id, r.event_time]), [
      ['d', 'earliest', '2024-03-01 07:10:00.000000'],
      ['x', 'u1', '2024-03-01 07:10:00.000000'],
    ]);
    const listed = await notCurated(lake);
    assert.deepEqual(listed.map((r) => [r.outcome, r.reason, (JSON.parse(r.line) as { user_id: string }).user_id]).sort(), [
      ['duplicate', 'duplicate event_id (an earlier copy was kept)', 'late'],
      ['duplicate', 'duplicate event_id (an earlier copy was kept)', 'latest'],
    ]);
  });

  it('on an event_time tie the kept copy is the same whatever the file order and names', async () => {
    // Same event_id at the same instant, written differently, with different payloads.
    const copies = [
      ev({ event_id: 'tie', event_time: '2024-03-01T07:00:00Z', user_id: 'copy-1' }),
      ev({ event_id: 'tie', event_time: '2024-03-01T09:00:00+02:00', user_id: 'copy-2' }),
      ev({ event_id: 'tie', event_time: '2024-03-01T07:00:00.000Z', user_id: 'copy-3' }),
    ];
    const layouts: { hour: string; lines: string[]; files: number }[] = [
      { hour: '2024-03-01T01', lines: copies, files: 3 },
      { hour: '2024-03-01T02', lines: [...copies].reverse(), files: 3 },
      { hour: '2024-03-01T03', lines: [copies[1]!, copies[2]!, copies[0]!], files: 1 },
      { hour: '2024-03-01T04', lines: [copies[2]!, copies[0]!, copies[1]!], files: 2 },
    ];
    const kept: string[] = [];
    for (const [i, l] of layouts.entries()) {
      await makeRawHour(lake, { hour: l.hour, lines: l.lines, files: l.files });
      const { validation, staging } = await runHourSteps(lake, l.hour, `run-tie-${i}`);
      assert.deepEqual(validation.counts, { rawLines: 3, curatedRows: 1, rejected: 0, duplicates: 2 });
      const rows = await stagedRows(lake, staging.stagingLocation);
      assert.equal(rows.length, 1);
      kept.push(String(rows[0]!.user_id));
    }
    assert.equal(new Set(kept).size, 1, `kept copies differ across layouts: ${kept.join(', ')}`);
  });

  it('the invariant raw = curated + rejected + duplicates holds on a generated hour, matching the generator', async () => {
    const raw = await makeRawHour(lake, { hour: HOUR, rows: 400, malformed: 23, duplicates: 31, files: 4, seed: 11 });
    const { validation, staging, published } = await runHourSteps(lake, HOUR, 'run-gen');
    const c = validation.counts;
    assert.deepEqual(c, raw.expected);
    assert.equal(c.rawLines, c.curatedRows + c.rejected + c.duplicates);
    assert.equal(validation.bytesScanned, (await lake.backend.store.list(lake.config.lake.bucket, 'raw/')).reduce((s, o) => s + o.size, 0));
    assert.equal(published!.outcome, 'created');
    const rows = await publishedRows(lake, HOUR);
    assert.equal(rows.length, 400);
    assert.equal(new Set(rows.map((r) => r.event_id)).size, 400);
    assert.equal((await publishedSchema(lake, HOUR)).event_time, 'TIMESTAMP');
    assert.equal((await stagedRows(lake, staging.stagingLocation)).length, 400);
    const listed = await notCurated(lake);
    assert.equal(listed.filter((r) => r.outcome === 'rejected').length, 23);
    assert.equal(listed.filter((r) => r.outcome === 'duplicate').length, 31);
  });
});
