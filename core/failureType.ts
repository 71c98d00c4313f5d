/**
 * What an hour failed with, for metrics, alerts and `clickstream status`: the failure at the root
 * of the chain. Pure and built on @temporalio/common, so the workflow (sink call) and the client
 * (a closed run's failure) share it; the types are the bounded error taxonomy (core/errors.ts),
 * which keeps the metric's label values few.
 */
import { ActivityFailure, ApplicationFailure, ChildWorkflowFailure, TimeoutFailure } from '@temporalio/common';

export interface RootFailure {
  /** The ApplicationFailure's type (e.g. RowCountMismatch), 'Timeout', or the error's name. */
  type: string;
  /** Its message, which says what the operator should do next. */
  message: string;
}

export function rootFailure(err: unknown): RootFailure {
  let e = err;
  // A remote activity's failure wraps the activity's error; a local one's arrives as it is.
  while ((e instanceof ActivityFailure || e instanceof ChildWorkflowFailure) && e.cause) e = e.cause;
  const message = e instanceof Error ? e.message : String(e);
  if (e instanceof ApplicationFailure) return { type: e.type || 'ApplicationFailure', message };
  if (e instanceof TimeoutFailure) return { type: 'Timeout', message };
  return { type: e instanceof Error ? e.name : 'Unknown', message };
}

export function failureType(err: unknown): string {
  return rootFailure(err).type;
}
