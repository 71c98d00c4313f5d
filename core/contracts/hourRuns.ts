/**
 * The port to past hourly runs (Temporal visibility) that the backfill planner reads for mode
 * 'failed': declared here, below the activities that use it and the client that implements it.
 */
/** How an hour's most recent workflow run ended, as Temporal recorded it. */
export type HourRunStatus = 'none' | 'running' | 'completed' | 'failed' | 'cancelled' | 'terminated' | 'timed_out';

/** Read-only view of past hourly runs (Temporal visibility), for backfill mode 'failed'. */
export interface HourRunHistory {
  lastRunStatus(workflowId: string): Promise<HourRunStatus>;
}
