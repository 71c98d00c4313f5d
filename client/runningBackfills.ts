/**
 * Counts the table's running backfills that are not paused, for the worker's
 * clickstream_backfills_running gauge (CountWorkflowExecutions on the namespace's visibility).
 * A paused backfill is the operator's choice, not a stall, so it is left out; the backfill keeps
 * ClickstreamStatus at 'paused' while paused (workflows/backfill.ts).
 */
import type { Client } from '@temporalio/client';
import type { PipelineConfig } from '../config/config';
import { WORKFLOW_TYPES } from '../core/ids';

export function runningBackfillCounter(client: Client, config: PipelineConfig): () => Promise<number> {
  // Values come from validated config (identifier and task-queue patterns): no quote can reach the query.
  const query =
    `WorkflowType = '${WORKFLOW_TYPES.backfill}' AND ExecutionStatus = 'Running' AND ClickstreamTable = '${config.tables.curated}' ` +
    `AND TaskQueue = '${config.temporal.taskQueue}' AND ClickstreamStatus != 'paused'`;
  return async () => (await client.workflow.count(query)).count;
}
