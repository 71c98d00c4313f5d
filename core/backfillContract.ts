/**
 * What a backfill's starters and its workflow must agree on: the modes and the limits. One home,
 * below every folder that needs it (the backfill planner activity, the backfill workflow, the
 * client and the CLI), so none imports another's internals for a constant. Pure, so workflows can
 * import it.
 */

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
