/**
 * A configurable fault layer around the QueryEngine port, for the reliability tests only: it is
 * never wired into a production code path (workers/ and cli/ never import it). It wraps a real
 * engine and, per plan, makes some queries end FAILED (retryably, or non-retryably for chosen
 * hours) and throttles status calls, the ways Athena misbehaves, so the pipeline's retry,
 * reattach and epoch logic can be proven end to end against the real adapters.
 *
 * Decisions are deterministic (seeded hashes, not Math.random), so a failing run can be replayed.
 */
import { createHash, randomUUID } from 'node:crypto';
import { PipelineError } from '../../../core/errors';
import type { QueryEngine, QueryRequest, QueryStatus } from '../../../lake/ports';

export interface EngineFaultPlan {
  /** Mixed into every decision; change it to get a different (but again reproducible) fault pattern. */
  seed?: number;
  /** Fraction (0-1) of submitted queries that end FAILED with a retryable reason (Athena: Retryable, category 1). */
  retryableFailureRate?: number;
  /**
   * A statement for one hour fails at most this many times in a row (default 2): the polled-query
   * profile allows 6 attempts, so a rate-based fault never turns into a permanent one by bad luck.
   */
  maxConsecutiveFailures?: number;
  /** Hours ('YYYY-MM-DDTHH') whose every query ends FAILED non-retryably (category 2, user error), with this reason. */
  nonRetryableHours?: Record<string, string>;
  /** Status calls beyond this rate throw a retryable Throttled error (a token bucket shared by all queries). */
  statusRateLimit?: { perSecond: number; burst: number };
  /** How long an injected failure stays RUNNING before it ends FAILED (default 50 ms), so polling sees it run. */
  failAfterMs?: number;
}

export interface EngineFaultStats {
  /** Queries created by start() (injected or passed through), excluding idempotent re-starts. */
  submitted: number;
  injectedRetryable: number;
  injectedNonRetryable: number;
  throttledStatusCalls: number;
}

export type FaultyQueryEngine = QueryEngine & { readonly stats: EngineFaultStats };

interface InjectedQuery {
  id: string;
  submittedAt: number;
  endsAt: number;
  reason: string;
  retryable: boolean;
  cancelled: boolean;
}

const HIVE_HOUR = /year=(\d{4})\/month=(\d{2})\/day=(\d{2})\/hour=(\d{2})/;

/** Wraps `engine` with the faults of `plan`; `now` is injectable so unit tests can drive the token bucket. */
export function withEngineFaults(engine: QueryEngine, plan: EngineFaultPlan, now: () => number = Date.now): FaultyQueryEngine {
  const rate = plan.retryableFailureRate ?? 0;
  if (rate < 0 || rate > 1) throw new RangeError(`retryableFailureRate must be 0-1; got ${rate}`);
  const maxConsecutive = plan.maxConsecutiveFailures ?? 2;
  const failAfterMs = plan.failAfterMs ?? 50;
  const seed = plan.seed ?? 1;
  const stats: EngineFaultStats = { submitted: 0, injectedRetryable: 0, injectedNonRetryable: 0, throttledStatusCalls: 0 };

  const injected = new Map<string, InjectedQuery>();
  /** token -> injected query id, so a retried start() with the same token gets the same failed query. */
  const idsByToken = new Map<string, string>();
  /** Tokens decided "pass": a re-start goes to the real engine again, whose own idempotency answers it. */
  const passedTokens = new Set<string>();
  const knownIds = new Set<string>();
  /** statement key (hour + SQL) -> submissions so far and the current run of failures. */
  const perKey = new Map<string, { submissions: number; consecutiveFailures: number }>();
  const bucket = { tokens: plan.statusRateLimit?.burst ?? 0, at: now() };

  const inject = (token: string, reason: string, retryable: boolean): string => {
    const id = `fault-${randomUUID()}`;
    const t = now();
    injected.set(id, { id, submittedAt: t, endsAt: t + failAfterMs, reason, retryable, cancelled: false });
    idsByToken.set(token, id);
    stats.submitted++;
    if (retryable) stats.injectedRetryable++;
    else stats.injectedNonRetryable++;
    return id;
  };

  const passThrough = async (request: QueryRequest): Promise<string> => {
    const id = await engine.start(request);
    if (!knownIds.has(id)) {
      knownIds.add(id);
      stats.submitted++;
    }
    return id;
  };

  const takeStatusToken = (queryId: string): void => {
    const limit = plan.statusRateLimit;
    if (!limit) return;
    const t = now();
    bucket.tokens = Math.min(limit.burst, bucket.tokens + ((t - bucket.at) / 1000) * limit.perSecond);
    bucket.at = t;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return;
    }
    stats.throttledStatusCalls++;
    // The shape of Athena's TooManyRequestsException after classification: retryable, back off.
    throw new PipelineError('Throttled', `fault injected: rate exceeded for status of query ${queryId}; back off and retry`, {
      details: { queryId, injected: true },
    });
  };

  return {
    queriesOutliveWorker: engine.queriesOutliveWorker,
    // A Trino query's takeover must survive the wrapper (injected queries have nothing to hand over).
    handoff: (queryId: string) => (injected.has(queryId) ? undefined : engine.handoff?.(queryId)),
    resume: (queryId: string, handoff: string) => engine.resume?.(queryId, handoff),
    stats,

    async start(request: QueryRequest): Promise<string> {
      const existing = idsByToken.get(request.idempotencyToken);
      if (existing) return existing;
      if (passedTokens.has(request.idempotencyToken)) return passThrough(request);
      const hour = hourOf(request);
      const permanent = hour ? plan.nonRetryableHours?.[hour] : undefined;
      if (permanent !== undefined) return inject(request.idempotencyToken, `fault injected (non-retryable) for hour ${hour}: ${permanent}`, false);

      const key = `${hour ?? 'no-hour'}|${sha(request.sql).slice(0, 12)}`;
      const k = perKey.get(key) ?? { submissions: 0, consecutiveFailures: 0 };
      perKey.set(key, k);
      const n = k.submissions++;
      if (rate > 0 && k.consecutiveFailures < maxConsecutive && fraction(`${seed}|${key}|${n}`) < rate) {
        k.consecutiveFailures++;
        return inject(request.idempotencyToken, `fault injected (retryable) for ${key} submission ${n}: internal engine error, retry the query`, true);
      }
      k.consecutiveFailures = 0;
      passedTokens.add(request.idempotencyToken);
      return passThrough(request);
    },

    async status(queryId: string): Promise<QueryStatus> {
      takeStatusToken(queryId);
      const q = injected.get(queryId);
      if (!q) return engine.status(queryId);
      const t = now();
      const queryStats = { bytesScanned: 0, queueMs: 0, engineMs: Math.min(t, q.endsAt) - q.submittedAt };
      if (q.cancelled) return { state: 'CANCELLED', reason: 'cancelled by the caller', stats: queryStats };
      if (t < q.endsAt) return { state: 'RUNNING', stats: queryStats };
      return { state: 'FAILED', reason: q.reason, retryable: q.retryable, errorCategory: q.retryable ? 1 : 2, stats: queryStats };
    },

    async results(queryId: string): Promise<Record<string, unknown>[]> {
      if (!injected.has(queryId)) return engine.results(queryId);
      throw new PipelineError('QueryFailed', `results of query ${queryId} requested, but it FAILED (fault injected)`, { retryable: false });
    },

    async cancel(queryId: string): Promise<void> {
      const q = injected.get(queryId);
      if (!q) return engine.cancel(queryId);
      if (now() < q.endsAt) q.cancelled = true;
    },
  };
}

/** The hour a statement is about, from the Hive path in any of its s3:// parameters ('YYYY-MM-DDTHH'). */
export function hourOf(request: QueryRequest): string | undefined {
  for (const v of Object.values(request.params)) {
    for (const s of Array.isArray(v) ? v : [v]) {
      const m = typeof s === 'string' ? HIVE_HOUR.exec(s) : null;
      if (m) return `${m[1]}-${m[2]}-${m[3]}T${m[4]}`;
    }
  }
  return undefined;
}

function sha(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** A deterministic number in [0, 1) from a string. */
function fraction(text: string): number {
  return parseInt(sha(text).slice(0, 8), 16) / 0x1_0000_0000;
}
