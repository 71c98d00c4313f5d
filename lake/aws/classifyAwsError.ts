/**
 * The one place that turns an AWS SDK v3 error (or an Athena FAILED status) into the pipeline's
 * error taxonomy. Retryable: throttling, Athena's active-query quota, 5xx and network errors,
 * with the server's retry hint kept in details.retryAfterMs. Not retryable: access, missing
 * entities, invalid requests and syntax errors, and "Query exhausted resources"; their messages
 * say what the operator should change.
 */
import { PipelineError, type PipelineErrorType } from '../../core/errors';

/** What the adapter was doing, for the message: "Glue GetTable on clickstream.events". */
export interface AwsCallContext {
  service: 'S3' | 'Glue' | 'Athena' | 'STS';
  operation: string;
  /** The bucket, table, workgroup or query the call was about. */
  resource?: string;
  /** The setting an operator would change if the resource is wrong, e.g. CLICKSTREAM_BUCKET. */
  setting?: string;
}

/** The fields of an SDK v3 ServiceException (and of Node network errors) the classifier reads. */
interface SdkErrorShape {
  name?: string;
  code?: string;
  Code?: string;
  message?: string;
  $fault?: 'client' | 'server';
  $metadata?: { httpStatusCode?: number; requestId?: string };
  $retryable?: { throttling?: boolean };
  $response?: { headers?: Record<string, string | undefined> };
}

const THROTTLING = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException', // Athena: active-query quota or API rate
  'RequestLimitExceeded',
  'SlowDown', // S3
  'RequestThrottled',
  'RequestThrottledException',
  'ProvisionedThroughputExceededException',
  'ConcurrentModificationException', // Glue: another writer touched the same entity; retrying converges
  'ResourceNumberLimitExceededException',
]);

const TRANSIENT = new Set([
  'InternalServerException',
  'InternalServerError',
  'InternalFailure',
  'InternalError',
  'InternalServiceException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'OperationTimeoutException',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
  'NetworkingError',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EHOSTUNREACH',
]);

const ACCESS = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'AllAccessDisabled',
  'UnauthorizedOperation',
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'MissingAuthenticationToken',
  'CredentialsProviderError',
]);

/** Expired session credentials are refreshed by the SDK's provider chain; a later attempt can succeed. */
const EXPIRED = new Set(['ExpiredToken', 'ExpiredTokenException', 'RequestExpired']);

const NOT_FOUND = new Set([
  'EntityNotFoundException',
  'NoSuchBucket',
  'NoSuchKey',
  'NotFound',
  'ResourceNotFoundException',
  'MetadataException', // Athena: database or table unknown to the catalog
]);

const INVALID = new Set([
  'InvalidInputException',
  'ValidationException',
  'InvalidRequest',
  'InvalidArgument',
  'InvalidBucketName',
  'AlreadyExistsException',
  'IdempotentParameterMismatchException',
]);

function errorCode(e: SdkErrorShape): string {
  return e.name && e.name !== 'Error' ? e.name : (e.code ?? e.Code ?? 'UnknownError');
}

/** The server's retry hint (Retry-After seconds) in milliseconds, when it sent one. */
export function retryAfterMs(err: unknown): number | undefined {
  const header = (err as SdkErrorShape | undefined)?.$response?.headers?.['retry-after'];
  if (header === undefined) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
  const at = Date.parse(header);
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : undefined;
}

function where(ctx: AwsCallContext): string {
  return `${ctx.service} ${ctx.operation}${ctx.resource ? ` on ${ctx.resource}` : ''}`;
}

/** Classifies any error thrown by an SDK call. A PipelineError passes through unchanged. */
export function classifyAwsError(err: unknown, ctx: AwsCallContext): PipelineError {
  if (err instanceof PipelineError) return err;
  const e = (typeof err === 'object' && err !== null ? err : { message: String(err) }) as SdkErrorShape;
  const code = errorCode(e);
  const status = e.$metadata?.httpStatusCode;
  const text = e.message ?? code;
  const details: Record<string, unknown> = {
    service: ctx.service,
    operation: ctx.operation,
    resource: ctx.resource,
    awsErrorCode: code,
    httpStatus: status,
    requestId: e.$metadata?.requestId,
  };
  const make = (type: PipelineErrorType, message: string, retryable?: boolean) =>
    new PipelineError(type, message, { cause: err, details, retryable });
  const settingHint = ctx.setting ? ` or set ${ctx.setting}` : '';

  if (THROTTLING.has(code) || e.$retryable?.throttling || status === 429) {
    const hint = retryAfterMs(err);
    if (hint !== undefined) details.retryAfterMs = hint;
    const quota =
      code === 'TooManyRequestsException' && ctx.service === 'Athena'
        ? ' (Athena active-query quota or API rate; lower concurrency or request a quota increase if this persists)'
        : '';
    return make('Throttled', `${where(ctx)} was throttled: ${text}${quota}; it will be retried with backoff`);
  }
  if (EXPIRED.has(code)) {
    return make(
      'AccessDenied',
      `${where(ctx)}: credentials expired (${text}); retrying with refreshed credentials. If this repeats, check the worker's credential source (role, profile or AWS_* variables)`,
      true,
    );
  }
  if (ACCESS.has(code) || status === 403 || /Could not load credentials/i.test(text)) {
    return make(
      'AccessDenied',
      `${where(ctx)} was denied: ${text}. Grant the worker's role the action on this resource (see iam/worker-policy.json) or fix its credentials, then re-run`,
    );
  }
  if (ctx.service === 'Athena' && code === 'InvalidRequestException') {
    if (/work ?group/i.test(text) && /(not found|does not exist)/i.test(text)) {
      return make(
        'EntityNotFound',
        `Athena workgroup ${ctx.resource ?? ''} does not exist (${text}); create it or set CLICKSTREAM_AWS_ATHENA_WORKGROUP`,
      );
    }
    if (ctx.operation !== 'StartQueryExecution' && /(QueryExecution .* was not found|not found)/i.test(text)) {
      return make('QueryNotFound', `${where(ctx)}: Athena does not know this query (${text}); it will be resubmitted`);
    }
    return make(
      'QueryFailed',
      `${where(ctx)} was rejected: ${text}. Fix the statement, its parameters or the workgroup settings; retrying will not help`,
      false,
    );
  }
  if (NOT_FOUND.has(code) || status === 404) {
    return make('EntityNotFound', `${where(ctx)}: not found (${text}); create it${settingHint}, then re-run`);
  }
  if (INVALID.has(code)) {
    return make('InvalidInput', `${where(ctx)} was rejected as invalid: ${text}; fix the request or the table definition`);
  }
  if (TRANSIENT.has(code) || e.$fault === 'server' || (status !== undefined && status >= 500)) {
    const hint = retryAfterMs(err);
    if (hint !== undefined) details.retryAfterMs = hint;
    return make('TransientBackend', `${where(ctx)} failed transiently: ${text}; it will be retried`);
  }
  if (status !== undefined && status >= 400) {
    return make('InvalidInput', `${where(ctx)} was rejected (HTTP ${status} ${code}): ${text}; fix the request or configuration`);
  }
  // Unknown and status-less errors: retryable, bounded by the activity's retry policy.
  return make('TransientBackend', `${where(ctx)} failed: ${text}`);
}

/** Runs one SDK call and classifies whatever it throws. */
export async function awsCall<T>(ctx: AwsCallContext, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw classifyAwsError(err, ctx);
  }
}

/** The error code of an SDK error (its `name`), for the few places that treat one code as success. */
export function awsErrorCode(err: unknown): string | undefined {
  if (err instanceof PipelineError) return err.details.awsErrorCode as string | undefined;
  if (typeof err !== 'object' || err === null) return undefined;
  return errorCode(err as SdkErrorShape);
}

/** Athena's error categories (AthenaError.ErrorCategory). */
export const ATHENA_ERROR_CATEGORY: Record<number, string> = { 1: 'SYSTEM', 2: 'USER', 3: 'OTHER' };

/**
 * Decides whether a FAILED Athena query is worth a new attempt, and what to tell the operator.
 * Athena's own Retryable flag wins; "exhausted resources" is never retried (the same query on
 * the same data exhausts them again); otherwise SYSTEM errors retry and USER errors do not.
 */
export function classifyAthenaFailure(input: {
  reason?: string;
  errorCategory?: number;
  errorType?: number;
  retryable?: boolean;
}): { retryable: boolean | undefined; reason: string } {
  const reason = input.reason ?? 'no reason given';
  const category = input.errorCategory !== undefined ? (ATHENA_ERROR_CATEGORY[input.errorCategory] ?? String(input.errorCategory)) : undefined;
  const tag = category ? ` [Athena error category ${category}${input.errorType !== undefined ? `, type ${input.errorType}` : ''}]` : '';
  if (/exhausted resources/i.test(reason)) {
    return {
      retryable: false,
      reason: `${reason}${tag}. The query ran out of memory at this scale: split the hour's input or reduce its size, then re-run the hour`,
    };
  }
  if (input.retryable !== undefined) {
    return {
      retryable: input.retryable,
      reason: input.retryable ? `${reason}${tag}; Athena marks it retryable` : `${reason}${tag}. Fix the cause, then re-run the hour`,
    };
  }
  if (input.errorCategory === 1) return { retryable: true, reason: `${reason}${tag}; a system error, retried` };
  if (input.errorCategory === 2) {
    return {
      retryable: false,
      reason: `${reason}${tag}. A user error (syntax, permissions, missing table or bad data): fix it, then re-run the hour`,
    };
  }
  return { retryable: undefined, reason: `${reason}${tag}` };
}
