/**
 * A steerable backfill over an hour range. Hourly children run under the same per-hour workflow
 * IDs the schedule uses, so a backfilled hour and a scheduled hour never run at once. A sliding
 * window keeps `concurrency` children running (a finished child frees its slot at once; nothing
 * waits for the slowest of a batch). Continue-as-new keeps every run's history bounded; the
 * state, including whatever steering changed, is carried across.
 */
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy } from '@temporalio/common';
import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  defineUpdate,
  log,
  proxyActivities,
  setHandler,
  sleep,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { PipelineActivities } from '../activities';
import { addHours, formatHour, hourCount, HourFormatError, hourStartMs, parseHour, parsePastHour } from '../core/hours';
import { BACKFILL_MODES, DEFAULT_CONCURRENCY, HARD_MAX_BACKFILL_HOURS, isBackfillMode, MAX_BACKFILL_HOURS, MAX_CONCURRENCY } from '../core/backfillContract';
import { rootFailure } from '../core/failureType';
import { DEFAULT_CURATED_TABLE, hourWorkflowId, SQL_IDENTIFIER } from '../core/ids';
import { SA_HOUR, SA_KIND, SA_STATUS, SA_TABLE } from '../core/searchAttributes';
import { quickLakeCall } from './activityProfiles';
import type { BackfillInput, BackfillMode, BackfillProgress, BackfillResult, BackfillState } from './backfillTypes';
import { hourlyPipelineWorkflow } from './hourlyPipeline';
import type { RawWaitSettings } from './types';

/** Planning reads the catalog and raw listings a week at a time. */
const PLAN_CHUNK_HOURS = 168;
/**
 * Continue as new once history passes this many events: with draining (≈6 events per running
 * child) and the 64-child maximum, a run still ends well under the 4,096-event target.
 */
const MAX_HISTORY_BUDGET = 3_000;
const MIN_HISTORY_BUDGET = 200;
/** A deferred hour (its ID held by a scheduled run) is retried after this long. */
const DEFERRED_RETRY_MS = 10_000;
const BACKFILL_RAW_WAIT: RawWaitSettings = { timeoutSeconds: 0, recheckSeconds: 1 };

export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');
export const retryFailedSignal = defineSignal('retryFailed');
export const setConcurrencyUpdate = defineUpdate<number, [number]>('setConcurrency');
export const skipUpdate = defineUpdate<number, [string[]]>('skip');
export const progressQuery = defineQuery<BackfillProgress>('progress');

const planner = proxyActivities<PipelineActivities>(quickLakeCall);

/** Runs the hourly pipeline for every selected hour of [from, to]; steer with pause/resume/setConcurrency/retryFailed/skip. */
export async function backfillWorkflow(input: BackfillInput, carried?: BackfillState): Promise<BackfillResult> {
  const settings = validateBackfillInput(input, Date.now());
  const state: BackfillState = carried ?? {
    cursor: settings.from,
    queue: [],
    deferred: [],
    succeeded: 0,
    skipped: 0,
    failedHours: {},
    skipRequested: [],
    concurrency: settings.concurrency,
    paused: false,
    startedAtMs: Date.now(),
    continuedAsNew: 0,
    wouldRun: [],
    wouldRunCount: 0,
  };
  upsertSearchAttributes([
    { key: SA_KIND, value: 'backfill' },
    { key: SA_TABLE, value: settings.table },
    { key: SA_HOUR, value: settings.from },
    { key: SA_STATUS, value: state.paused ? 'paused' : 'running' },
  ]);
  const running = new Set<string>();
  const skipRequested = new Set(state.skipRequested);
  let changed = 0; // bumped on every state change; the main loop waits for it
  const touch = () => void changed++;

  const progress = (): BackfillProgress => {
    const failed = Object.keys(state.failedHours).length;
    const done = state.succeeded + failed + state.skipped;
    const elapsedMin = Math.max(1e-9, (Date.now() - state.startedAtMs) / 60_000);
    const throughput = state.succeeded / elapsedMin;
    const pending = Math.max(0, settings.total - done - running.size - (settings.dryRun ? state.wouldRunCount : 0));
    return {
      from: settings.from,
      to: settings.to,
      mode: settings.mode,
      dryRun: settings.dryRun,
      total: settings.total,
      pending,
      running: running.size,
      succeeded: state.succeeded,
      failed,
      skipped: state.skipped,
      runningHours: [...running].sort(),
      failedHours: Object.entries(state.failedHours)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([hour, reason]) => ({ hour, reason })),
      concurrency: state.concurrency,
      paused: state.paused,
      throughputPerMinute: Math.round(throughput * 100) / 100,
      etaSeconds: throughput > 0 ? Math.round(((pending + running.size) / throughput) * 60) : null,
      continuedAsNew: state.continuedAsNew,
    };
  };

  setHandler(progressQuery, progress);
  setHandler(pauseSignal, () => {
    state.paused = true;
    upsertSearchAttributes([{ key: SA_STATUS, value: 'paused' }]);
    touch();
  });
  setHandler(resumeSignal, () => {
    state.paused = false;
    upsertSearchAttributes([{ key: SA_STATUS, value: 'running' }]);
    touch();
  });
  setHandler(retryFailedSignal, () => {
    const hours = Object.keys(state.failedHours).sort();
    for (const h of hours) delete state.failedHours[h];
    state.queue.unshift(...hours);
    log.info('retrying failed hours', { count: hours.length });
    touch();
  });
  setHandler(
    setConcurrencyUpdate,
    (n) => {
      const previous = state.concurrency;
      state.concurrency = n;
      touch();
      return previous;
    },
    { validator: (n) => assertConcurrency(n, 'setConcurrency argument') },
  );
  setHandler(
    skipUpdate,
    (hours) => {
      let newlySkipped = 0;
      for (const h of hours) {
        const queued = state.queue.indexOf(h);
        if (queued >= 0) {
          state.queue.splice(queued, 1);
          state.skipped++;
          newlySkipped++;
        } else if (!running.has(h)) {
          skipRequested.add(h); // not planned yet: skipped when the cursor reaches it
        }
      }
      touch();
      return newlySkipped;
    },
    {
      validator: (hours) => {
        if (!Array.isArray(hours) || hours.length === 0) throw new Error('skip takes a non-empty array of hours like ["2024-03-01T07"]');
        for (const h of hours) parseHour(h, 'skip hour');
      },
    },
  );

  const refillQueue = async (): Promise<void> => {
    if (state.queue.length > 0 || state.cursor === null) return;
    const from = parseHour(state.cursor);
    const remaining = hourCount(from, parseHour(settings.to));
    const count = Math.min(PLAN_CHUNK_HOURS, remaining);
    const plan = await planner.planBackfillHours({ from: state.cursor, count, mode: settings.mode });
    state.cursor = count < remaining ? formatHour(addHours(from, count)) : null;
    state.skipped += plan.skipped.length;
    for (const f of plan.failed) state.failedHours[f.hour] = f.reason;
    state.queue.push(...plan.run);
    touch();
  };

  const runChild = async (hour: string): Promise<void> => {
    running.add(hour);
    touch();
    try {
      const child = await startChild(hourlyPipelineWorkflow, {
        workflowId: hourWorkflowId(settings.table, parseHour(hour)),
        args: [{ hour, rawWait: settings.rawWait, priority: 'backfill' }],
        // A finished hour may be run again by a later backfill; a running one is never joined twice.
        workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      });
      await child.result();
      state.succeeded++;
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        state.deferred.push(hour); // held by the schedule or another starter: try again later
      } else {
        state.failedHours[hour] = failureReason(err);
      }
    } finally {
      running.delete(hour);
      touch();
    }
  };

  for (;;) {
    const overBudget = workflowInfo().historyLength > settings.historyBudget || workflowInfo().continueAsNewSuggested;
    // Fill the window: one free slot, one new child.
    while (!state.paused && !overBudget && running.size < state.concurrency) {
      await refillQueue();
      if (state.paused) break; // a pause may have arrived while planning
      const next = state.queue.shift();
      if (next === undefined) break;
      if (skipRequested.delete(next)) {
        state.skipped++;
        continue;
      }
      if (settings.dryRun) {
        state.wouldRunCount++;
        if (state.wouldRun.length < 100) state.wouldRun.push(next);
        continue;
      }
      void runChild(next);
    }

    const exhausted = state.cursor === null && state.queue.length === 0;
    if (exhausted && running.size === 0) {
      if (state.deferred.length === 0) break;
      await sleep(DEFERRED_RETRY_MS);
      state.queue.push(...state.deferred.splice(0));
      continue;
    }
    if (overBudget && running.size === 0) {
      // Running children are drained first: a child would not survive its parent continuing as new.
      await condition(allHandlersFinished);
      state.skipRequested = [...skipRequested];
      state.continuedAsNew++;
      await continueAsNew<typeof backfillWorkflow>(input, state);
    }
    const seen = changed;
    await condition(() => changed !== seen);
  }

  await condition(allHandlersFinished);
  upsertSearchAttributes([{ key: SA_STATUS, value: Object.keys(state.failedHours).length ? 'completed-with-failures' : 'completed' }]);
  const result: BackfillResult = { ...progress(), status: 'completed', durationMs: Date.now() - state.startedAtMs };
  if (settings.dryRun) result.wouldRun = state.wouldRun;
  return result;
}

/** `Type: message` of the failure at the root of the child's chain (core/failureType.ts), as status and metrics name it. */
function failureReason(err: unknown): string {
  const { type, message } = rootFailure(err);
  return `${type}: ${message}`.slice(0, 500);
}

function assertConcurrency(n: unknown, field: string): void {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_CONCURRENCY) {
    throw new Error(`${field} must be a whole number from 1 to ${MAX_CONCURRENCY}; got ${JSON.stringify(n)}`);
  }
}

interface BackfillSettings {
  from: string;
  to: string;
  total: number;
  concurrency: number;
  mode: BackfillMode;
  dryRun: boolean;
  table: string;
  rawWait: RawWaitSettings;
  historyBudget: number;
}

/** Every problem with the input, in one non-retryable InvalidInput failure, before anything runs. */
export function validateBackfillInput(input: BackfillInput, nowMs: number): BackfillSettings {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw ApplicationFailure.nonRetryable(
      `backfill input must be a JSON object like {"from": "2024-03-01T00", "to": "2024-03-02T23", "concurrency": 4}; got ${JSON.stringify(input)}`,
      'InvalidInput',
    );
  }
  const problems: string[] = [];
  const hourField = (name: 'from' | 'to') => {
    try {
      return parsePastHour(input[name], nowMs, name);
    } catch (err) {
      if (err instanceof HourFormatError) problems.push(err.message);
      else throw err;
      return undefined;
    }
  };
  const from = hourField('from');
  const to = hourField('to');
  let total = 0;
  if (from && to) {
    total = hourCount(from, to);
    if (hourStartMs(to) < hourStartMs(from)) problems.push(`to ${input.to} is before from ${input.from}; the range is inclusive, from <= to`);
    else if (total > HARD_MAX_BACKFILL_HOURS) problems.push(`range of ${total} hours is over the hard limit of ${HARD_MAX_BACKFILL_HOURS}; split it`);
    else if (total > MAX_BACKFILL_HOURS && input.allowLargeRange !== true) {
      problems.push(`range of ${total} hours is over ${MAX_BACKFILL_HOURS} (92 days); set "allowLargeRange": true if you mean it`);
    }
  }
  const concurrency = input.concurrency ?? DEFAULT_CONCURRENCY;
  try {
    assertConcurrency(concurrency, 'concurrency');
  } catch (err) {
    problems.push((err as Error).message);
  }
  const mode = input.mode ?? 'missing';
  if (!isBackfillMode(mode)) problems.push(`mode must be one of ${BACKFILL_MODES.join(', ')}; got ${JSON.stringify(input.mode)}`);
  if (input.dryRun !== undefined && typeof input.dryRun !== 'boolean') problems.push(`dryRun must be true or false; got ${JSON.stringify(input.dryRun)}`);
  const table = input.table ?? DEFAULT_CURATED_TABLE;
  if (typeof table !== 'string' || !SQL_IDENTIFIER.test(table)) problems.push(`table must match [a-z_][a-z0-9_]*; got ${JSON.stringify(input.table)}`);
  const rawWait = input.rawWait ?? BACKFILL_RAW_WAIT;
  if (
    typeof rawWait !== 'object' ||
    !Number.isInteger(rawWait.timeoutSeconds) ||
    rawWait.timeoutSeconds < 0 ||
    !Number.isInteger(rawWait.recheckSeconds) ||
    rawWait.recheckSeconds < 1
  ) {
    problems.push(`rawWait must be {"timeoutSeconds": >= 0, "recheckSeconds": >= 1} (whole seconds); got ${JSON.stringify(input.rawWait)}`);
  }
  const historyBudget = input.historyEventBudget ?? MAX_HISTORY_BUDGET;
  if (!Number.isInteger(historyBudget) || historyBudget < MIN_HISTORY_BUDGET || historyBudget > MAX_HISTORY_BUDGET) {
    problems.push(`historyEventBudget must be a whole number from ${MIN_HISTORY_BUDGET} to ${MAX_HISTORY_BUDGET}; got ${JSON.stringify(input.historyEventBudget)}`);
  }
  if (problems.length > 0) {
    throw ApplicationFailure.nonRetryable(`invalid backfill input:\n  - ${problems.join('\n  - ')}`, 'InvalidInput', { problems });
  }
  return { from: formatHour(from!), to: formatHour(to!), total, concurrency, mode, dryRun: input.dryRun ?? false, table, rawWait, historyBudget };
}
