/**
 * The one error taxonomy. Every failure the pipeline raises on purpose is a PipelineError
 * with a `type` from this union; `isRetryable` is the single place that decides retries.
 * These are plain Errors, never subclasses of Temporal failures: the activity boundary
 * (activities/errorBoundary.ts) converts them into ApplicationFailure.
 */
export type PipelineErrorType =
  | 'InvalidInput' // operator/workflow input rejected before any side effect
  | 'ConfigInvalid' // configuration rejected at start-up
  | 'RawPartitionMissing' // no raw objects under the prefix by the deadline
  | 'QueryFailed' // engine reported FAILED
  | 'QueryCancelled' // engine reported CANCELLED
  | 'QueryNotFound' // engine lost the query (e.g. embedded engine restarted); resubmit
  | 'RowCountMismatch' // validation invariant broken; nothing is published
  | 'CatalogCorrupt' // a catalog file is unreadable; never silently reset
  | 'StorageUnavailable' // lake folder/bucket missing, read-only or unreachable
  | 'EntityNotFound' // database/table/partition/workgroup missing
  | 'AccessDenied'
  | 'Throttled' // back off and retry
  | 'TransientBackend'; // 5xx, network: retry

/** Types that will never succeed on retry without an operator changing something (also the activity retry policies' list). */
export const NON_RETRYABLE_TYPES: readonly PipelineErrorType[] = [
  'InvalidInput',
  'ConfigInvalid',
  'RawPartitionMissing',
  'RowCountMismatch',
  'CatalogCorrupt',
  'EntityNotFound',
  'AccessDenied',
  'QueryCancelled',
];
const NON_RETRYABLE: ReadonlySet<PipelineErrorType> = new Set(NON_RETRYABLE_TYPES);

export class PipelineError extends Error {
  readonly type: PipelineErrorType;
  readonly details: Record<string, unknown>;
  /** Set only when the type alone does not decide (e.g. a QueryFailed caused by throttling). */
  readonly retryableOverride: boolean | undefined;

  constructor(
    type: PipelineErrorType,
    message: string,
    opts: { details?: Record<string, unknown>; cause?: unknown; retryable?: boolean } = {},
  ) {
    super(message, { cause: opts.cause });
    this.name = 'PipelineError';
    this.type = type;
    this.details = opts.details ?? {};
    this.retryableOverride = opts.retryable;
  }
}

/** The single retryable-versus-not decision. Unknown errors are retryable: Temporal's retry policy bounds them. */
export function isRetryable(err: unknown): boolean {
  if (err instanceof PipelineError) {
    return err.retryableOverride ?? !NON_RETRYABLE.has(err.type);
  }
  return true;
}

export function invalidInput(field: string, problem: string, accepted: string): PipelineError {
  return new PipelineError('InvalidInput', `${field} ${problem}; expected ${accepted}`, { details: { field } });
}
