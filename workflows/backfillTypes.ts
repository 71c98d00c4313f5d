/** Backfill input, steering messages and progress: plain JSON for the UI, the temporal CLI and ours. */
import type { BackfillMode } from '../core/backfillContract';
import type { RawWaitSettings } from './types';

export type { BackfillMode };

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
