/**
 * The error type an hour failed with, for metrics and alerts: the ApplicationFailure type at the
 * root of the failure chain. Pure, so the workflow can call it; the set of types is the bounded
 * error taxonomy (core/errors.ts), which keeps the metric's label values few.
 */
import { ActivityFailure, ApplicationFailure, ChildWorkflowFailure, TimeoutFailure } from '@temporalio/workflow';

export function failureType(err: unknown): string {
  let e = err;
  // A remote activity's failure wraps the activity's error; a local one's arrives as it is.
  while ((e instanceof ActivityFailure || e instanceof ChildWorkflowFailure) && e.cause) e = e.cause;
  if (e instanceof ApplicationFailure) return e.type || 'ApplicationFailure';
  if (e instanceof TimeoutFailure) return 'Timeout';
  return e instanceof Error ? e.name : 'Unknown';
}
