/**
 * A steerable backfill over an hour range. Hourly children run under the same per-hour workflow
 * IDs the schedule uses, so a backfilled hour and a scheduled hour never run at once. A sliding
 * window keeps `concurrency` children running (a finished child frees its slot at once; nothing
 * waits for the slowest of a batch). Continue-as-new keeps every run's history bounded; the
 * state, including whatever steering changed, is carried across.
 */
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy } from '@temporalio/common';
import {
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
import { addHours, formatHour, hourCount, parseHour } from '../core/hours';
import { rootFailure } from '../core/failureType';
import { hourWorkflowId } from '../core/ids';
import { SA_HOUR, SA_KIND, SA_STATUS, SA_TABLE } from '../core/searchAttributes';
import { quickLakeCall } from './activityProfiles';
import {
  assertConcurrency,
  validateBackfillInput,
  type BackfillInput,
  type BackfillProgress,
  type BackfillResult,
  type BackfillState,
} from '../core/contracts/backfill';
import { hourlyPipelineWorkflow } from './hourlyPipeline';

/** Planning reads the catalog and raw listings a week at a time. */
const PLAN_CHUNK_HOURS = 168;
/** A deferred hour (its ID held by a scheduled run) is retried after this long. */
const DEFERRED_RETRY_MS = 10_000;

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



