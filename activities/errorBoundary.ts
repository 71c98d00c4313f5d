/**
 * The activity boundary: converts the pipeline's error taxonomy into Temporal failures.
 * Non-retryable errors become ApplicationFailure.nonRetryable(message, type, details) with the
 * original as cause, so the workflow (and the UI) sees the type and the operator's next step.
 */
import { ApplicationFailure } from '@temporalio/common';
import { CancelledFailure } from '@temporalio/common';
import { PipelineError, isRetryable } from '../core/errors';
import { HourFormatError } from '../core/hours';

export function toActivityFailure(err: unknown): unknown {
  if (err instanceof CancelledFailure || err instanceof ApplicationFailure) return err;
  if (err instanceof HourFormatError) {
    return ApplicationFailure.create({ message: err.message, type: 'InvalidInput', nonRetryable: true, cause: err });
  }
  if (err instanceof PipelineError) {
    const failure = ApplicationFailure.create({
      message: err.message,
      type: err.type,
      nonRetryable: !isRetryable(err),
      details: [err.details],
      cause: err,
    });
    return failure;
  }
  return err; // unknown errors stay retryable; the activity's retry policy bounds them
}

/** Wraps every activity of a factory so each throws only classified failures. */
export function withErrorBoundary<T extends Record<string, (...args: never[]) => Promise<unknown>>>(activities: T): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(activities)) {
    wrapped[name] = async (...args: never[]) => {
      try {
        return await fn(...args);
      } catch (err) {
        throw toActivityFailure(err);
      }
    };
  }
  return wrapped as T;
}
