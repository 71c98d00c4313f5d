/**
 * One named options object per activity profile. Workflows pick a profile; nobody sets
 * timeouts inline. The non-retryable error types are the taxonomy's (core/errors.ts), which the
 * activity boundary also throws as non-retryable.
 */
import type { ActivityOptions, LocalActivityOptions } from '@temporalio/workflow';
import { ActivityCancellationType } from '@temporalio/workflow';
import { NON_RETRYABLE_TYPES } from '../core/errors';

/** The taxonomy's own list (core/errors.ts), so a policy and the activity boundary never disagree on a type. */
export const NEVER_RETRY: string[] = [...NON_RETRYABLE_TYPES];

/** Listing objects and catalog reads/writes: fast calls, so fail fast and retry often. */
export const quickLakeCall: ActivityOptions = {
  // No heartbeat on these short calls, so this timeout is also how long a crashed worker's call takes to be retried.
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 10, nonRetryableErrorTypes: NEVER_RETRY },
};

/**
 * The same quick calls run first as a local activity: one attempt inside the workflow task, so a
 * step costs no task dispatch and no extra workflow task (bench B1: 37 -> 23 events per hour).
 * A failed attempt is not retried here but handed to the remote activity (quickLakeCall), whose
 * retries and last failure the Web UI shows as a pending activity.
 */
export const quickLocalLakeCall: LocalActivityOptions = {
  startToCloseTimeout: quickLakeCall.startToCloseTimeout,
  retry: { maximumAttempts: 1 },
};

/** A polled engine query (curation). */
export const polledQuery: ActivityOptions = {
  // Athena's DML limit is 30 min by default; 2 h leaves room for queueing under the active-query quota.
  startToCloseTimeout: '2 hours',
  // Every poll heartbeats (poll interval is capped at 5 s by default), so a dead worker is noticed
  // within 15 s and the retry reattaches to the query.
  heartbeatTimeout: '15 seconds',
  // Wait until the engine query is really stopped before the workflow reports itself cancelled.
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '2 minutes', maximumAttempts: 6, nonRetryableErrorTypes: NEVER_RETRY },
};

/** The validation counts: one raw scan plus Parquet footers, shorter than curation. */
export const validationQuery: ActivityOptions = {
  ...polledQuery,
  startToCloseTimeout: '30 minutes',
};
