/**
 * Deterministic, realistic clickstream events for demos, tests and benchmarks. The same seed and
 * hour always give the same lines, and the generator reports exactly how many malformed lines and
 * duplicates it planted, so tests can check the pipeline's accounting against an independent count.
 */
import { formatHour, hourStartMs, type Hour } from '../core/hours';

export interface GenerateHourOptions {
  hour: Hour;
  events: number;
  seed: number;
  /** Fraction of extra lines that are malformed (0-1). */
  malformedRate?: number;
  /** Fraction of extra lines that repeat an earlier event_id (0-1). */
  duplicateRate?: number;
}

export interface GeneratedHour {
  lines: string[];
  /** What the pipeline must find: curated = valid distinct events. */
  expected: { rawLines: number; curatedRows: number; rejected: number; duplicates: number };
}

const EVENT_TYPES = ['page_view', 'page_view', 'page_view', 'click', 'search', 'add_to_cart', 'purchase'];
const PAGES = ['/', '/search', '/product/42', '/product/7', '/cart', '/checkout', '/account', '/blog/launch'];
const REFERRERS = ['', 'https://www.google.com/', 'https://news.ycombinator.com/', 'https://t.co/x', 'https://shop.example.com/'];
const AGENTS = [
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Safari/605.1.15',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148',
];
/** Each kind of bad line the pipeline must reject, in rotation. */
const MALFORMED = [
  (i: number) => `{"event_id": "bad-${i}", "user_id": "u1", "event_time": `, // truncated JSON
  (i: number) => `["not", "an", "object", ${i}]`,
  (i: number) => JSON.stringify({ event_id: `nouser-${i}`, event_time: '2024-01-01T00:00:00Z', event_type: 'click' }),
  (i: number) => JSON.stringify({ event_id: `badtime-${i}`, user_id: 'u2', event_time: 'yesterday-ish' }),
  (_: number) => JSON.stringify({ event_id: '', user_id: 'u3', event_time: '2024-01-01T00:00:00Z' }),
];

/** mulberry32: a tiny, well-known seeded PRNG; enough for test data, not for anything secret. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function generateHour(opts: GenerateHourOptions): GeneratedHour {
  const hourKey = formatHour(opts.hour);
  // Mix the hour into the seed so neighbouring hours differ but stay reproducible.
  const rand = prng(opts.seed ^ (hourStartMs(opts.hour) / 3_600_000));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const users = Math.max(3, Math.ceil(opts.events / 20));
  const start = hourStartMs(opts.hour);

  const events: string[] = [];
  for (let i = 0; i < opts.events; i++) {
    const user = `u${String(Math.floor(rand() * users)).padStart(4, '0')}`;
    const type = pick(EVENT_TYPES);
    events.push(
      JSON.stringify({
        event_id: `${hourKey}-${String(i).padStart(7, '0')}`,
        event_time: new Date(start + Math.floor(rand() * 3_600_000)).toISOString(),
        user_id: user,
        session_id: `${user}-s${Math.floor(rand() * 3)}`,
        event_type: type,
        page_url: `https://shop.example.com${pick(PAGES)}`,
        referrer: pick(REFERRERS),
        user_agent: pick(AGENTS),
        properties: type === 'purchase' ? { amount: Math.round(rand() * 20000) / 100, currency: 'EUR', items: [{ sku: 'sku-42', qty: 1 }] } : { scroll_depth: Math.round(rand() * 100) },
      }),
    );
  }
  const malformedCount = Math.round(opts.events * (opts.malformedRate ?? 0));
  const duplicateCount = opts.events > 0 ? Math.round(opts.events * (opts.duplicateRate ?? 0)) : 0;
  const lines = [...events];
  for (let i = 0; i < duplicateCount; i++) lines.push(events[Math.floor(rand() * events.length)]!);
  for (let i = 0; i < malformedCount; i++) lines.push(MALFORMED[i % MALFORMED.length]!(i));
  // Shuffle so duplicates and bad lines are spread through the files, as in real exports.
  for (let i = lines.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [lines[i], lines[j]] = [lines[j]!, lines[i]!];
  }
  return {
    lines,
    expected: { rawLines: lines.length, curatedRows: opts.events, rejected: malformedCount, duplicates: duplicateCount },
  };
}
