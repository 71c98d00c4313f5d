import assert from 'node:assert/strict';
import { PipelineError } from '../../../core/errors';
import { formatHour, HOUR_FORMAT } from '../../../core/hours';
import { MAX_GENERATE_HOURS, hourArg, intArg, rangeArgs, rateArg } from '../../../cli/parseArgs';

const NOW = Date.UTC(2024, 2, 1, 7, 30); // 2024-03-01T07:30Z

/** Asserts fn throws InvalidInput whose message equals or matches `expected`. */
function invalid(fn: () => unknown, expected: string | RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof PipelineError, `expected PipelineError, got ${String(err)}`);
    assert.equal(err.type, 'InvalidInput');
    if (typeof expected === 'string') assert.equal(err.message, expected);
    else assert.match(err.message, expected);
    return true;
  });
}

describe('cli/parseArgs', () => {
  describe('hourArg', () => {
    it('accepts a started hour', () => {
      assert.equal(formatHour(hourArg('<hour>', '2024-03-01T07', NOW)), '2024-03-01T07');
    });

    it('names the flag and the accepted form for bad shapes and impossible dates', () => {
      invalid(() => hourArg('--from', '2024-3-1', NOW), `--from '2024-3-1' is not in the form ${HOUR_FORMAT}`);
      invalid(() => hourArg('--to', '2024-02-30T00', NOW), "--to '2024-02-30T00': day must be 01-29 for 2024-02");
      invalid(() => hourArg('--to', undefined, NOW), `--to must be a string in the form ${HOUR_FORMAT}; got nothing`);
    });

    it('rejects future hours, naming the flag', () => {
      invalid(() => hourArg('<hour>', '2024-03-01T08', NOW), /^<hour> '2024-03-01T08' is in the future \(now is 2024-03-01T07 UTC\)/);
    });

    it('carries the flag in the details', () => {
      try {
        hourArg('--from', 'x', NOW);
        assert.fail('accepted x');
      } catch (err) {
        assert.deepEqual((err as PipelineError).details, { field: '--from' });
      }
    });
  });

  describe('rangeArgs', () => {
    it('returns an inclusive range', () => {
      const r = rangeArgs('2024-02-29T22', '2024-03-01T01', 10, NOW);
      assert.equal(formatHour(r.from), '2024-02-29T22');
      assert.equal(formatHour(r.to), '2024-03-01T01');
      assert.deepEqual(rangeArgs('2024-03-01T00', '2024-03-01T00', 1, NOW).from, rangeArgs('2024-03-01T00', '2024-03-01T00', 1, NOW).to);
    });

    it('rejects inverted and oversized ranges, naming both flags', () => {
      invalid(() => rangeArgs('2024-03-01T05', '2024-03-01T04', 10, NOW), `--to 2024-03-01T04 is before --from 2024-03-01T05; give an inclusive range ${HOUR_FORMAT}`);
      invalid(() => rangeArgs('2024-03-01T00', '2024-03-01T05', 5, NOW), '--from/--to span 6 hours; at most 5 are allowed in one call');
      assert.ok(MAX_GENERATE_HOURS >= 24 * 366);
    });

    it('checks each end with its own flag name', () => {
      invalid(() => rangeArgs('nope', '2024-03-01T00', 5, NOW), /^--from 'nope'/);
      invalid(() => rangeArgs('2024-03-01T00', '2099-01-01T00', 5, NOW), /^--to '2099-01-01T00' is in the future/);
    });
  });

  describe('intArg', () => {
    it('accepts whole numbers in range, from strings or numbers', () => {
      assert.equal(intArg('--events-per-hour', '500', 1, 1000), 500);
      assert.equal(intArg('--events-per-hour', ' 7 ', 1, 1000), 7);
      assert.equal(intArg('--seed', 0, 0, 10), 0);
      assert.equal(intArg('--seed', '-3', -5, 10), -3);
    });

    it('rejects everything else with the flag and the range', () => {
      for (const bad of ['1.5', '1e3', 'ten', '', '0x10', '5abc']) {
        invalid(() => intArg('--events-per-hour', bad, 1, 1000), `--events-per-hour must be a whole number from 1 to 1000; got '${bad}'`);
      }
      invalid(() => intArg('--events-per-hour', '0', 1, 1000), "--events-per-hour must be a whole number from 1 to 1000; got '0'");
      invalid(() => intArg('--events-per-hour', '1001', 1, 1000), "--events-per-hour must be a whole number from 1 to 1000; got '1001'");
      invalid(() => intArg('--seed', 2.5, 0, 10), "--seed must be a whole number from 0 to 10; got '2.5'");
      invalid(() => intArg('--seed', undefined, 0, 10), "--seed must be a whole number from 0 to 10; got 'undefined'");
      invalid(() => intArg('--seed', Number.NaN, 0, 10), "--seed must be a whole number from 0 to 10; got 'NaN'");
    });
  });

  describe('rateArg', () => {
    it('accepts fractions from 0 to 1 and defaults to 0 when absent', () => {
      assert.equal(rateArg('--malformed-rate', '0.02'), 0.02);
      assert.equal(rateArg('--malformed-rate', '0'), 0);
      assert.equal(rateArg('--malformed-rate', '1'), 1);
      assert.equal(rateArg('--duplicate-rate', undefined), 0);
    });

    it('rejects everything else with the flag and an example', () => {
      for (const bad of ['-0.1', '1.5', 'abc', '', '  ', 'NaN', 'Infinity']) {
        invalid(() => rateArg('--duplicate-rate', bad), `--duplicate-rate must be a fraction from 0 to 1 (e.g. 0.02); got '${bad}'`);
      }
    });
  });
});
