import assert from 'node:assert/strict';
import {
  HOUR_FORMAT,
  HourFormatError,
  addHours,
  formatHour,
  hourCount,
  hourFromMs,
  hourStartMs,
  hoursBetween,
  parseHour,
  parsePastHour,
  partitionPath,
  partitionValues,
  previousCompleteHour,
  type Hour,
} from '../../../core/hours';

const h = (year: number, month: number, day: number, hour: number): Hour => ({ year, month, day, hour });

/** Asserts parseHour rejects `text` with a HourFormatError whose message matches `message`. */
function rejects(text: unknown, message: RegExp, field?: string): void {
  assert.throws(
    () => (field ? parseHour(text, field) : parseHour(text)),
    (err: unknown) => {
      assert.ok(err instanceof HourFormatError, `expected HourFormatError, got ${String(err)}`);
      assert.equal(err.name, 'HourFormatError');
      assert.match(err.message, message);
      return true;
    },
  );
}

describe('core/hours', () => {
  describe('parseHour', () => {
    it('parses valid hours into numeric fields', () => {
      assert.deepEqual(parseHour('2024-03-01T07'), h(2024, 3, 1, 7));
      assert.deepEqual(parseHour('1970-01-01T00'), h(1970, 1, 1, 0));
      assert.deepEqual(parseHour('2024-12-31T23'), h(2024, 12, 31, 23));
    });

    it('rejects impossible calendar values instead of rolling them over', () => {
      rejects('2024-02-30T00', /^hour '2024-02-30T00': day must be 01-29 for 2024-02$/);
      rejects('2024-04-31T00', /day must be 01-30 for 2024-04/);
      rejects('2024-01-00T00', /day must be 01-31 for 2024-01/);
      rejects('2024-13-01T00', /^hour '2024-13-01T00': month must be 01-12$/);
      rejects('2024-00-01T00', /month must be 01-12/);
      rejects('2024-01-01T24', /^hour '2024-01-01T24': hour must be 00-23$/);
      rejects('1969-12-31T23', /year must be 1970 or later/);
    });

    it('knows leap years: 2024-02-29 exists, 2023-02-29 and 1900-02-29 do not, 2000-02-29 does', () => {
      assert.deepEqual(parseHour('2024-02-29T00'), h(2024, 2, 29, 0));
      assert.deepEqual(parseHour('2000-02-29T12'), h(2000, 2, 29, 12));
      rejects('2023-02-29T00', /day must be 01-28 for 2023-02/);
      rejects('2100-02-29T00', /day must be 01-28 for 2100-02/);
    });

    it('rejects bad shapes, quoting the accepted form', () => {
      for (const bad of ['2024-1-01T00', '2024-01-1T00', '2024-01-01T0', '2024-01-01 00', '2024-01-01T00:00', '24-01-01T00', '', ' 2024-01-01T00', '2024-01-01T00\n', '２０２４-01-01T00']) {
        rejects(bad, new RegExp(`^hour '.*' is not in the form ${escape(HOUR_FORMAT)}$`, 's'));
      }
    });

    it('rejects non-strings, naming the field and what it got', () => {
      rejects(undefined, /^when must be a string in the form .*; got nothing$/, 'when');
      rejects(null, /got null$/);
      rejects(2024010100, /got number 2024010100$/);
      rejects({ hour: '2024-01-01T00' }, /got object \{"hour":"2024-01-01T00"\}$/);
    });

    it('names the given field in format errors', () => {
      rejects('nope', /^--from 'nope' is not in the form/, '--from');
    });
  });

  describe('parsePastHour', () => {
    const now = Date.UTC(2024, 2, 1, 7, 30); // 2024-03-01T07:30Z

    it('accepts the current (started) hour and past hours', () => {
      assert.deepEqual(parsePastHour('2024-03-01T07', now), h(2024, 3, 1, 7));
      assert.deepEqual(parsePastHour('2020-01-01T00', now), h(2020, 1, 1, 0));
      // An hour starting exactly now has started.
      assert.deepEqual(parsePastHour('2024-03-01T08', Date.UTC(2024, 2, 1, 8)), h(2024, 3, 1, 8));
    });

    it('rejects future hours with a message naming the field and now', () => {
      assert.throws(
        () => parsePastHour('2024-03-01T08', now, 'input.hour'),
        (err: unknown) =>
          err instanceof HourFormatError &&
          err.message === "input.hour '2024-03-01T08' is in the future (now is 2024-03-01T07 UTC); only hours that have started can be processed",
      );
    });

    it('still validates the shape before the clock', () => {
      assert.throws(() => parsePastHour('2024-02-30T00', now, '--to'), /^HourFormatError: --to '2024-02-30T00': day must be 01-29/);
    });
  });

  describe('formatHour', () => {
    it('round-trips with parseHour, zero-padded', () => {
      for (const text of ['1970-01-01T00', '2024-02-29T23', '2024-03-01T07', '9999-12-31T23']) {
        assert.equal(formatHour(parseHour(text)), text);
      }
      assert.equal(formatHour(h(2024, 1, 2, 3)), '2024-01-02T03');
    });

    it('round-trips every hour of a leap year through hourFromMs', () => {
      let cur = parseHour('2024-01-01T00');
      for (let i = 0; i < 366 * 24; i++) {
        assert.deepEqual(parseHour(formatHour(cur)), cur);
        assert.deepEqual(hourFromMs(hourStartMs(cur) + 59 * 60_000), cur, 'any instant inside the hour maps back to it');
        cur = addHours(cur, 1);
      }
      assert.equal(formatHour(cur), '2025-01-01T00');
    });
  });

  describe('addHours', () => {
    it('crosses day, month, year and leap-day boundaries', () => {
      assert.equal(formatHour(addHours(parseHour('2024-03-01T23'), 1)), '2024-03-02T00');
      assert.equal(formatHour(addHours(parseHour('2024-01-31T23'), 1)), '2024-02-01T00');
      assert.equal(formatHour(addHours(parseHour('2024-12-31T23'), 1)), '2025-01-01T00');
      assert.equal(formatHour(addHours(parseHour('2025-01-01T00'), -1)), '2024-12-31T23');
      assert.equal(formatHour(addHours(parseHour('2024-02-28T23'), 1)), '2024-02-29T00');
      assert.equal(formatHour(addHours(parseHour('2023-02-28T23'), 1)), '2023-03-01T00');
      assert.equal(formatHour(addHours(parseHour('2024-03-01T00'), -24)), '2024-02-29T00');
      assert.equal(formatHour(addHours(parseHour('2024-03-01T07'), 0)), '2024-03-01T07');
      assert.equal(formatHour(addHours(parseHour('2024-01-01T00'), 366 * 24)), '2025-01-01T00');
    });

    it('is UTC: local DST transitions do not create or swallow hours', () => {
      // Europe and the US change clocks on these nights; in UTC every day still has 24 hours.
      for (const day of ['2024-03-10', '2024-03-31', '2024-10-27', '2024-11-03']) {
        const start = parseHour(`${day}T00`);
        const hours = Array.from({ length: 24 }, (_, i) => formatHour(addHours(start, i)));
        assert.deepEqual(hours, Array.from({ length: 24 }, (_, i) => `${day}T${String(i).padStart(2, '0')}`));
        assert.equal(formatHour(addHours(start, 24)).slice(11), '00');
      }
    });
  });

  describe('hoursBetween / hourCount', () => {
    it('is inclusive at both ends and ordered', () => {
      const from = parseHour('2024-12-31T22');
      const to = parseHour('2025-01-01T01');
      assert.equal(hourCount(from, to), 4);
      assert.deepEqual(hoursBetween(from, to).map(formatHour), ['2024-12-31T22', '2024-12-31T23', '2025-01-01T00', '2025-01-01T01']);
    });

    it('is one hour when from equals to', () => {
      const x = parseHour('2024-03-01T07');
      assert.equal(hourCount(x, x), 1);
      assert.deepEqual(hoursBetween(x, x), [x]);
    });

    it('is empty (count 0 or negative) when inverted', () => {
      const a = parseHour('2024-03-01T07');
      const b = parseHour('2024-03-01T06');
      assert.equal(hourCount(a, b), 0);
      assert.deepEqual(hoursBetween(a, b), []);
      assert.equal(hourCount(a, parseHour('2024-03-01T00')), -6);
      assert.deepEqual(hoursBetween(a, parseHour('2024-03-01T00')), []);
    });

    it('spans a leap day: Feb 2024 has 29 * 24 hours', () => {
      assert.equal(hourCount(parseHour('2024-02-01T00'), parseHour('2024-02-29T23')), 29 * 24);
      assert.equal(hourCount(parseHour('2023-02-01T00'), parseHour('2023-02-28T23')), 28 * 24);
    });
  });

  describe('previousCompleteHour', () => {
    it('is the hour before the one containing now', () => {
      assert.equal(formatHour(previousCompleteHour(Date.UTC(2024, 2, 1, 7, 30))), '2024-03-01T06');
      assert.equal(formatHour(previousCompleteHour(Date.UTC(2024, 2, 1, 7, 0, 0, 0))), '2024-03-01T06');
      assert.equal(formatHour(previousCompleteHour(Date.UTC(2024, 2, 1, 6, 59, 59, 999))), '2024-03-01T05');
      assert.equal(formatHour(previousCompleteHour(Date.UTC(2025, 0, 1, 0, 5))), '2024-12-31T23');
    });
  });

  describe('partitionValues / partitionPath', () => {
    it('zero-pads Hive values as strings in key order', () => {
      const v = partitionValues(parseHour('2024-03-01T07'));
      assert.deepEqual(v, { year: '2024', month: '03', day: '01', hour: '07' });
      assert.deepEqual(Object.keys(v), ['year', 'month', 'day', 'hour']);
    });

    it('builds the Hive path segment', () => {
      assert.equal(partitionPath(parseHour('2024-03-01T07')), 'year=2024/month=03/day=01/hour=07');
      assert.equal(partitionPath(parseHour('2024-12-31T23')), 'year=2024/month=12/day=31/hour=23');
    });
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
