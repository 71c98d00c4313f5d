/**
 * Hour arithmetic: the only place that parses, validates and formats hours.
 * Pure (no I/O, no clock) so workflows can import it; "now" is always passed in.
 */
import { PipelineError } from './errors';

/** An hour in UTC, the unit the whole pipeline works in. Always built by parseHour/hourFromDate. */
export interface Hour {
  readonly year: number;
  readonly month: number; // 1-12
  readonly day: number; // 1-31
  readonly hour: number; // 0-23
}

/** The accepted textual form, quoted in every error message about hours. */
export const HOUR_FORMAT = 'YYYY-MM-DDTHH (UTC), e.g. 2024-03-01T07';

const HOUR_PATTERN = /^(\d{4})-(\d{2})-(\d{2})T(\d{2})$/;
const MS_PER_HOUR = 3_600_000;

/** An hour that is not one: InvalidInput in the taxonomy, naming the field it came from. */
export class HourFormatError extends PipelineError {
  constructor(message: string, field: string) {
    super('InvalidInput', message, { details: { field } });
    this.name = 'HourFormatError';
  }
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** Days in a month, leap years included (Date.UTC day 0 is the last day of the previous month). */
function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/**
 * Parses 'YYYY-MM-DDTHH'. Rejects impossible calendar values (2024-02-30T00, 2024-13-01T00,
 * 2024-01-01T24) rather than letting Date roll them over into a different hour.
 */
export function parseHour(text: unknown, field = 'hour'): Hour {
  if (typeof text !== 'string') {
    throw new HourFormatError(`${field} must be a string in the form ${HOUR_FORMAT}; got ${describe(text)}`, field);
  }
  const m = HOUR_PATTERN.exec(text);
  if (!m) {
    throw new HourFormatError(`${field} '${text}' is not in the form ${HOUR_FORMAT}`, field);
  }
  const [year, month, day, hour] = m.slice(1).map(Number) as [number, number, number, number];
  if (year < 1970) throw new HourFormatError(`${field} '${text}': year must be 1970 or later`, field);
  if (month < 1 || month > 12) throw new HourFormatError(`${field} '${text}': month must be 01-12`, field);
  const maxDay = daysInMonth(year, month);
  if (day < 1 || day > maxDay) {
    throw new HourFormatError(`${field} '${text}': day must be 01-${pad(maxDay)} for ${year}-${pad(month)}`, field);
  }
  if (hour > 23) throw new HourFormatError(`${field} '${text}': hour must be 00-23`, field);
  return { year, month, day, hour };
}

/** Like parseHour, and also rejects hours that have not started yet relative to `nowMs`. */
export function parsePastHour(text: unknown, nowMs: number, field = 'hour'): Hour {
  const h = parseHour(text, field);
  if (hourStartMs(h) > nowMs) {
    throw new HourFormatError(
      `${field} '${text}' is in the future (now is ${formatHour(hourFromMs(nowMs))} UTC); only hours that have started can be processed`,
      field,
    );
  }
  return h;
}

export function formatHour(h: Hour): string {
  return `${pad(h.year, 4)}-${pad(h.month)}-${pad(h.day)}T${pad(h.hour)}`;
}

export function hourStartMs(h: Hour): number {
  return Date.UTC(h.year, h.month - 1, h.day, h.hour);
}

/** The hour containing the instant `ms`. */
export function hourFromMs(ms: number): Hour {
  const d = new Date(ms);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: d.getUTCHours() };
}

export function addHours(h: Hour, n: number): Hour {
  return hourFromMs(hourStartMs(h) + n * MS_PER_HOUR);
}

/** The last hour that has fully ended at `nowMs`: what a scheduled run processes. */
export function previousCompleteHour(nowMs: number): Hour {
  return addHours(hourFromMs(nowMs), -1);
}

/** Inclusive range of hours, in order. Callers bound the size before materialising it. */
export function hoursBetween(from: Hour, to: Hour): Hour[] {
  const count = hourCount(from, to);
  return Array.from({ length: Math.max(0, count) }, (_, i) => addHours(from, i));
}

/** Number of hours in the inclusive range (0 or negative when inverted). */
export function hourCount(from: Hour, to: Hour): number {
  return (hourStartMs(to) - hourStartMs(from)) / MS_PER_HOUR + 1;
}

/** Hive-style partition values, as strings with leading zeros, in key order. */
export function partitionValues(h: Hour): { year: string; month: string; day: string; hour: string } {
  return { year: pad(h.year, 4), month: pad(h.month), day: pad(h.day), hour: pad(h.hour) };
}

export const PARTITION_KEYS = ['year', 'month', 'day', 'hour'] as const;

/** 'year=YYYY/month=MM/day=DD/hour=HH': the one place the Hive path segment is built. */
export function partitionPath(h: Hour): string {
  const v = partitionValues(h);
  return PARTITION_KEYS.map((k) => `${k}=${v[k]}`).join('/');
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  return `${typeof v} ${JSON.stringify(v)}`;
}

/** The hour a catalog partition's values (in PARTITION_KEYS order) name; throws HourFormatError on anything else. */
export function hourFromPartitionValues(values: string[]): Hour {
  const [year, month, day, hour] = values;
  return parseHour(`${year}-${month}-${day}T${hour}`, 'partition values');
}
