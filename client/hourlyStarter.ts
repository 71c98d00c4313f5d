/**
 * The one place hourly workflows are started from outside Temporal (CLI, npm start, tests).
 * The hour is validated before anything is sent, and the workflow ID comes from ids.ts, so a
 * second start of a running hour attaches to it instead of running the hour twice.
 */
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy, type Client, type WorkflowHandle } from '@temporalio/client';
import type { PipelineConfig } from '../config/config';
import { formatHour, parsePastHour } from '../core/hours';
import { hourWorkflowId, WORKFLOW_TYPES } from '../core/ids';
import type { hourlyPipelineWorkflow } from '../workflows/hourlyPipeline';

export async function startHour(
  client: Client,
  config: PipelineConfig,
  hourText: string,
  nowMs = Date.now(),
): Promise<WorkflowHandle<typeof hourlyPipelineWorkflow>> {
  const hour = parsePastHour(hourText, nowMs); // InvalidInput (HourFormatError) naming 'hour'
  return client.workflow.start<typeof hourlyPipelineWorkflow>(WORKFLOW_TYPES.hourly, {
    taskQueue: config.temporal.taskQueue,
    workflowId: hourWorkflowId(config.tables.curated, hour),
    // A running hour is joined, never duplicated; a finished hour may be run again deliberately.
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
    args: [{ hour: formatHour(hour), rawWait: config.rawWait }],
  });
}
