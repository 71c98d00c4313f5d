/**
 * The activity boundary: converts the pipeline's error taxonomy into Temporal failures.
 * Non-retryable errors become ApplicationFailure.nonRetryable(message, type, details) with the
 * original as cause, so the workflow (and the UI) sees the type and the operator's next step.
 */
import { ApplicationFailure } from '@temporalio/common';
import { CancelledFailure } from '@temporalio/common';
import { PipelineError, isRetryable } from '../core/errors';

export function toActivityFailure(err: unknown): unknown {
  if (err instanceof CancelledFailure || err instanceof ApplicationFailure) return err;
  if (err instanceof PipelineError) {
    const nonRetryable = !isRetryable(err);
    // A server's retry hint (throttling: Retry-After, kept by lake/aws/classifyAwsError.ts) replaces
    // the policy's next backoff for this one retry; attempts and timeouts still bound the retries.
    const hint = err.details.retryAfterMs;
    const nextRetryDelay = !nonRetryable && typeof hint === 'number' && Number.isFinite(hint) && hint > 0 ? Math.ceil(hint) : undefined;
    return ApplicationFailure.create({
      message: err.message,
      type: err.type,
      nonRetryable,
      details: [err.details],
      cause: withShortStacks(err),
      nextRetryDelay,
    });
  }
  return err; // unknown errors stay retryable; the activity's retry policy bounds them
}

/**
 * The server keeps at most 4 KB of a retrying activity's last failure; full stacks of the whole
 * cause chain overflow it and the UI then shows "Failure exceeds size limit" instead of the message.
 */
function withShortStacks(err: Error): Error {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e.stack) e.stack = e.stack.split('\n').slice(0, 4).join('\n');
  }
  return err;
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
