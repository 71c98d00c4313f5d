import assert from 'node:assert/strict';
import { validateBackfillInput, type BackfillInput, type BackfillSettings } from '../../../core/contracts/backfill';
import {
  assertConcurrencyArgument,
  assertSkipHours,
  backfillReducer,
  finalStatus,
  fromCarried,
  initialBackfillState,
  liveStatus,
  nextMove,
  nextPlanRequest,
  progressOf,
  resultOf,
  toCarried,
  windowHasRoom,
  type BackfillEvent,
  type BackfillRunState,
  type BackfillTransition,
  type PlannedChunk,
} from '../../../workflows/backfillState';

const NOW = Date.UTC(2025, 0, 1);
const MINUTE = 60_000;

function settingsFor(input: Partial<BackfillInput> = {}): BackfillSettings {
  return validateBackfillInput({ from: '2024-03-01T00', to: '2024-03-01T05', ...input }, NOW);
}

/** Every transition, checked to leave the state it was given untouched: the reducer is pure. */
function reduce(state: BackfillRunState, event: BackfillEvent): BackfillTransition {
  const before = JSON.stringify(state);
  const transition = backfillReducer(state, event);
  assert.equal(JSON.stringify(state), before, `${event.type} changed the state it was given`);
  return transition;
}

function apply(state: BackfillRunState, ...events: BackfillEvent[]): BackfillRunState {
  return events.reduce((s, e) => reduce(s, e).state, state);
}

const runAll = (request: { from: string; count: number }): PlannedChunk => ({ run: hoursFrom(request.from, request.count), skipped: [], failed: [] });

function hoursFrom(from: string, count: number): string[] {
  const start = Date.parse(`${from}:00:00Z`);
  return Array.from({ length: count }, (_, i) => new Date(start + i * 3_600_000).toISOString().slice(0, 13));
}

/**
 * The workflow's fill loop without Temporal: plan when the queue is empty, then take hours while
 * the window has room. Returns the state and the hours whose children it started, in order.
 */
function fill(
  state: BackfillRunState,
  settings: BackfillSettings,
  plan: (request: { from: string; count: number }) => PlannedChunk = runAll,
  overBudget = false,
): { state: BackfillRunState; started: string[] } {
  const started: string[] = [];
  while (windowHasRoom(state, overBudget)) {
    const request = nextPlanRequest(state, settings.to);
    if (request) state = reduce(state, { type: 'planned', request, plan: plan(request) }).state;
    if (state.paused || state.queue.length === 0) break;
    const t = reduce(state, { type: 'takeNext', dryRun: settings.dryRun });
    state = t.state;
    if (t.startChild) started.push(t.startChild);
  }
  return { state, started };
}

const succeeded = (hour: string): BackfillEvent => ({ type: 'childFinished', hour, outcome: { type: 'succeeded' } });
const failed = (hour: string, reason = 'RowCountMismatch: 3 != 4'): BackfillEvent => ({ type: 'childFinished', hour, outcome: { type: 'failed', reason } });

describe('workflows/backfillState: the backfill reducer', () => {
  describe('planning', () => {
    it('plans a week at a time from the cursor, and the last chunk ends the range', () => {
      const settings = settingsFor({ from: '2024-03-01T00', to: '2024-03-10T23' });
      const state = initialBackfillState(settings, NOW);
      const first = nextPlanRequest(state, settings.to);
      assert.deepEqual(first, { from: '2024-03-01T00', count: 168, nextCursor: '2024-03-08T00' });
      const afterFirst = apply(state, { type: 'planned', request: first!, plan: { run: [], skipped: [], failed: [] } });
      assert.deepEqual(nextPlanRequest(afterFirst, settings.to), { from: '2024-03-08T00', count: 72, nextCursor: null });
    });

    it('does not plan while hours are queued, nor once the range is planned', () => {
      const settings = settingsFor();
      const planned = fill(initialBackfillState(settingsFor({ concurrency: 1 }), NOW), settings).state;
      assert.equal(planned.cursor, null);
      assert.equal(nextPlanRequest(planned, settings.to), undefined, 'queue has hours');
      assert.equal(nextPlanRequest({ ...planned, queue: [] }, settings.to), undefined, 'range planned');
    });

    it("counts the planner's skipped hours, lists its failed ones with the reason, and queues the rest in order", () => {
      const settings = settingsFor();
      const state = initialBackfillState(settings, NOW);
      const request = nextPlanRequest(state, settings.to)!;
      const next = apply(state, {
        type: 'planned',
        request,
        plan: {
          run: ['2024-03-01T01', '2024-03-01T03', '2024-03-01T05'],
          skipped: [{ hour: '2024-03-01T00', reason: 'published' }],
          failed: [
            { hour: '2024-03-01T02', reason: 'RawPartitionMissing: no raw' },
            { hour: '2024-03-01T04', reason: 'RawPartitionMissing: no raw' },
          ],
        },
      });
      assert.deepEqual(next.queue, ['2024-03-01T01', '2024-03-01T03', '2024-03-01T05']);
      assert.equal(next.skipped, 1);
      assert.deepEqual(next.failedHours, { '2024-03-01T02': 'RawPartitionMissing: no raw', '2024-03-01T04': 'RawPartitionMissing: no raw' });
      assert.equal(next.cursor, null);
    });
  });

  describe('the window', () => {
    it('starts the first `concurrency` hours in order, and one more as each child finishes', () => {
      const settings = settingsFor({ concurrency: 2 });
      let { state, started } = fill(initialBackfillState(settings, NOW), settings);
      assert.deepEqual(started, ['2024-03-01T00', '2024-03-01T01']);
      assert.deepEqual(state.running, ['2024-03-01T00', '2024-03-01T01']);
      assert.equal(nextMove(state, false), 'awaitEvent');

      state = apply(state, succeeded('2024-03-01T01'));
      ({ state, started } = fill(state, settings));
      assert.deepEqual(started, ['2024-03-01T02'], 'a finished child frees its slot at once; nothing waits for the slowest');
      assert.equal(state.running.length, 2);
    });

    it('runs the whole range to completion with every hour counted once', () => {
      const settings = settingsFor({ concurrency: 3 });
      let state = initialBackfillState(settings, NOW);
      const order: string[] = [];
      for (let round = 0; round < 10; round++) {
        const filled = fill(state, settings);
        order.push(...filled.started);
        state = filled.state;
        if (nextMove(state, false) === 'complete') break;
        state = apply(state, succeeded(state.running[0]!));
      }
      assert.deepEqual(order, hoursFrom('2024-03-01T00', 6));
      assert.equal(nextMove(state, false), 'complete');
      assert.equal(finalStatus(state), 'completed');
      const result = resultOf(state, settings, NOW + 3 * MINUTE);
      assert.equal(result.status, 'completed');
      assert.equal(result.succeeded, 6);
      assert.equal(result.pending, 0);
      assert.equal(result.durationMs, 3 * MINUTE);
      assert.equal(result.wouldRun, undefined);
    });

    it('a pause starts nothing new and lets running children finish; resume fills the window again', () => {
      const settings = settingsFor({ concurrency: 2 });
      const running = fill(initialBackfillState(settings, NOW), settings).state;
      const pause = reduce(running, { type: 'pause' });
      assert.equal(pause.status, 'paused');
      assert.equal(liveStatus(pause.state), 'paused');
      const drained = apply(pause.state, succeeded('2024-03-01T00'), succeeded('2024-03-01T01'));
      assert.equal(windowHasRoom(drained, false), false);
      assert.deepEqual(fill(drained, settings).started, []);
      assert.equal(nextMove(drained, false), 'awaitEvent', 'a paused backfill waits; it does not complete');

      const resume = reduce(drained, { type: 'resume' });
      assert.equal(resume.status, 'running');
      assert.deepEqual(fill(resume.state, settings).started, ['2024-03-01T02', '2024-03-01T03']);
    });

    it('setConcurrency answers the previous value; a wider window starts more, a narrower one stops none', () => {
      const settings = settingsFor({ concurrency: 1 });
      const one = fill(initialBackfillState(settings, NOW), settings).state;
      const widened = reduce(one, { type: 'setConcurrency', concurrency: 3 });
      assert.equal(widened.reply, 1);
      assert.deepEqual(fill(widened.state, settings).started, ['2024-03-01T01', '2024-03-01T02']);

      const three = fill(widened.state, settings).state;
      const narrowed = reduce(three, { type: 'setConcurrency', concurrency: 1 });
      assert.equal(narrowed.reply, 3);
      assert.deepEqual(narrowed.state.running, ['2024-03-01T00', '2024-03-01T01', '2024-03-01T02'], 'running children run on');
      const oneLeft = apply(narrowed.state, succeeded('2024-03-01T00'), succeeded('2024-03-01T01'));
      assert.deepEqual(fill(oneLeft, settings).started, [], 'nothing starts until fewer than 1 run');
      assert.deepEqual(fill(apply(oneLeft, succeeded('2024-03-01T02')), settings).started, ['2024-03-01T03']);
    });

    it('over the history budget the window stops filling, and once drained the run continues as new', () => {
      const settings = settingsFor({ concurrency: 2 });
      const running = fill(initialBackfillState(settings, NOW), settings).state;
      assert.equal(windowHasRoom(apply(running, succeeded('2024-03-01T00')), true), false);
      assert.equal(nextMove(running, true), 'awaitEvent', 'children are drained first');
      const drained = apply(running, succeeded('2024-03-01T00'), succeeded('2024-03-01T01'));
      assert.equal(nextMove(drained, true), 'continueAsNew');
      assert.equal(nextMove(drained, false), 'awaitEvent');
    });
  });

  describe('steering', () => {
    it('skip drops queued hours at once, unplanned ones when reached, and leaves running ones be', () => {
      const settings = settingsFor({ from: '2024-03-01T00', to: '2024-03-08T03', concurrency: 1 });
      const state = fill(initialBackfillState(settings, NOW), settings).state; // first week planned, T00 running
      const skip = reduce(state, { type: 'skip', hours: ['2024-03-01T01', '2024-03-01T00', '2024-03-08T02', '2024-03-08T02', '2024-03-01T01'] });
      assert.equal(skip.reply, 1, 'only the queued hour is skipped now');
      assert.equal(skip.state.skipped, 1);
      assert.ok(!skip.state.queue.includes('2024-03-01T01'));
      assert.deepEqual(skip.state.running, ['2024-03-01T00'], 'a running hour runs on');
      // 2024-03-01T01 was already dropped, so its second mention waits for the cursor like T02 of the 8th.
      assert.deepEqual(skip.state.skipRequested, ['2024-03-08T02', '2024-03-01T01']);

      let s = skip.state;
      const started: string[] = [];
      for (let i = 0; i < 200 && nextMove(s, false) !== 'complete'; i++) {
        const filled = fill(s, settings);
        started.push(...filled.started);
        s = filled.state;
        if (s.running.length) s = apply(s, succeeded(s.running[0]!));
      }
      assert.equal(nextMove(s, false), 'complete');
      assert.ok(!started.includes('2024-03-08T02'), 'the unplanned hour was skipped when the cursor reached it');
      assert.ok(started.includes('2024-03-08T03'));
      assert.equal(s.skipped, 2);
      assert.deepEqual(s.skipRequested, ['2024-03-01T01'], 'a request for an hour never reached again stays on record');
      assert.equal(s.succeeded, settings.total - 2);
    });

    it('retryFailed puts every failed hour first in hour order, clears the list and answers how many', () => {
      const settings = settingsFor({ concurrency: 1 });
      let state = fill(initialBackfillState(settings, NOW), settings, (r) => ({
        ...runAll(r),
        run: hoursFrom(r.from, r.count).filter((h) => h !== '2024-03-01T04'),
        failed: [{ hour: '2024-03-01T04', reason: 'RawPartitionMissing: no raw' }],
      })).state;
      state = apply(state, failed('2024-03-01T00'));
      assert.equal(finalStatus(state), 'completed-with-failures');
      const retry = reduce(state, { type: 'retryFailed' });
      assert.equal(retry.reply, 2);
      assert.deepEqual(retry.state.failedHours, {});
      assert.deepEqual(retry.state.queue.slice(0, 3), ['2024-03-01T00', '2024-03-01T04', '2024-03-01T01']);
      assert.deepEqual(fill(retry.state, settings).started, ['2024-03-01T00']);
      assert.equal(reduce(retry.state, { type: 'retryFailed' }).reply, 0, 'nothing failed: nothing requeued');
    });
  });

  describe('children', () => {
    it('a failed child is listed with its reason; a deferred one is retried after the timer, at the end of the queue', () => {
      const settings = settingsFor({ from: '2024-03-01T00', to: '2024-03-01T02', concurrency: 3 });
      let state = fill(initialBackfillState(settings, NOW), settings).state;
      state = apply(state, succeeded('2024-03-01T00'), failed('2024-03-01T01'), {
        type: 'childFinished',
        hour: '2024-03-01T02',
        outcome: { type: 'deferred' },
      });
      assert.deepEqual(state.running, []);
      assert.deepEqual(state.failedHours, { '2024-03-01T01': 'RowCountMismatch: 3 != 4' });
      assert.deepEqual(state.deferred, ['2024-03-01T02']);
      assert.equal(nextMove(state, false), 'retryDeferred', 'not complete while an hour is deferred');
      assert.equal(progressOf(state, settings, NOW).pending, 1, 'a deferred hour is still pending');

      state = apply(state, { type: 'deferredTimerFired' });
      assert.deepEqual(state.deferred, []);
      const again = fill(state, settings);
      assert.deepEqual(again.started, ['2024-03-01T02']);
      const done = apply(again.state, succeeded('2024-03-01T02'));
      assert.equal(nextMove(done, false), 'complete');
      assert.equal(finalStatus(done), 'completed-with-failures');
    });
  });

  describe('dry run', () => {
    it('counts the hours it would run, lists the first 100, and starts none', () => {
      const settings = settingsFor({ from: '2024-03-01T00', to: '2024-03-06T23', mode: 'all', dryRun: true });
      const { state, started } = fill(initialBackfillState(settings, NOW), settings);
      assert.deepEqual(started, []);
      assert.equal(state.wouldRunCount, 144);
      assert.equal(state.wouldRun.length, 100);
      assert.equal(state.wouldRun[0], '2024-03-01T00');
      assert.equal(nextMove(state, false), 'complete');
      const result = resultOf(state, settings, NOW);
      assert.equal(result.pending, 0, 'hours counted by a dry run are not pending');
      assert.equal(result.succeeded, 0);
      assert.deepEqual(result.wouldRun, state.wouldRun);
    });
  });

  describe('continue-as-new', () => {
    it('carries everything steering changed, not the drained running set, and survives a JSON round trip', () => {
      const settings = settingsFor({ from: '2024-03-01T00', to: '2024-03-08T03', concurrency: 2 });
      let state = fill(initialBackfillState(settings, NOW), settings).state;
      state = apply(
        state,
        { type: 'setConcurrency', concurrency: 5 },
        { type: 'skip', hours: ['2024-03-08T01'] },
        succeeded('2024-03-01T00'),
        failed('2024-03-01T01'),
        { type: 'pause' },
        { type: 'continuingAsNew' },
      );
      const carried = toCarried(state);
      assert.equal('running' in carried, false);
      assert.equal(carried.continuedAsNew, 1);
      const resumed = fromCarried(JSON.parse(JSON.stringify(carried)));
      assert.deepEqual(resumed, { ...state, running: [] });
      assert.equal(resumed.concurrency, 5);
      assert.equal(resumed.paused, true);
      assert.deepEqual(resumed.skipRequested, ['2024-03-08T01']);
      assert.equal(resumed.startedAtMs, NOW, 'throughput and duration count from the first run');
    });
  });

  describe('progress', () => {
    it('counts every hour once, sorts running and failed hours, and estimates from succeeded hours per minute', () => {
      const settings = settingsFor({ concurrency: 2 });
      let state = fill(initialBackfillState(settings, NOW), settings).state;
      state = apply(state, succeeded('2024-03-01T00'));
      state = fill(state, settings).state;
      state = apply(state, failed('2024-03-01T02', 'Timeout: took too long'), { type: 'skip', hours: ['2024-03-01T05'] });
      state = fill(state, settings).state;
      const p = progressOf(state, settings, NOW + 2 * MINUTE);
      assert.deepEqual(
        { total: p.total, pending: p.pending, running: p.running, succeeded: p.succeeded, failed: p.failed, skipped: p.skipped },
        { total: 6, pending: 1, running: 2, succeeded: 1, failed: 1, skipped: 1 },
      );
      assert.deepEqual(p.runningHours, ['2024-03-01T01', '2024-03-01T03']);
      assert.deepEqual(p.failedHours, [{ hour: '2024-03-01T02', reason: 'Timeout: took too long' }]);
      assert.equal(p.throughputPerMinute, 0.5);
      assert.equal(p.etaSeconds, 360, '3 hours pending or running at 0.5 per minute');
      assert.equal(progressOf(initialBackfillState(settings, NOW), settings, NOW).etaSeconds, null, 'no estimate before anything succeeded');
    });
  });

  describe('update validators', () => {
    it('setConcurrency rejects anything but a whole number from 1 to 64, naming its argument', () => {
      for (const bad of [0, 65, 2.5, '3', null]) {
        assert.throws(() => assertConcurrencyArgument(bad), /^Error: setConcurrency argument must be a whole number from 1 to 64; got /);
      }
      assert.doesNotThrow(() => assertConcurrencyArgument(64));
    });

    it('skip takes a non-empty array of well-formed hours, naming the bad one', () => {
      assert.throws(() => assertSkipHours([]), /skip takes a non-empty array of hours like \["2024-03-01T07"\]/);
      assert.throws(() => assertSkipHours('2024-03-01T07'), /skip takes a non-empty array/);
      assert.throws(() => assertSkipHours(['2024-03-01T07', '2024-02-30T00']), /skip hour '2024-02-30T00': day must be 01-29/);
      assert.doesNotThrow(() => assertSkipHours(['2024-03-01T07']));
    });
  });
});
