import assert from 'node:assert/strict';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { PipelineError } from '../../../core/errors';
import { toActivityFailure, withErrorBoundary } from '../../../activities/errorBoundary';

describe('activities/errorBoundary', () => {
  describe('toActivityFailure', () => {
    it('maps a non-retryable PipelineError to a non-retryable ApplicationFailure with type, details and cause', () => {
      const err = new PipelineError('RowCountMismatch', 'counts differ; re-run the hour', { details: { expected: 10, actual: 9 } });
      const failure = toActivityFailure(err);
      assert.ok(failure instanceof ApplicationFailure);
      assert.equal(failure.message, 'counts differ; re-run the hour');
      assert.equal(failure.type, 'RowCountMismatch');
      assert.equal(failure.nonRetryable, true);
      assert.deepEqual(failure.details, [{ expected: 10, actual: 9 }]);
      assert.equal(failure.cause, err);
    });

    it('maps a retryable PipelineError to a retryable ApplicationFailure of the same type', () => {
      const err = new PipelineError('Throttled', 'slow down');
      const failure = toActivityFailure(err) as ApplicationFailure;
      assert.ok(failure instanceof ApplicationFailure);
      assert.equal(failure.type, 'Throttled');
      assert.equal(failure.nonRetryable, false);
      assert.deepEqual(failure.details, [{}]);
    });

    it("passes a throttling error's retry hint (details.retryAfterMs) as the next retry delay", () => {
      const throttled = toActivityFailure(new PipelineError('Throttled', 'Rate exceeded', { details: { retryAfterMs: 7000 } })) as ApplicationFailure;
      assert.equal(throttled.nonRetryable, false);
      assert.equal(throttled.nextRetryDelay, 7000);
      assert.deepEqual(throttled.details, [{ retryAfterMs: 7000 }]);
      // Fractions round up (never retry before the server asked), and a hint on a non-retryable error is moot.
      assert.equal((toActivityFailure(new PipelineError('TransientBackend', 'busy', { details: { retryAfterMs: 1500.2 } })) as ApplicationFailure).nextRetryDelay, 1501);
      assert.equal((toActivityFailure(new PipelineError('AccessDenied', 'denied', { details: { retryAfterMs: 7000 } })) as ApplicationFailure).nextRetryDelay, undefined);
      // No hint, or one that is not a positive number: the retry policy's own backoff.
      for (const retryAfterMs of [undefined, 0, -5, Number.NaN, Number.POSITIVE_INFINITY, '7000']) {
        const f = toActivityFailure(new PipelineError('Throttled', 'slow down', { details: retryAfterMs === undefined ? {} : { retryAfterMs } })) as ApplicationFailure;
        assert.equal(f.nextRetryDelay, undefined, `retryAfterMs ${String(retryAfterMs)}`);
      }
    });

    it('honours the retryable override', () => {
      const nonRetryable = toActivityFailure(new PipelineError('QueryFailed', 'syntax', { retryable: false })) as ApplicationFailure;
      assert.equal(nonRetryable.type, 'QueryFailed');
      assert.equal(nonRetryable.nonRetryable, true);
      const retryable = toActivityFailure(new PipelineError('AccessDenied', 'expired', { retryable: true })) as ApplicationFailure;
      assert.equal(retryable.nonRetryable, false);
    });

    it('passes Temporal failures and unknown errors through untouched', () => {
      const cancelled = new CancelledFailure('cancelled');
      assert.equal(toActivityFailure(cancelled), cancelled);
      const app = ApplicationFailure.nonRetryable('already classified', 'Custom');
      assert.equal(toActivityFailure(app), app);
      const plain = new Error('boom');
      assert.equal(toActivityFailure(plain), plain);
      assert.equal(toActivityFailure('text'), 'text');
    });
  });

  describe('withErrorBoundary', () => {
    it('wraps every function: results pass through, PipelineErrors become ApplicationFailures', async () => {
      const calls: unknown[] = [];
      const wrapped = withErrorBoundary({
        ok: async (x: number) => {
          calls.push(x);
          return x * 2;
        },
        bad: async () => {
          throw new PipelineError('InvalidInput', 'hour must be a string', { details: { field: 'hour' } });
        },
        unknown: async () => {
          throw new RangeError('boom');
        },
      });
      assert.deepEqual(Object.keys(wrapped), ['ok', 'bad', 'unknown']);
      assert.equal(await wrapped.ok(21), 42);
      assert.deepEqual(calls, [21]);
      await assert.rejects(wrapped.bad(), (err: unknown) => {
        assert.ok(err instanceof ApplicationFailure);
        assert.equal(err.type, 'InvalidInput');
        assert.equal(err.nonRetryable, true);
        assert.equal(err.message, 'hour must be a string');
        assert.deepEqual(err.details, [{ field: 'hour' }]);
        assert.ok(err.cause instanceof PipelineError);
        return true;
      });
      await assert.rejects(wrapped.unknown(), RangeError);
    });
  });
});
