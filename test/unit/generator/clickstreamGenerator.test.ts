import assert from 'node:assert/strict';
import { hourStartMs, parseHour } from '../../../core/hours';
import { generateHour } from '../../../generator/clickstreamGenerator';

/** An independent reading of the data contract, to check the generator's own accounting. */
function classify(lines: string[]): { rawLines: number; curatedRows: number; rejected: number; duplicates: number } {
  let rawLines = 0;
  let rejected = 0;
  let duplicates = 0;
  const seen = new Set<string>();
  for (const line of lines) {
    if (line.trim() === '') continue;
    rawLines++;
    let doc: unknown;
    try {
      doc = JSON.parse(line);
    } catch {
      rejected++;
      continue;
    }
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
      rejected++;
      continue;
    }
    const d = doc as Record<string, unknown>;
    if (typeof d.event_id !== 'string' || d.event_id === '' || typeof d.user_id !== 'string' || d.user_id === '' || typeof d.event_time !== 'string' || Number.isNaN(Date.parse(d.event_time))) {
      rejected++;
      continue;
    }
    if (seen.has(d.event_id)) duplicates++;
    else seen.add(d.event_id);
  }
  return { rawLines, curatedRows: seen.size, rejected, duplicates };
}

describe('generator/clickstreamGenerator', () => {
  const hour = parseHour('2024-03-01T07');

  it('is deterministic: the same seed and hour give the same lines', () => {
    const a = generateHour({ hour, events: 200, seed: 42, malformedRate: 0.05, duplicateRate: 0.05 });
    const b = generateHour({ hour, events: 200, seed: 42, malformedRate: 0.05, duplicateRate: 0.05 });
    assert.deepEqual(a, b);
  });

  it('different seeds and different hours give different lines', () => {
    const base = generateHour({ hour, events: 50, seed: 1 }).lines;
    assert.notDeepEqual(generateHour({ hour, events: 50, seed: 2 }).lines, base);
    const next = generateHour({ hour: parseHour('2024-03-01T08'), events: 50, seed: 1 }).lines;
    assert.notDeepEqual(next, base);
    // Not just the event ids: the random content differs too.
    const strip = (ls: string[]) => ls.map((l) => JSON.parse(l) as Record<string, unknown>).map(({ user_id, event_type, page_url }) => ({ user_id, event_type, page_url }));
    assert.notDeepEqual(strip(next), strip(base));
  });

  it('expected counts match an independent classification of the lines', () => {
    for (const [events, malformedRate, duplicateRate, seed] of [
      [300, 12 / 300, 9 / 300, 7],
      [100, 0.1, 0.2, 3],
      [50, 0, 0, 11],
      [7, 1, 1, 5],
      [1000, 0.013, 0.021, 99],
    ] as const) {
      const g = generateHour({ hour, events, seed, malformedRate, duplicateRate });
      assert.deepEqual(classify(g.lines), g.expected, `events=${events} seed=${seed}`);
      assert.equal(g.expected.rawLines, g.expected.curatedRows + g.expected.rejected + g.expected.duplicates);
      assert.equal(g.expected.curatedRows, events);
      assert.equal(g.expected.rejected, Math.round(events * malformedRate));
      assert.equal(g.expected.duplicates, Math.round(events * duplicateRate));
    }
  });

  it('plants every kind of malformed line', () => {
    const g = generateHour({ hour, events: 100, seed: 1, malformedRate: 0.1 });
    const bad = g.lines.filter((l) => {
      try {
        const d = JSON.parse(l) as Record<string, unknown>;
        return Array.isArray(d) || !d.user_id || !d.event_id || Number.isNaN(Date.parse(String(d.event_time)));
      } catch {
        return true;
      }
    });
    assert.equal(bad.length, 10);
    assert.ok(bad.some((l) => l.startsWith('[')), 'a non-object');
    assert.ok(bad.some((l) => l.endsWith('"event_time": ')), 'truncated JSON');
    assert.ok(bad.some((l) => l.includes('"event_id":""')), 'empty event_id');
    assert.ok(bad.some((l) => l.includes('yesterday-ish')), 'unparseable time');
    assert.ok(bad.some((l) => l.includes('nouser-')), 'missing user_id');
  });

  it('valid events follow the data contract and fall inside the hour', () => {
    const g = generateHour({ hour, events: 200, seed: 5 });
    const start = hourStartMs(hour);
    const ids = new Set<string>();
    for (const line of g.lines) {
      const e = JSON.parse(line) as Record<string, unknown>;
      assert.deepEqual(Object.keys(e), ['event_id', 'event_time', 'user_id', 'session_id', 'event_type', 'page_url', 'referrer', 'user_agent', 'properties']);
      const t = Date.parse(e.event_time as string);
      assert.ok(t >= start && t < start + 3_600_000, `${String(e.event_time)} inside the hour`);
      assert.equal(typeof e.properties, 'object');
      assert.match(e.event_id as string, /^2024-03-01T07-\d{7}$/);
      ids.add(e.event_id as string);
    }
    assert.equal(ids.size, 200);
  });

  it('zero events gives no lines, whatever the rates', () => {
    assert.deepEqual(generateHour({ hour, events: 0, seed: 1, malformedRate: 0.5, duplicateRate: 0.5 }), {
      lines: [],
      expected: { rawLines: 0, curatedRows: 0, rejected: 0, duplicates: 0 },
    });
  });
});
