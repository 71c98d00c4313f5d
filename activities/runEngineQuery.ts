/**
 * The engine protocol every query step uses: start with an idempotency token, poll status with
 * capped exponential backoff, heartbeat the query id on every poll, stop the query when the
 * activity is cancelled.
 *
 * Retries never duplicate queries. A retried attempt (after a worker crash or a heartbeat
 * timeout) reads the query id from its heartbeat details and reattaches. Only when that query
 * ended FAILED, or died with an embedded engine's worker, does it move to a new attempt epoch,
 * whose new token lets the engine accept a new query; so there is at most one engine query per
 * (hour, step, run, epoch).
 */
import { Context, log } from '@temporalio/activity';
import { CancelledFailure } from '@temporalio/common';
import { pollDelayMs, type PollPolicy } from '../config/config';
import { PipelineError } from '../core/errors';
import type { QueryEngine, QueryRequest, QueryStatus } from '../lake/ports';

export interface QueryHeartbeat {
  queryId: string;
  epoch: number;
  polls: number;
  /** The engine's handoff (Trino: the query's next protocol URI), so a retried attempt can take the query over. */
  handoff?: string;
}

export interface CompletedQuery {
  queryId: string;
  status: QueryStatus;
  statusCalls: number;
}


export async function runEngineQuery(
  engine: QueryEngine,
  buildRequest: (epoch: number) => QueryRequest,
  policy: PollPolicy,
): Promise<CompletedQuery> {
  const ctx = Context.current();
  const previous = ctx.info.heartbeatDetails as QueryHeartbeat | undefined;
  let epoch = previous?.epoch ?? 0;
  let queryId: string | undefined = previous?.queryId;
  let statusCalls = 0;

  const beat = (polls: number) => {
    const handoff = engine.handoff?.(queryId!);
    ctx.heartbeat({ queryId: queryId!, epoch, polls, ...(handoff ? { handoff } : {}) } satisfies QueryHeartbeat);
  };

  if (queryId) {
    if (previous?.handoff) engine.resume?.(queryId, previous.handoff);
    const reattach = await statusOrLost(engine, queryId);
    statusCalls++;
    if (!reattach) {
      // The lost query's token is spent (Trino still lists it under that token): a new epoch gives a new one.
      epoch++;
      log.warn('previous query lost with its engine or worker; submitting anew in the next epoch', { queryId, epoch });
      queryId = undefined;
    } else if (reattach.state === 'FAILED' || reattach.state === 'CANCELLED') {
      epoch++;
      log.info('previous attempt ended its query; starting the next epoch', { queryId, state: reattach.state, epoch });
      queryId = undefined;
    } else {
      log.info('reattaching to query', { queryId, state: reattach.state, attempt: ctx.info.attempt });
    }
  }
  if (!queryId) {
    if (engine.queriesOutliveWorker === false) {
      // Whatever an earlier attempt submitted died with its worker (or we could not see it before
      // the crash): a new epoch per attempt means no token is ever submitted twice.
      epoch = Math.max(epoch, ctx.info.attempt - 1);
    }
    queryId = await engine.start(buildRequest(epoch));
    log.info('query started', { queryId, epoch });
  }
  beat(0);

  // An engine that knows when its query ends cuts the poll's sleep short then (bench B1: the sleep
  // past the end was ~17 ms of an hour's orchestration overhead on the embedded engine). Used once:
  // should a status call still say RUNNING after it (a wrapper's view of the query), polling goes
  // back to plain sleeps instead of spinning on a promise that has already resolved.
  let ended = engine.whenEnded?.(queryId);
  let endedSeen = false;
  void ended?.then(() => (endedSeen = true));
  try {
    for (let n = 0; ; n++) {
      // Sleep first: a status call right after start never finds the query done (bench B3: one call fewer per query).
      await pollWait(ctx, pollDelayMs(policy, n), ended); // rejects with CancelledFailure when the activity is cancelled
      statusCalls++;
      const status = await engine.status(queryId);
      beat(n + 1);
      if (endedSeen) ended = undefined;
      if (status.state === 'SUCCEEDED') return { queryId, status, statusCalls };
      if (status.state === 'FAILED') {
        throw new PipelineError('QueryFailed', `query ${queryId} failed: ${status.reason ?? 'no reason given'}`, {
          details: { queryId, reason: status.reason, errorCategory: status.errorCategory },
          retryable: status.retryable,
        });
      }
      if (status.state === 'CANCELLED') {
        throw new PipelineError(
          'QueryCancelled',
          `query ${queryId} was cancelled outside this workflow (${status.reason ?? 'no reason given'}); re-run the hour when ready`,
          { details: { queryId, reason: status.reason } },
        );
      }
    }
  } catch (err) {
    if (err instanceof CancelledFailure) {
      log.info('activity cancelled; stopping query', { queryId });
      await engine.cancel(queryId);
    }
    throw err;
  }
}

/** The poll's sleep, cut short when the engine reports the query ended; cancellation still rejects. */
async function pollWait(ctx: Context, delayMs: number, ended: Promise<void> | undefined): Promise<void> {
  const sleep = ctx.sleep(delayMs);
  if (!ended) return sleep;
  // The losing sleep may still reject later (the activity cancelled after the query ended): that
  // rejection is not this poll's business, the next sleep or status call will see the cancellation.
  sleep.catch(() => undefined);
  await Promise.race([sleep, ended]);
}

async function statusOrLost(engine: QueryEngine, queryId: string): Promise<QueryStatus | undefined> {
  try {
    return await engine.status(queryId);
  } catch (err) {
    if (err instanceof PipelineError && err.type === 'QueryNotFound') return undefined;
    throw err;
  }
}
