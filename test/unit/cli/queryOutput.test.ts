/** The `clickstream query` output formats, page by page: box table, csv, JSON array, JSON lines. */
import assert from 'node:assert/strict';
import { createRowWriter, plainValue, queryFormatArg, type QueryFormat, type Row } from '../../../cli/queryOutput';
import { PipelineError } from '../../../core/errors';

async function render(format: QueryFormat, pages: Row[][], opts: { maxColumnWidth?: number } = {}): Promise<{ writes: string[]; text: string; truncated: boolean }> {
  const writes: string[] = [];
  const w = createRowWriter(format, async (t) => void writes.push(t), opts);
  for (const p of pages) await w.page(p);
  await w.end();
  return { writes, text: writes.join(''), truncated: w.truncated };
}

const PAGES: Row[][] = [
  [
    { user_id: 'u-1', events: 12n, first: new Date('2024-03-01T07:00:00.123Z') },
    { user_id: null, events: 3n, first: null },
  ],
  [{ user_id: 'u-22', events: 1n, first: new Date('2024-03-01T08:00:00Z') }],
];

describe('clickstream query output', () => {
  it('table: a box whose widths come from the header and the first page; numbers right-aligned, NULL shown, a row count', async () => {
    const { text, writes } = await render('table', PAGES);
    assert.equal(
      text,
      [
        '┌─────────┬────────┬──────────────────────────┐',
        '│ user_id │ events │ first                    │',
        '├─────────┼────────┼──────────────────────────┤',
        '│ u-1     │     12 │ 2024-03-01T07:00:00.123Z │',
        '│ NULL    │      3 │ NULL                     │',
        '│ u-22    │      1 │ 2024-03-01T08:00:00.000Z │',
        '└─────────┴────────┴──────────────────────────┘',
        '(3 rows)',
        '',
      ].join('\n'),
    );
    assert.equal(writes.length, 3, 'one write per page, then the bottom line');
  });

  it('table: a value wider than its column (or the cap) is cut with … and reported; line breaks are shown escaped', async () => {
    const { text, truncated } = await render('table', [[{ line: 'short' }], [{ line: 'a much longer line\nwith a break' }]], { maxColumnWidth: 10 });
    assert.ok(truncated);
    assert.match(text, /│ a mu… │/, 'the first page fixed the width at 5');
    const capped = await render('table', [[{ line: 'x'.repeat(30) }]], { maxColumnWidth: 10 });
    assert.match(capped.text, /│ x{9}… │/);
    const escaped = await render('table', [[{ v: 'a\nb\tc' }]]);
    assert.match(escaped.text, /│ a\\nb\\tc │/);
    assert.equal(escaped.truncated, false);
  });

  it('table: no rows prints the count only', async () => {
    assert.equal((await render('table', [[]])).text, '(0 rows)\n');
  });

  it('csv: header once, RFC 4180 quoting, NULL as empty, nested values as JSON', async () => {
    const { text } = await render('csv', [[{ a: 'x,y', b: 'say "hi"', c: null, d: { k: [1n] } }], [{ a: ' lead', b: 'l1\nl2', c: 2n, d: [] }]]);
    assert.equal(text, 'a,b,c,d\n"x,y","say ""hi""",,"{""k"":[1]}"\n" lead","l1\nl2",2,[]\n');
  });

  it('json: one array streamed across pages; an empty result is []', async () => {
    const { text, writes } = await render('json', PAGES);
    assert.deepEqual(JSON.parse(text), [
      { user_id: 'u-1', events: 12, first: '2024-03-01T07:00:00.123Z' },
      { user_id: null, events: 3, first: null },
      { user_id: 'u-22', events: 1, first: '2024-03-01T08:00:00.000Z' },
    ]);
    assert.equal(writes.length, 3);
    assert.equal((await render('json', [])).text, '[]\n');
  });

  it('ndjson: one object per line, nothing else on stdout', async () => {
    const { text } = await render('ndjson', PAGES);
    const lines = text.trimEnd().split('\n');
    assert.equal(lines.length, 3);
    assert.deepEqual(JSON.parse(lines[2]!), { user_id: 'u-22', events: 1, first: '2024-03-01T08:00:00.000Z' });
  });

  it('values: a bigint beyond 2^53 keeps its digits; bytes as \\x hex', () => {
    assert.equal(plainValue(2n ** 60n), '1152921504606846976');
    assert.equal(plainValue(new Uint8Array([0, 255])), '\\x00ff');
    assert.deepEqual(plainValue({ a: [1n, undefined] }), { a: [1, null] });
  });

  it('--format and --json: table by default, --json is ndjson, conflicting or unknown forms are refused', () => {
    assert.equal(queryFormatArg(undefined, undefined), 'table');
    assert.equal(queryFormatArg(undefined, true), 'ndjson');
    assert.equal(queryFormatArg('ndjson', true), 'ndjson');
    assert.equal(queryFormatArg('csv', undefined), 'csv');
    assert.throws(() => queryFormatArg('xml', undefined), (e: unknown) => e instanceof PipelineError && e.type === 'InvalidInput' && /table, csv, json, ndjson/.test(e.message));
    assert.throws(() => queryFormatArg('csv', true), /--json means --format ndjson/);
  });
});
