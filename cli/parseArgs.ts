/** Validation of operator arguments: each error names the flag and the accepted form. */
import { PipelineError } from '../core/errors';
import { HOUR_FORMAT, hourCount, parsePastHour, type Hour } from '../core/hours';

export const MAX_GENERATE_HOURS = 24 * 366;

/** The hour a flag names; a bad one throws InvalidInput (HourFormatError) naming the flag. */
export function hourArg(flag: string, value: unknown, nowMs = Date.now()): Hour {
  return parsePastHour(value, nowMs, flag);
}

export function rangeArgs(from: unknown, to: unknown, maxHours: number, nowMs = Date.now()): { from: Hour; to: Hour } {
  const f = hourArg('--from', from, nowMs);
  const t = hourArg('--to', to, nowMs);
  const n = hourCount(f, t);
  if (n < 1) throw new PipelineError('InvalidInput', `--to ${String(to)} is before --from ${String(from)}; give an inclusive range ${HOUR_FORMAT}`);
  if (n > maxHours) throw new PipelineError('InvalidInput', `--from/--to span ${n} hours; at most ${maxHours} are allowed in one call`);
  return { from: f, to: t };
}

export function intArg(flag: string, value: unknown, min: number, max: number): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (typeof value === 'string' && !/^-?\d+$/.test(value.trim())) {
    throw new PipelineError('InvalidInput', `${flag} must be a whole number from ${min} to ${max}; got '${value}'`);
  }
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new PipelineError('InvalidInput', `${flag} must be a whole number from ${min} to ${max}; got '${String(value)}'`);
  }
  return n;
}

export function rateArg(flag: string, value: unknown): number {
  const n = Number(value);
  if (value === undefined) return 0;
  if (typeof value !== 'string' || value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) {
    throw new PipelineError('InvalidInput', `${flag} must be a fraction from 0 to 1 (e.g. 0.02); got '${String(value)}'`);
  }
  return n;
}
