/**
 * The backfill's state and every way it changes, as a pure reducer: an event in (an operator's
 * signal or update, a planned chunk, a finished child), the new state and what the workflow must
 * do out. No Temporal import, no I/O, no clock (the time is an argument), and the state given is
 * never mutated, so every rule of the backfill is unit-tested without a server
 * (test/unit/workflows/backfillState.test.ts) and workflows/backfill.ts is only wiring.
 */
import { assertConcurrency, type BackfillProgress, type BackfillResult, type BackfillSettings, type BackfillState, type PlannedChunk } from '../core/contracts/backfill';
import { addHours, formatHour, hourCount, parseHour } from '../core/hours';

/** Planning reads the catalog and raw listings a week at a time. */
export const PLAN_CHUNK_HOURS = 168;
/** A dry run's result lists this many of the hours it would run (and counts them all). */
export const WOULD_RUN_SHOWN = 100;

export type { PlannedChunk };

/** One run's state: what continue-as-new carries, plus the hours whose children are running now. */
export interface BackfillRunState extends BackfillState {
  /** Hours with a child started and not yet finished; never carried, since a run drains them first. */
  running: string[];
}

/** The next chunk to plan: planBackfillHours' input, and where the cursor goes once it is planned. */
export interface PlanRequest {
  from: string;
  count: number;
  /** null once this chunk reaches the end of the range. */
  nextCursor: string | null;
}

export type ChildOutcome =
  | { type: 'succeeded' }
  | { type: 'failed'; reason: string }
  /** Another run holds the hour's workflow ID (the schedule, or a second starter): retried later. */
  | { type: 'deferred' };

export type BackfillEvent =
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'retryFailed' }
  | { type: 'setConcurrency'; concurrency: number }
  | { type: 'skip'; hours: string[] }
  | { type: 'planned'; request: PlanRequest; plan: PlannedChunk }
  /** The window has a free slot: take the queue's first hour (a dry run only counts it). */
  | { type: 'takeNext'; dryRun: boolean }
  | { type: 'childFinished'; hour: string; outcome: ChildOutcome }
  /** The deferred-retry timer fired: deferred hours go back to the end of the queue. */
  | { type: 'deferredTimerFired' }
  | { type: 'continuingAsNew' };

export interface BackfillTransition {
  state: BackfillRunState;
  /** takeNext: the hour whose child the workflow starts now. */
  startChild?: string;
  /** pause and resume: the status search attribute to set. */
  status?: BackfillStatus;
  /** setConcurrency: the previous concurrency; skip: hours newly skipped; retryFailed: hours requeued. */
  reply?: number;
}

export type BackfillStatus = 'running' | 'paused' | 'completed' | 'completed-with-failures';

/** What the main loop does once the window is as full as it may be. */
export type NextMove =
  /** Nothing left to plan, queue or run, and nothing deferred. */
  | 'complete'
  /** Only deferred hours are left: wait, then requeue them. */
  | 'retryDeferred'
  /** History is over budget and every child has finished: continue as new. */
  | 'continueAsNew'
  /** Wait for the next event (a child finishing, a signal, an update). */
  | 'awaitEvent';

/** A fresh backfill's state: the cursor at `from`, the input's concurrency, nothing done. */
export function initialBackfillState(settings: Pick<BackfillSettings, 'from' | 'concurrency'>, nowMs: number): BackfillRunState {
  return fromCarried({
    cursor: settings.from,
    queue: [],
    deferred: [],
    succeeded: 0,
    skipped: 0,
    failedHours: {},
    skipRequested: [],
    concurrency: settings.concurrency,
    paused: false,
    startedAtMs: nowMs,
    continuedAsNew: 0,
    wouldRun: [],
    wouldRunCount: 0,
  });
}

/** The state a continued run starts from: what the previous run carried, with nothing running. */
export function fromCarried(carried: BackfillState): BackfillRunState {
  return { ...carried, running: [] };
}

/** What continue-as-new carries: everything but the (drained) running set. */
export function toCarried(state: BackfillRunState): BackfillState {
  const { running: _drained, ...carried } = state;
  return carried;
}

export function backfillReducer(state: BackfillRunState, event: BackfillEvent): BackfillTransition {
  switch (event.type) {
    case 'pause':
      return { state: { ...state, paused: true }, status: 'paused' };
    case 'resume':
      return { state: { ...state, paused: false }, status: 'running' };
    case 'retryFailed': {
      // Failed hours go first, in hour order, so a retry is not stuck behind the rest of the range.
      const hours = Object.keys(state.failedHours).sort();
      return { state: { ...state, failedHours: {}, queue: [...hours, ...state.queue] }, reply: hours.length };
    }
    case 'setConcurrency':
      return { state: { ...state, concurrency: event.concurrency }, reply: state.concurrency };
    case 'skip':
      return skip(state, event.hours);
    case 'planned': {
      const failedHours = { ...state.failedHours };
      for (const f of event.plan.failed) failedHours[f.hour] = f.reason;
      return {
        state: {
          ...state,
          cursor: event.request.nextCursor,
          skipped: state.skipped + event.plan.skipped.length,
          failedHours,
          queue: [...state.queue, ...event.plan.run],
        },
      };
    }
    case 'takeNext':
      return takeNext(state, event.dryRun);
    case 'childFinished':
      return { state: childFinished(state, event.hour, event.outcome) };
    case 'deferredTimerFired':
      return { state: { ...state, queue: [...state.queue, ...state.deferred], deferred: [] } };
    case 'continuingAsNew':
      return { state: { ...state, continuedAsNew: state.continuedAsNew + 1 } };
  }
}

/** A queued hour is dropped now; one not planned yet is dropped when the cursor reaches it; a running one runs on. */
function skip(state: BackfillRunState, hours: string[]): BackfillTransition {
  const queue = [...state.queue];
  const skipRequested = [...state.skipRequested];
  let newlySkipped = 0;
  for (const h of hours) {
    const queued = queue.indexOf(h);
    if (queued >= 0) {
      queue.splice(queued, 1);
      newlySkipped++;
    } else if (!state.running.includes(h) && !skipRequested.includes(h)) {
      skipRequested.push(h);
    }
  }
  return { state: { ...state, queue, skipRequested, skipped: state.skipped + newlySkipped }, reply: newlySkipped };
}

function takeNext(state: BackfillRunState, dryRun: boolean): BackfillTransition {
  const [next, ...queue] = state.queue;
  if (next === undefined) return { state };
  if (state.skipRequested.includes(next)) {
    return { state: { ...state, queue, skipRequested: state.skipRequested.filter((h) => h !== next), skipped: state.skipped + 1 } };
  }
  if (dryRun) {
    const wouldRun = state.wouldRun.length < WOULD_RUN_SHOWN ? [...state.wouldRun, next] : state.wouldRun;
    return { state: { ...state, queue, wouldRun, wouldRunCount: state.wouldRunCount + 1 } };
  }
  const running = state.running.includes(next) ? state.running : [...state.running, next];
  return { state: { ...state, queue, running }, startChild: next };
}

function childFinished(state: BackfillRunState, hour: string, outcome: ChildOutcome): BackfillRunState {
  const next = { ...state, running: state.running.filter((h) => h !== hour) };
  switch (outcome.type) {
    case 'succeeded':
      return { ...next, succeeded: state.succeeded + 1 };
    case 'failed':
      return { ...next, failedHours: { ...state.failedHours, [hour]: outcome.reason } };
    case 'deferred':
      return { ...next, deferred: [...state.deferred, hour] };
  }
}

/** The chunk to plan before taking the next hour, or undefined while the queue has hours or the range is planned. */
export function nextPlanRequest(state: BackfillRunState, to: string): PlanRequest | undefined {
  if (state.queue.length > 0 || state.cursor === null) return undefined;
  const from = parseHour(state.cursor);
  const remaining = hourCount(from, parseHour(to));
  const count = Math.min(PLAN_CHUNK_HOURS, remaining);
  return { from: state.cursor, count, nextCursor: count < remaining ? formatHour(addHours(from, count)) : null };
}

/** Whether the window may start another child: not paused, not over the history budget, a free slot. */
export function windowHasRoom(state: BackfillRunState, overBudget: boolean): boolean {
  return !state.paused && !overBudget && state.running.length < state.concurrency;
}

export function nextMove(state: BackfillRunState, overBudget: boolean): NextMove {
  const exhausted = state.cursor === null && state.queue.length === 0;
  if (exhausted && state.running.length === 0) return state.deferred.length === 0 ? 'complete' : 'retryDeferred';
  // Running children are drained first: a child would not survive its parent continuing as new.
  if (overBudget && state.running.length === 0) return 'continueAsNew';
  return 'awaitEvent';
}

/** The status search attribute while the backfill runs. */
export function liveStatus(state: BackfillRunState): BackfillStatus {
  return state.paused ? 'paused' : 'running';
}

/** The status search attribute a finished backfill leaves. */
export function finalStatus(state: BackfillRunState): BackfillStatus {
  return Object.keys(state.failedHours).length ? 'completed-with-failures' : 'completed';
}

/** The progress query's answer at `nowMs`; throughput counts succeeded hours per minute since the backfill started. */
export function progressOf(state: BackfillRunState, settings: BackfillSettings, nowMs: number): BackfillProgress {
  const failed = Object.keys(state.failedHours).length;
  const running = state.running.length;
  const done = state.succeeded + failed + state.skipped;
  const elapsedMin = Math.max(1e-9, (nowMs - state.startedAtMs) / 60_000);
  const throughput = state.succeeded / elapsedMin;
  // A dry run's counted hours are neither pending nor done.
  const pending = Math.max(0, settings.total - done - running - (settings.dryRun ? state.wouldRunCount : 0));
  return {
    from: settings.from,
    to: settings.to,
    mode: settings.mode,
    dryRun: settings.dryRun,
    total: settings.total,
    pending,
    running,
    succeeded: state.succeeded,
    failed,
    skipped: state.skipped,
    runningHours: [...state.running].sort(),
    failedHours: Object.entries(state.failedHours)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([hour, reason]) => ({ hour, reason })),
    concurrency: state.concurrency,
    paused: state.paused,
    throughputPerMinute: Math.round(throughput * 100) / 100,
    etaSeconds: throughput > 0 ? Math.round(((pending + running) / throughput) * 60) : null,
    continuedAsNew: state.continuedAsNew,
  };
}

/** The workflow's result: the final progress, how long the whole chain of runs took, and a dry run's hours. */
export function resultOf(state: BackfillRunState, settings: BackfillSettings, nowMs: number): BackfillResult {
  const result: BackfillResult = { ...progressOf(state, settings, nowMs), status: 'completed', durationMs: nowMs - state.startedAtMs };
  if (settings.dryRun) result.wouldRun = state.wouldRun;
  return result;
}

/** The setConcurrency update's validator: the error names the argument. */
export function assertConcurrencyArgument(n: unknown): void {
  assertConcurrency(n, 'setConcurrency argument');
}

/** The skip update's validator: a non-empty array of well-formed hours, or an error naming the bad one. */
export function assertSkipHours(hours: unknown): void {
  if (!Array.isArray(hours) || hours.length === 0) throw new Error('skip takes a non-empty array of hours like ["2024-03-01T07"]');
  for (const h of hours) parseHour(h, 'skip hour');
}
