/**
 * A steerable backfill over an hour range. Hourly children run under the same per-hour workflow
 * IDs the schedule uses, so a backfilled hour and a scheduled hour never run at once. A sliding
 * window keeps `concurrency` children running (a finished child frees its slot at once; nothing
 * waits for the slowest of a batch). Continue-as-new keeps every run's history bounded; the
 * state, including whatever steering changed, is carried across.
 *
 * Every rule of the backfill is in the pure reducer of ./backfillState; this file is the Temporal
 * wiring around it: handlers feed it events, and the main loop plans, starts children, sleeps and
 * continues as new as it decides. The loop's awaits are those of the recorded runs, in the same
 * order, so histories from before the reducer replay unchanged.
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
import { parseHour } from '../core/hours';
import { rootFailure } from '../core/failureType';
import { hourWorkflowId } from '../core/ids';
import { SA_HOUR, SA_KIND, SA_STATUS, SA_TABLE } from '../core/searchAttributes';
import { quickLakeCall } from './activityProfiles';
import { validateBackfillInput, type BackfillInput, type BackfillProgress, type BackfillResult, type BackfillState } from '../core/contracts/backfill';
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
  type BackfillTransition,
  type ChildOutcome,
} from './backfillState';
import { hourlyPipelineWorkflow } from './hourlyPipeline';

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
  let state = carried ? fromCarried(carried) : initialBackfillState(settings, Date.now());
  upsertSearchAttributes([
    { key: SA_KIND, value: 'backfill' },
    { key: SA_TABLE, value: settings.table },
    { key: SA_HOUR, value: settings.from },
    { key: SA_STATUS, value: liveStatus(state) },
  ]);
  let changed = 0; // bumped on every event; the main loop waits for it
  const dispatch = (event: BackfillEvent): BackfillTransition => {
    const transition = backfillReducer(state, event);
    state = transition.state;
    if (transition.status) upsertSearchAttributes([{ key: SA_STATUS, value: transition.status }]);
    changed++;
    return transition;
  };

  setHandler(progressQuery, () => progressOf(state, settings, Date.now()));
  setHandler(pauseSignal, () => void dispatch({ type: 'pause' }));
  setHandler(resumeSignal, () => void dispatch({ type: 'resume' }));
  setHandler(retryFailedSignal, () => {
    const { reply: count } = dispatch({ type: 'retryFailed' });
    log.info('retrying failed hours', { count });
  });
  setHandler(setConcurrencyUpdate, (concurrency) => dispatch({ type: 'setConcurrency', concurrency }).reply!, {
    validator: assertConcurrencyArgument,
  });
  setHandler(skipUpdate, (hours) => dispatch({ type: 'skip', hours }).reply!, { validator: assertSkipHours });

  const refillQueue = async (): Promise<void> => {
    const request = nextPlanRequest(state, settings.to);
    if (!request) return;
    const plan = await planner.planBackfillHours({ from: request.from, count: request.count, mode: settings.mode });
    dispatch({ type: 'planned', request, plan });
  };

  // takeNext has already counted `hour` as running. startChild is the first await, as it was when
  // the recorded histories ran, so their commands replay in the same order.
  const runChild = async (hour: string): Promise<void> => {
    let outcome: ChildOutcome;
    try {
      const child = await startChild(hourlyPipelineWorkflow, {
        workflowId: hourWorkflowId(settings.table, parseHour(hour)),
        args: [{ hour, rawWait: settings.rawWait, priority: 'backfill' }],
        // A finished hour may be run again by a later backfill; a running one is never joined twice.
        workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      });
      await child.result();
      outcome = { type: 'succeeded' };
    } catch (err) {
      // Held by the schedule or another starter: deferred, tried again later.
      outcome = err instanceof WorkflowExecutionAlreadyStartedError ? { type: 'deferred' } : { type: 'failed', reason: failureReason(err) };
    }
    dispatch({ type: 'childFinished', hour, outcome });
  };

  for (;;) {
    const overBudget = workflowInfo().historyLength > settings.historyBudget || workflowInfo().continueAsNewSuggested;
    // Fill the window: one free slot, one new child.
    while (windowHasRoom(state, overBudget)) {
      await refillQueue();
      // A pause may have arrived while planning.
      if (state.paused || state.queue.length === 0) break;
      const { startChild: hour } = dispatch({ type: 'takeNext', dryRun: settings.dryRun });
      if (hour !== undefined) void runChild(hour);
    }

    const move = nextMove(state, overBudget);
    if (move === 'complete') break;
    if (move === 'retryDeferred') {
      await sleep(DEFERRED_RETRY_MS);
      dispatch({ type: 'deferredTimerFired' });
      continue;
    }
    if (move === 'continueAsNew') {
      await condition(allHandlersFinished);
      dispatch({ type: 'continuingAsNew' });
      await continueAsNew<typeof backfillWorkflow>(input, toCarried(state));
    }
    const seen = changed;
    await condition(() => changed !== seen);
  }

  await condition(allHandlersFinished);
  upsertSearchAttributes([{ key: SA_STATUS, value: finalStatus(state) }]);
  return resultOf(state, settings, Date.now());
}

/** `Type: message` of the failure at the root of the child's chain (core/failureType.ts), as status and metrics name it. */
function failureReason(err: unknown): string {
  const { type, message } = rootFailure(err);
  return `${type}: ${message}`.slice(0, 500);
}
