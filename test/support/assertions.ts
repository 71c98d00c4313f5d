import assert from 'node:assert/strict';
import { PipelineError } from '../../core/errors';

/** For assert.rejects: the error is a PipelineError of this type (and message, if given). */
export function isPipelineError(type: string, message?: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof PipelineError, `expected PipelineError, got ${String(err)}`);
    assert.equal(err.type, type);
    if (message) assert.match(err.message, message);
    return true;
  };
}
