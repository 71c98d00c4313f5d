/**
 * Operator calls on a running backfill: read its status and steer it with the workflow's own
 * signal, update and query definitions (workflows/backfill.ts), so names never drift apart.
 */
import {
  WorkflowFailedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import { CancelledFailure, TerminatedFailure } from '@temporalio/common';
import { PipelineError } from '../core/errors';
import { rootFailure } from '../core/failureType';
import {
  pauseSignal,
  progressQuery,
  resumeSignal,
  retryFailedSignal,
  setConcurrencyUpdate,
  skipUpdate,
  type backfillWorkflow,
} from '../workflows/backfill';
import type { BackfillProgress, BackfillResult } from '../core/contracts/backfill';

/** A progress query needs a worker to answer; without one, say so instead of hanging. */
const QUERY_TIMEOUT_MS = 15_000;

export type BackfillRunState = 'running' | 'completed' | 'failed' | 'cancelled' | 'terminated' | 'timed_out';

export interface BackfillStatus {
  workflowId: string;
  runId: string;
  state: BackfillRunState;
  startTime: Date;
  closeTime?: Date;
  /** From the progress query while running, from the result once completed. */
  progress?: BackfillProgress;
  result?: BackfillResult;
  /** Why a closed backfill did not complete. */
  failure?: string;
}

export function backfillHandle(client: Client, workflowId: string): WorkflowHandle<typeof backfillWorkflow> {
  // No run id: every call follows the chain to its latest run across continue-as-new.
  return client.workflow.getHandle<typeof backfillWorkflow>(workflowId);
}

/** Describes the backfill's latest run and reads its progress (running) or result (closed). */
export async function readBackfillStatus(client: Client, workflowId: string): Promise<BackfillStatus> {
  const handle = backfillHandle(client, workflowId);
  const d = await notFoundAsPipelineError(workflowId, () => handle.describe());
  const state = (d.status.name === 'CONTINUED_AS_NEW' ? 'running' : d.status.name.toLowerCase()) as BackfillRunState;
  const status: BackfillStatus = { workflowId, runId: d.runId, state, startTime: d.startTime, closeTime: d.closeTime };
  if (state === 'running') {
    status.progress = await queryProgress(client, handle);
  } else if (state === 'completed') {
    status.result = await handle.result();
    status.progress = status.result;
  } else {
    status.failure = await handle.result().then(
      () => state,
      (err: unknown) => failureText(err),
    );
    // Progress at the moment it stopped, if a worker is there to answer; optional.
    status.progress = await queryProgress(client, handle).catch(() => undefined);
  }
  return status;
}

async function queryProgress(client: Client, handle: WorkflowHandle<typeof backfillWorkflow>): Promise<BackfillProgress> {
  try {
    return await client.withDeadline(Date.now() + QUERY_TIMEOUT_MS, () => handle.query(progressQuery));
  } catch (err) {
    if ((err as { code?: number }).code === 4 /* gRPC DEADLINE_EXCEEDED */ || /deadline/i.test(String((err as Error).message))) {
      throw new PipelineError(
        'TransientBackend',
        `no worker answered the progress query of ${handle.workflowId} within ${QUERY_TIMEOUT_MS / 1000} s; is a worker polling its task queue? (clickstream worker)`,
        { cause: err },
      );
    }
    throw err;
  }
}

export async function pauseBackfill(client: Client, workflowId: string): Promise<void> {
  await notFoundAsPipelineError(workflowId, () => backfillHandle(client, workflowId).signal(pauseSignal));
}

export async function resumeBackfill(client: Client, workflowId: string): Promise<void> {
  await notFoundAsPipelineError(workflowId, () => backfillHandle(client, workflowId).signal(resumeSignal));
}

export async function retryFailedHours(client: Client, workflowId: string): Promise<void> {
  await notFoundAsPipelineError(workflowId, () => backfillHandle(client, workflowId).signal(retryFailedSignal));
}

/** Returns the previous concurrency. An update, not a signal: the workflow's validator can refuse it and the caller hears why. */
export async function setBackfillConcurrency(client: Client, workflowId: string, n: number): Promise<number> {
  return notFoundAsPipelineError(workflowId, () =>
    updateRejectionAsPipelineError(() => backfillHandle(client, workflowId).executeUpdate(setConcurrencyUpdate, { args: [n] })),
  );
}

/** Returns how many queued hours were removed at once (the rest are skipped when planning reaches them). */
export async function skipBackfillHours(client: Client, workflowId: string, hours: string[]): Promise<number> {
  return notFoundAsPipelineError(workflowId, () =>
    updateRejectionAsPipelineError(() => backfillHandle(client, workflowId).executeUpdate(skipUpdate, { args: [hours] })),
  );
}

/** Temporal cancellation: it reaches the running hourly children, whose engine queries are stopped. */
export async function cancelBackfill(client: Client, workflowId: string): Promise<void> {
  await notFoundAsPipelineError(workflowId, () => backfillHandle(client, workflowId).cancel());
}

function failureText(err: unknown): string {
  if (err instanceof WorkflowFailedError) {
    if (err.cause instanceof CancelledFailure) return 'cancelled';
    if (err.cause instanceof TerminatedFailure) return `terminated${err.cause.message ? `: ${err.cause.message}` : ''}`;
    if (!err.cause) return err.message;
    const { type, message } = rootFailure(err.cause);
    return `${type}: ${message}`;
  }
  return (err as Error).message ?? String(err);
}

async function notFoundAsPipelineError<T>(workflowId: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) {
      // Signals and updates to a closed workflow land here too: there is nothing left to steer.
      throw new PipelineError(
        'EntityNotFound',
        `no running backfill '${workflowId}' (${err.message}); list backfills with: temporal workflow list --query 'ClickstreamKind="backfill"'`,
        { cause: err },
      );
    }
    throw err;
  }
}

async function updateRejectionAsPipelineError<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) {
      throw new PipelineError('InvalidInput', `the backfill refused the update: ${(err.cause as Error | undefined)?.message ?? err.message}`, { cause: err });
    }
    throw err;
  }
}
