/**
 * Counts what the pipeline asks of a QueryEngine, on the test side of the port, so the adapters
 * carry no counters "for tests". The engine is wrapped where a test builds its backend (or its
 * engine), and everything else of the engine (runNow, handoff, resultPages, clients...) stays
 * reachable with its own type.
 */
import type { QueryEngine } from '../../lake/ports';

export interface EngineCounts {
  /** start() calls, reattachments included: on Athena one StartQueryExecution each. */
  starts: number;
  /**
   * Starts that returned a query id no engine sharing this registry had returned before: a
   * statement the engine really submitted, not a start that found the query of the same token.
   */
  submissions: number;
  /** status() calls: on Athena one GetQueryExecution each. */
  statusCalls: number;
}

export type CountedEngine<E extends QueryEngine> = E & { readonly counts: EngineCounts };

/**
 * Wraps `engine` so its start and status calls are counted in `counts`. Engines standing for
 * successive workers of one test share `seenIds`, so a worker that reattaches to its
 * predecessor's query is not counted as submitting it.
 */
export function countingEngine<E extends QueryEngine>(engine: E, seenIds: Set<string> = new Set()): CountedEngine<E> {
  const counts: EngineCounts = { starts: 0, submissions: 0, statusCalls: 0 };
  const start: QueryEngine['start'] = async (request) => {
    counts.starts++;
    const queryId = await engine.start(request);
    if (!seenIds.has(queryId)) counts.submissions++;
    seenIds.add(queryId);
    return queryId;
  };
  const status: QueryEngine['status'] = (queryId) => {
    counts.statusCalls++;
    return engine.status(queryId);
  };
  // A Proxy, not a spread: methods stay bound to the real engine (its private state), and the
  // engine-specific ones the tests call keep working without being listed here.
  return new Proxy(engine, {
    get(target, prop) {
      if (prop === 'counts') return counts;
      if (prop === 'start') return start;
      if (prop === 'status') return status;
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  }) as CountedEngine<E>;
}
