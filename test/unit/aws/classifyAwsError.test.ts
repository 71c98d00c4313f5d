/** The AWS error classifier: a table of SDK v3 error shapes and the taxonomy each one maps to. */
import assert from 'node:assert/strict';
import { PipelineError, isRetryable } from '../../../core/errors';
import { classifyAthenaFailure, classifyAwsError, retryAfterMs, type AwsCallContext } from '../../../lake/aws/classifyAwsError';

/** An SDK v3 ServiceException as the clients throw it (name = the AWS error code). */
function sdkError(name: string, message: string, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(message), { name, $fault: 'client', $metadata: { httpStatusCode: 400, requestId: 'req-1' }, ...extra });
}

const S3: AwsCallContext = { service: 'S3', operation: 'ListObjectsV2', resource: 's3://lake/raw/', setting: 'CLICKSTREAM_BUCKET' };
const GLUE: AwsCallContext = { service: 'Glue', operation: 'GetTable', resource: 'clickstream.events' };
const ATHENA_START: AwsCallContext = { service: 'Athena', operation: 'StartQueryExecution', resource: 'primary', setting: 'CLICKSTREAM_AWS_ATHENA_WORKGROUP' };
const ATHENA_STATUS: AwsCallContext = { service: 'Athena', operation: 'GetQueryExecution', resource: 'query q-1' };

describe('classifyAwsError', () => {
  const table: Array<{ what: string; err: unknown; ctx: AwsCallContext; type: string; retryable: boolean; message: RegExp }> = [
    { what: 'Athena TooManyRequestsException (active-query quota)', err: sdkError('TooManyRequestsException', 'Rate exceeded'), ctx: ATHENA_START, type: 'Throttled', retryable: true, message: /active-query quota/ },
    { what: 'Glue ThrottlingException', err: sdkError('ThrottlingException', 'Rate exceeded'), ctx: GLUE, type: 'Throttled', retryable: true, message: /throttled.*retried with backoff/ },
    { what: 'S3 SlowDown (503)', err: sdkError('SlowDown', 'Please reduce your request rate.', { $metadata: { httpStatusCode: 503 } }), ctx: S3, type: 'Throttled', retryable: true, message: /throttled/ },
    { what: 'an error the SDK marks as throttling', err: sdkError('Whatever', 'x', { $retryable: { throttling: true } }), ctx: S3, type: 'Throttled', retryable: true, message: /throttled/ },
    { what: 'HTTP 429', err: sdkError('Unknown', 'x', { $metadata: { httpStatusCode: 429 } }), ctx: GLUE, type: 'Throttled', retryable: true, message: /throttled/ },
    { what: 'Athena InternalServerException', err: sdkError('InternalServerException', 'boom', { $fault: 'server', $metadata: { httpStatusCode: 500 } }), ctx: ATHENA_STATUS, type: 'TransientBackend', retryable: true, message: /transiently/ },
    { what: 'Glue InternalServiceException', err: sdkError('InternalServiceException', 'boom', { $metadata: { httpStatusCode: 500 } }), ctx: GLUE, type: 'TransientBackend', retryable: true, message: /transiently/ },
    { what: 'any 5xx', err: sdkError('Weird', 'gateway', { $metadata: { httpStatusCode: 502 } }), ctx: S3, type: 'TransientBackend', retryable: true, message: /transiently/ },
    { what: 'a refused connection (network)', err: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5000'), { code: 'ECONNREFUSED' }), ctx: S3, type: 'TransientBackend', retryable: true, message: /ECONNREFUSED/ },
    { what: 'a socket timeout', err: Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }), ctx: S3, type: 'TransientBackend', retryable: true, message: /socket hang up/ },
    { what: 'S3 AccessDenied (403)', err: sdkError('AccessDenied', 'Access Denied', { $metadata: { httpStatusCode: 403 } }), ctx: S3, type: 'AccessDenied', retryable: false, message: /denied.*iam\/worker-policy\.json/ },
    { what: 'Glue AccessDeniedException', err: sdkError('AccessDeniedException', 'User is not authorized to perform glue:GetTable'), ctx: GLUE, type: 'AccessDenied', retryable: false, message: /glue:GetTable.*Grant the worker's role/ },
    { what: 'no credentials at all', err: Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }), ctx: S3, type: 'AccessDenied', retryable: false, message: /credentials/ },
    { what: 'expired session credentials', err: sdkError('ExpiredTokenException', 'The security token included in the request is expired'), ctx: GLUE, type: 'AccessDenied', retryable: true, message: /refreshed credentials/ },
    { what: 'Glue EntityNotFoundException', err: sdkError('EntityNotFoundException', 'Table x not found'), ctx: GLUE, type: 'EntityNotFound', retryable: false, message: /not found.*create it/ },
    { what: 'S3 NoSuchBucket', err: sdkError('NoSuchBucket', 'The specified bucket does not exist', { $metadata: { httpStatusCode: 404 } }), ctx: S3, type: 'EntityNotFound', retryable: false, message: /CLICKSTREAM_BUCKET/ },
    { what: 'Athena MetadataException (database missing)', err: sdkError('MetadataException', 'Database clickstream not found'), ctx: ATHENA_START, type: 'EntityNotFound', retryable: false, message: /not found/ },
    { what: 'Athena missing workgroup', err: sdkError('InvalidRequestException', 'WorkGroup is not found.'), ctx: ATHENA_START, type: 'EntityNotFound', retryable: false, message: /workgroup primary does not exist.*CLICKSTREAM_AWS_ATHENA_WORKGROUP/ },
    { what: 'Athena syntax error at start', err: sdkError('InvalidRequestException', "line 1:8: mismatched input 'FROM'"), ctx: ATHENA_START, type: 'QueryFailed', retryable: false, message: /mismatched input.*retrying will not help/ },
    { what: 'Athena unknown query id on status', err: sdkError('InvalidRequestException', 'QueryExecution q-1 was not found'), ctx: ATHENA_STATUS, type: 'QueryNotFound', retryable: true, message: /resubmitted/ },
    { what: 'Glue InvalidInputException', err: sdkError('InvalidInputException', 'bad partition value'), ctx: GLUE, type: 'InvalidInput', retryable: false, message: /invalid/ },
    { what: 'an unknown 4xx', err: sdkError('SomethingNew', 'nope', { $metadata: { httpStatusCode: 409 } }), ctx: GLUE, type: 'InvalidInput', retryable: false, message: /HTTP 409 SomethingNew/ },
    { what: 'an unknown status-less error', err: new Error('mystery'), ctx: GLUE, type: 'TransientBackend', retryable: true, message: /mystery/ },
  ];

  for (const row of table) {
    it(`${row.what} -> ${row.type}, ${row.retryable ? 'retryable' : 'non-retryable'}`, () => {
      const classified = classifyAwsError(row.err, row.ctx);
      assert.ok(classified instanceof PipelineError);
      assert.equal(classified.type, row.type);
      assert.equal(isRetryable(classified), row.retryable);
      assert.match(classified.message, row.message);
      assert.equal(classified.cause, row.err, 'the SDK error is kept as cause');
      assert.equal(classified.details.operation, row.ctx.operation);
    });
  }

  it('keeps a server retry hint (Retry-After seconds or date) in details.retryAfterMs', () => {
    const seconds = classifyAwsError(sdkError('ThrottlingException', 'slow', { $response: { headers: { 'retry-after': '7' } } }), GLUE);
    assert.equal(seconds.details.retryAfterMs, 7000);
    const date = new Date(Date.now() + 60_000).toUTCString();
    const ms = retryAfterMs({ $response: { headers: { 'retry-after': date } } });
    assert.ok(ms !== undefined && ms > 50_000 && ms <= 60_000, String(ms));
    assert.equal(classifyAwsError(sdkError('ThrottlingException', 'slow'), GLUE).details.retryAfterMs, undefined);
  });

  it('passes a PipelineError through unchanged', () => {
    const e = new PipelineError('RowCountMismatch', 'x');
    assert.equal(classifyAwsError(e, GLUE), e);
  });
});

describe('classifyAthenaFailure (a FAILED query)', () => {
  it("Athena's Retryable flag decides when present", () => {
    assert.equal(classifyAthenaFailure({ reason: 'x', errorCategory: 2, retryable: true }).retryable, true);
    assert.equal(classifyAthenaFailure({ reason: 'x', errorCategory: 1, retryable: false }).retryable, false);
  });
  it('SYSTEM errors retry, USER errors do not, OTHER is left to the default', () => {
    assert.equal(classifyAthenaFailure({ reason: 'internal', errorCategory: 1 }).retryable, true);
    const user = classifyAthenaFailure({ reason: "SYNTAX_ERROR: line 3:1: Column 'x' cannot be resolved", errorCategory: 2, errorType: 1006 });
    assert.equal(user.retryable, false);
    assert.match(user.reason, /Column 'x' cannot be resolved \[Athena error category USER, type 1006\]\. A user error/);
    assert.equal(classifyAthenaFailure({ reason: 'hm', errorCategory: 3 }).retryable, undefined);
  });
  it('"Query exhausted resources" is never retried, even when Athena says retryable, and says what to do', () => {
    const v = classifyAthenaFailure({ reason: 'Query exhausted resources at this scale factor', errorCategory: 1, retryable: true });
    assert.equal(v.retryable, false);
    assert.match(v.reason, /split the hour's input/);
  });
});
