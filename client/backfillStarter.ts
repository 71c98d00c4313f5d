/**
 * Starts backfills from outside Temporal (CLI, tests). The input is validated with the workflow's
 * own validator before anything is sent, and the ID names the range, so submitting the same
 * backfill twice while it runs is refused instead of doubling the work.
 */
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy, type Client, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { PipelineConfig } from '../config/config';
import { PipelineError } from '../core/errors';
import { parseHour } from '../core/hours';
import { backfillWorkflowId, WORKFLOW_TYPES } from '../core/ids';
import type { backfillWorkflow } from '../workflows/backfill';
import { validateBackfillInput, type BackfillInput } from '../core/contracts/backfill';

export async function startBackfill(
  client: Client,
  config: PipelineConfig,
  input: BackfillInput,
): Promise<WorkflowHandle<typeof backfillWorkflow>> {
  const full: BackfillInput = { ...input, table: input.table ?? config.tables.curated };
  let settings;
  try {
    settings = validateBackfillInput(full, Date.now());
  } catch (err) {
    if (err instanceof ApplicationFailure) throw new PipelineError('InvalidInput', err.message, { details: { problems: err.details } });
    throw err;
  }
  return client.workflow.start<typeof backfillWorkflow>(WORKFLOW_TYPES.backfill, {
    taskQueue: config.temporal.taskQueue,
    workflowId: backfillWorkflowId(settings.table, parseHour(settings.from), parseHour(settings.to)),
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
    workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
    args: [full],
  });
}
