/**
 * Where a query activity's time goes beyond the engine's own: a QueryEngine that forwards every
 * call to the real one and notes when start() was called and when status() first answered
 * SUCCEEDED, in wall-clock ms (the clock the server's history timestamps use on this machine).
 * With the activity's started and completed times from the history, a query activity splits into
 * before the submission, queue + engine time (the engine's own stats), detection (engine done ->
 * the status call that saw it: the poll policy's sleep) and after it (results, completion).
 */
import type { QueryEngine } from '../../lake/ports';

export interface QueryTimes {
  queryId: string;
  startCalledAt: number;
  /** When the status call that saw SUCCEEDED returned. */
  succeededSeenAt?: number;
  /** The engine's own queue + run time for the query, ms. */
  queueAndEngineMs?: number;
  statusCalls: number;
}

/** Wraps `engine`; `drain()` returns the queries recorded since the last drain, in start order. */
export function timedEngine(engine: QueryEngine): { engine: QueryEngine; drain(): QueryTimes[] } {
  let recorded: QueryTimes[] = [];
  const byId = new Map<string, QueryTimes>();
  const wrapped = new Proxy(engine, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (prop === 'start') {
        return async (...args: Parameters<QueryEngine['start']>) => {
          const startCalledAt = Date.now();
          const queryId = await target.start(...args);
          const t: QueryTimes = { queryId, startCalledAt, statusCalls: 0 };
          byId.set(queryId, t);
          recorded.push(t);
          return queryId;
        };
      }
      if (prop === 'status') {
        return async (queryId: string) => {
          const status = await target.status(queryId);
          const t = byId.get(queryId);
          if (t) {
            t.statusCalls++;
            if (status.state === 'SUCCEEDED' && t.succeededSeenAt === undefined) {
              t.succeededSeenAt = Date.now();
              t.queueAndEngineMs = (status.stats.queueMs ?? 0) + (status.stats.engineMs ?? 0);
            }
          }
          return status;
        };
      }
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return {
    engine: wrapped,
    drain() {
      const out = recorded;
      recorded = [];
      for (const t of out) byId.delete(t.queryId);
      return out;
    },
  };
}
