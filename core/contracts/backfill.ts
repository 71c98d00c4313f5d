/**
 * The backfill's contract: its input, steering messages and progress (plain JSON for the Web UI,
 * the temporal CLI and ours), its modes and limits, and the validator that returns every problem
 * with an input. One home below every folder that needs it (the planner activity, the backfill
 * workflow, the client and the CLI), so none imports another's internals. Pure, so workflows can
 * import it.
 */
import { ApplicationFailure } from '@temporalio/common';
import { formatHour, hourCount, HourFormatError, hourStartMs, parsePastHour } from '../hours';
import { DEFAULT_CURATED_TABLE, SQL_IDENTIFIER } from '../ids';
import type { RawWaitSettings } from './hourly';

/** missing (default): hours not yet published; failed: whose last run failed; all; changed: raw changed since publish. */
export const BACKFILL_MODES = ['missing', 'failed', 'all', 'changed'] as const;
export type BackfillMode = (typeof BACKFILL_MODES)[number];

export function isBackfillMode(value: unknown): value is BackfillMode {
  return (BACKFILL_MODES as readonly unknown[]).includes(value);
}

/** Hourly children running at once. */
export const MAX_CONCURRENCY = 64;
export const DEFAULT_CONCURRENCY = 4;
/** 92 days: larger ranges need allowLargeRange, so a typo cannot start a decade of work. */
export const MAX_BACKFILL_HOURS = 24 * 92;
/** Even with allowLargeRange: ten years. */
export const HARD_MAX_BACKFILL_HOURS = 24 * 366 * 10;

/**
 * Continue as new once history passes this many events: with draining (≈6 events per running
 * child) and the 64-child maximum, a run still ends well under the 4,096-event target.
 */
const MAX_HISTORY_BUDGET = 3_000;
const MIN_HISTORY_BUDGET = 200;
/** A backfill's hours do not wait for late raw files: a missing hour fails at once and is listed. */
const BACKFILL_RAW_WAIT: RawWaitSettings = { timeoutSeconds: 0, recheckSeconds: 1 };

export interface BackfillInput {
  /** First hour, inclusive, 'YYYY-MM-DDTHH' UTC. */
  from: string;
  /** Last hour, inclusive. */
  to: string;
  /** Hourly children running at once (1-64, default 4); change it live with the setConcurrency update. */
  concurrency?: number;
  /** missing (default): hours not yet published; failed: hours whose last run failed; all; changed: raw changed since publish. */
  mode?: BackfillMode;
  /** Plan only: report what would run, start nothing. */
  dryRun?: boolean;
  /** Ranges over MAX_BACKFILL_HOURS (92 days) need this, so a typo'd year cannot start 100k workflows. */
  allowLargeRange?: boolean;
  /** Curated table, which keys the per-hour workflow IDs (default clickstream_events_curated). */
  table?: string;
  /** How long each hour waits for raw data; a backfill is over the past, so by default not at all. */
  rawWait?: RawWaitSettings;
  /** Advanced: continue as new past this many history events (200-3000, default 3000). */
  historyEventBudget?: number;
}

export interface FailedHour {
  hour: string;
  reason: string;
}

export interface BackfillProgress {
  from: string;
  to: string;
  mode: BackfillMode;
  dryRun: boolean;
  total: number;
  pending: number;
  running: number;
  succeeded: number;
  failed: number;
  skipped: number;
  runningHours: string[];
  failedHours: FailedHour[];
  concurrency: number;
  paused: boolean;
  /** Hours finished per minute of workflow time since the backfill started. */
  throughputPerMinute: number;
  /** Seconds until done at the current throughput; null until something has finished. */
  etaSeconds: number | null;
  /** How many times this backfill continued as new (history is kept bounded). */
  continuedAsNew: number;
}

export interface BackfillResult extends BackfillProgress {
  status: 'completed';
  durationMs: number;
  /** dryRun only: the first hours that would run. */
  wouldRun?: string[];
}

/** Carried across continue-as-new; everything steering changed survives it. */
export interface BackfillState {
  cursor: string | null;
  queue: string[];
  deferred: string[];
  succeeded: number;
  skipped: number;
  failedHours: Record<string, string>;
  skipRequested: string[];
  concurrency: number;
  paused: boolean;
  startedAtMs: number;
  continuedAsNew: number;
  wouldRun: string[];
  wouldRunCount: number;
}

/** Throws naming `field` unless n is a whole number of hourly children the backfill allows. */
export function assertConcurrency(n: unknown, field: string): void {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_CONCURRENCY) {
    throw new Error(`${field} must be a whole number from 1 to ${MAX_CONCURRENCY}; got ${JSON.stringify(n)}`);
  }
}

/** A valid input with every default filled in. */
export interface BackfillSettings {
  from: string;
  to: string;
  total: number;
  concurrency: number;
  mode: BackfillMode;
  dryRun: boolean;
  table: string;
  rawWait: RawWaitSettings;
  historyBudget: number;
}

/** Every problem with the input, in one non-retryable InvalidInput failure, before anything runs. */
export function validateBackfillInput(input: BackfillInput, nowMs: number): BackfillSettings {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw ApplicationFailure.nonRetryable(
      `backfill input must be a JSON object like {"from": "2024-03-01T00", "to": "2024-03-02T23", "concurrency": 4}; got ${JSON.stringify(input)}`,
      'InvalidInput',
    );
  }
  const problems: string[] = [];
  const hourField = (name: 'from' | 'to') => {
    try {
      return parsePastHour(input[name], nowMs, name);
    } catch (err) {
      if (err instanceof HourFormatError) problems.push(err.message);
      else throw err;
      return undefined;
    }
  };
  const from = hourField('from');
  const to = hourField('to');
  let total = 0;
  if (from && to) {
    total = hourCount(from, to);
    if (hourStartMs(to) < hourStartMs(from)) problems.push(`to ${input.to} is before from ${input.from}; the range is inclusive, from <= to`);
    else if (total > HARD_MAX_BACKFILL_HOURS) problems.push(`range of ${total} hours is over the hard limit of ${HARD_MAX_BACKFILL_HOURS}; split it`);
    else if (total > MAX_BACKFILL_HOURS && input.allowLargeRange !== true) {
      problems.push(`range of ${total} hours is over ${MAX_BACKFILL_HOURS} (92 days); set "allowLargeRange": true if you mean it`);
    }
  }
  const concurrency = input.concurrency ?? DEFAULT_CONCURRENCY;
  try {
    assertConcurrency(concurrency, 'concurrency');
  } catch (err) {
    problems.push((err as Error).message);
  }
  const mode = input.mode ?? 'missing';
  if (!isBackfillMode(mode)) problems.push(`mode must be one of ${BACKFILL_MODES.join(', ')}; got ${JSON.stringify(input.mode)}`);
  if (input.dryRun !== undefined && typeof input.dryRun !== 'boolean') problems.push(`dryRun must be true or false; got ${JSON.stringify(input.dryRun)}`);
  const table = input.table ?? DEFAULT_CURATED_TABLE;
  if (typeof table !== 'string' || !SQL_IDENTIFIER.test(table)) problems.push(`table must match [a-z_][a-z0-9_]*; got ${JSON.stringify(input.table)}`);
  const rawWait = input.rawWait ?? BACKFILL_RAW_WAIT;
  if (
    typeof rawWait !== 'object' ||
    !Number.isInteger(rawWait.timeoutSeconds) ||
    rawWait.timeoutSeconds < 0 ||
    !Number.isInteger(rawWait.recheckSeconds) ||
    rawWait.recheckSeconds < 1
  ) {
    problems.push(`rawWait must be {"timeoutSeconds": >= 0, "recheckSeconds": >= 1} (whole seconds); got ${JSON.stringify(input.rawWait)}`);
  }
  const historyBudget = input.historyEventBudget ?? MAX_HISTORY_BUDGET;
  if (!Number.isInteger(historyBudget) || historyBudget < MIN_HISTORY_BUDGET || historyBudget > MAX_HISTORY_BUDGET) {
    problems.push(`historyEventBudget must be a whole number from ${MIN_HISTORY_BUDGET} to ${MAX_HISTORY_BUDGET}; got ${JSON.stringify(input.historyEventBudget)}`);
  }
  if (problems.length > 0) {
    throw ApplicationFailure.nonRetryable(`invalid backfill input:\n  - ${problems.join('\n  - ')}`, 'InvalidInput', { problems });
  }
  return { from: formatHour(from!), to: formatHour(to!), total, concurrency, mode, dryRun: input.dryRun ?? false, table, rawWait, historyBudget };
}

/** One chunk of a backfill range for the planner activity: `count` hours from `from`, in `mode`. */
export interface PlanChunkInput {
  from: string;
  count: number;
  mode: BackfillMode;
}

export interface PlannedChunk {
  /** Hours to run, in order. */
  run: string[];
  /** Hours deliberately not run, with why (shown in progress; nothing silently dropped). */
  skipped: Array<{ hour: string; reason: string }>;
  /** Hours that cannot run (no raw data), reported as failed without starting a workflow. */
  failed: Array<{ hour: string; reason: string }>;
}
