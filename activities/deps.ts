/** What the activities are wired to: narrow ports plus the validated settings they need. */
import type { PollPolicy } from '../config/config';
import type { LakeLayout } from '../core/locations';
import type { HourRunHistory } from '../core/contracts/hourRuns';
import type { LakeBackend } from '../lake/ports';

export interface ActivityDeps {
  backend: LakeBackend;
  layout: LakeLayout;
  tables: { database: string; raw: string; curated: string };
  poll: PollPolicy;
  runs?: HourRunHistory;
}
