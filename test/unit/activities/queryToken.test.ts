import assert from 'node:assert/strict';
import { parseHour } from '../../../core/hours';
import { queryToken } from '../../../activities/queryToken';

describe('activities/queryToken', () => {
  const hour = parseHour('2024-03-01T07');

  it('is 64 lower-case hex characters (within Athena 32-128)', () => {
    assert.match(queryToken('clickstream_events_curated', hour, 'curate', '6f1c-run', 0), /^[0-9a-f]{64}$/);
  });

  it('is stable for the same inputs', () => {
    assert.equal(queryToken('t', hour, 'curate', 'run-a', 0), queryToken('t', hour, 'curate', 'run-a', 0));
  });

  it('differs across table, hour, step, run and epoch', () => {
    const base = queryToken('t', hour, 'curate', 'run-a', 0);
    const variants = [
      queryToken('u', hour, 'curate', 'run-a', 0),
      queryToken('t', parseHour('2024-03-01T08'), 'curate', 'run-a', 0),
      queryToken('t', hour, 'validate', 'run-a', 0),
      queryToken('t', hour, 'curate', 'run-b', 0),
      queryToken('t', hour, 'curate', 'run-a', 1),
    ];
    assert.equal(new Set([base, ...variants]).size, 6);
  });

  it('does not confuse run ids and epochs that concatenate alike', () => {
    // 'run-1' epoch 10 vs 'run-11' epoch 0 would both read 'run-110' without the separator.
    assert.notEqual(queryToken('t', hour, 'curate', 'run-1', 10), queryToken('t', hour, 'curate', 'run-11', 0));
  });
});
