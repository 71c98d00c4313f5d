/**
 * The Schedule's action. It derives its target hour from the schedule's nominal time
 * (TemporalScheduledStartTime), never from the wall clock, so catch-up runs after downtime
 * process exactly the missed hours. It runs the hour as a child under the same per-hour
 * workflow ID every other starter uses, so a scheduled hour and a backfilled hour never overlap.
 */
import { WorkflowExecutionAlreadyStartedError, defineSearchAttributeKey } from '@temporalio/common';
import { ApplicationFailure, executeChild, log, workflowInfo } from '@temporalio/workflow';
import { formatHour, previousCompleteHour } from '../core/hours';
import { hourWorkflowId } from '../core/ids';
import { hourlyPipelineWorkflow } from './hourlyPipeline';
import type { HourReport, ScheduledHourInput } from '../core/contracts/hourly';

const SCHEDULED_START = defineSearchAttributeKey('TemporalScheduledStartTime', 'DATETIME');

export type ScheduledHourResult = HourReport | { hour: string; status: 'already-running'; workflowId: string };

/** Runs the hour before the schedule's nominal fire time. */
export async function scheduledHourWorkflow(input: ScheduledHourInput): Promise<ScheduledHourResult> {
  const nominal = workflowInfo().typedSearchAttributes.get(SCHEDULED_START);
  if (!nominal) {
    throw ApplicationFailure.nonRetryable(
      'scheduledHourWorkflow must be started by a Temporal Schedule (it reads TemporalScheduledStartTime); to run one hour by hand start hourlyPipelineWorkflow with {"hour": "YYYY-MM-DDTHH"}',
      'InvalidInput',
    );
  }
  const target = previousCompleteHour(nominal.getTime());
  const hour = formatHour(target);
  const workflowId = hourWorkflowId(input.table, target);
  try {
    return await executeChild(hourlyPipelineWorkflow, { workflowId, args: [{ hour, rawWait: input.rawWait }] });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      log.info('hour already running under its per-hour workflow id; not starting a second one', { hour, workflowId });
      return { hour, status: 'already-running', workflowId };
    }
    throw err;
  }
}
