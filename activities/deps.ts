/** What the activities are wired to: narrow ports plus the validated settings they need. */
import type { PollPolicy } from '../config/config';
import type { LakeLayout } from '../core/locations';
import type { LakeBackend } from '../lake/ports';

/** How an hour's most recent workflow run ended, as Temporal recorded it. */
export type HourRunStatus = 'none' | 'running' | 'completed' | 'failed' | 'cancelled' | 'terminated' | 'timed_out';

/** Read-only view of past hourly runs (Temporal visibility), for backfill mode 'failed'. */
export interface HourRunHistory {
  lastRunStatus(workflowId: string): Promise<HourRunStatus>;
}

export interface ActivityDeps {
  backend: LakeBackend;
  layout: LakeLayout;
  tables: { database: string; raw: string; curated: string };
  poll: PollPolicy;
  runs?: HourRunHistory;
}
