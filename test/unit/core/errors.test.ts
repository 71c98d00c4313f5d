import assert from 'node:assert/strict';
import { PipelineError, invalidInput, isRetryable, type PipelineErrorType } from '../../../core/errors';

/** Every member of the union, with the classifier's expected answer. Adding a type without a row fails to compile. */
const RETRYABLE: Record<PipelineErrorType, boolean> = {
  InvalidInput: false,
  ConfigInvalid: false,
  RawPartitionMissing: false,
  QueryFailed: true,
  QueryCancelled: false,
  QueryNotFound: true,
  RowCountMismatch: false,
  CatalogCorrupt: false,
  StorageUnavailable: true,
  EntityNotFound: false,
  AccessDenied: false,
  Throttled: true,
  TransientBackend: true,
};

describe('core/errors', () => {
  describe('isRetryable', () => {
    for (const [type, expected] of Object.entries(RETRYABLE) as [PipelineErrorType, boolean][]) {
      it(`${type} is ${expected ? 'retryable' : 'non-retryable'}`, () => {
        assert.equal(isRetryable(new PipelineError(type, 'x')), expected);
      });
    }

    it('an explicit retryable flag overrides the type, both ways', () => {
      assert.equal(isRetryable(new PipelineError('QueryFailed', 'syntax error', { retryable: false })), false);
      assert.equal(isRetryable(new PipelineError('AccessDenied', 'token expired', { retryable: true })), true);
      assert.equal(isRetryable(new PipelineError('QueryFailed', 'x', { retryable: undefined })), true);
    });

    it('unknown errors and non-errors are retryable (the retry policy bounds them)', () => {
      assert.equal(isRetryable(new Error('ECONNRESET')), true);
      assert.equal(isRetryable(new TypeError('x is undefined')), true);
      assert.equal(isRetryable('a string'), true);
      assert.equal(isRetryable(undefined), true);
      // Duck-typed look-alikes are not PipelineErrors.
      assert.equal(isRetryable({ name: 'PipelineError', type: 'InvalidInput' }), true);
    });
  });

  describe('PipelineError', () => {
    it('sets name, type, details and cause; is a plain Error', () => {
      const cause = new Error('root');
      const err = new PipelineError('CatalogCorrupt', 'bad file', { details: { path: '/x' }, cause });
      assert.ok(err instanceof Error);
      assert.equal(err.name, 'PipelineError');
      assert.equal(err.type, 'CatalogCorrupt');
      assert.equal(err.message, 'bad file');
      assert.deepEqual(err.details, { path: '/x' });
      assert.equal(err.cause, cause);
      assert.equal(err.retryableOverride, undefined);
      assert.deepEqual(new PipelineError('Throttled', 'slow down').details, {});
    });

    it('invalidInput names the field, the problem and the accepted form', () => {
      const err = invalidInput('--seed', 'is negative', 'a whole number >= 0');
      assert.equal(err.type, 'InvalidInput');
      assert.equal(err.message, '--seed is negative; expected a whole number >= 0');
      assert.deepEqual(err.details, { field: '--seed' });
      assert.equal(isRetryable(err), false);
    });
  });
});
