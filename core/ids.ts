/**
 * Workflow IDs, task queues, schedule IDs and query tokens, built from business keys only.
 * Every starter (CLI, npm start, schedule, tests) goes through these, so a retried start or
 * a second starter for the same hour collides with the running workflow instead of duplicating it.
 */
import { formatHour, type Hour } from './hours';

/**
 * A database, table, view or catalog name that may be spliced into SQL text (values never are):
 * lower-case letters, digits and underscore, as Glue, Athena and Trino all accept. Config, the
 * SQL loader and the Trino settings check against this one pattern.
 */
export const SQL_IDENTIFIER = /^[a-z_][a-z0-9_]{0,127}$/;

export const DEFAULT_TASK_QUEUE = 'clickstream-lake';
/** The curated table's default name; it keys per-hour workflow IDs when a starter gives none. */
export const DEFAULT_CURATED_TABLE = 'clickstream_events_curated';

/** The workflow type names as registered by the worker (kept here so starters need no workflow import). */
export const WORKFLOW_TYPES = {
  hourly: 'hourlyPipelineWorkflow',
  scheduledHour: 'scheduledHourWorkflow',
  backfill: 'backfillWorkflow',
} as const;

export type EnginePriority = 'live' | 'backfill';

/** The task queue whose worker slots bound engine queries of one priority (see workers/createPipelineWorker.ts). */
export function engineTaskQueue(baseQueue: string, priority: EnginePriority): string {
  return `${baseQueue}-engine-${priority}`;
}

/** A backfill's ID names its range, so re-submitting the same backfill collides instead of running twice. */
export function backfillWorkflowId(table: string, from: Hour, to: Hour): string {
  return `clickstream-backfill:${table}:${formatHour(from)}..${formatHour(to)}`;
}

/** One hourly workflow per (table, hour): the table keeps two pipelines in one namespace apart. */
export function hourWorkflowId(table: string, hour: Hour): string {
  return `clickstream-hour:${table}:${formatHour(hour)}`;
}

export function hourlyScheduleId(table: string): string {
  return `clickstream-hourly:${table}`;
}

/**
 * The engine's idempotency token for one step of one hour in one attempt epoch.
 * The epoch is the workflow run id: an activity retry keeps it (same query, reattached),
 * a deliberate re-run of the hour is a new run and gets a new query.
 * Athena requires 32-128 characters; the caller hashes this string to fit.
 */
export function queryTokenSource(table: string, hour: Hour, step: string, attemptEpoch: string): string {
  return `${table}|${formatHour(hour)}|${step}|${attemptEpoch}`;
}
