/** HourRunHistory over the Temporal client: DescribeWorkflowExecution of the hour's latest run. */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { HourRunHistory, HourRunStatus } from '../core/contracts/hourRuns';

const STATUS: Record<string, HourRunStatus> = {
  RUNNING: 'running',
  COMPLETED: 'completed',
  FAILED: 'failed',
  CANCELLED: 'cancelled',
  TERMINATED: 'terminated',
  TIMED_OUT: 'timed_out',
  CONTINUED_AS_NEW: 'running',
};

export function temporalHourRunHistory(client: Client): HourRunHistory {
  return {
    async lastRunStatus(workflowId) {
      try {
        const d = await client.workflow.getHandle(workflowId).describe();
        return STATUS[d.status.name] ?? 'none';
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return 'none';
        throw err;
      }
    },
  };
}
