/** The worker's workflow bundle entry: every workflow type this project registers. */
export { hourlyPipelineWorkflow } from './hourlyPipeline';
export { scheduledHourWorkflow } from './scheduledHour';
export { backfillWorkflow } from './backfill';
