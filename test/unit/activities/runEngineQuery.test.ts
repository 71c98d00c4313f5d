import assert from 'node:assert/strict';
import { MockActivityEnvironment } from '@temporalio/testing';
import { CancelledFailure } from '@temporalio/common';
import { DefaultLogger } from '@temporalio/worker';
import type { PollPolicy } from '../../../config/config';
import { PipelineError, isRetryable } from '../../../core/errors';
import type { QueryEngine, QueryRequest, QueryState, QueryStatus } from '../../../lake/ports';
import { runEngineQuery, type CompletedQuery, type QueryHeartbeat } from '../../../activities/runEngineQuery';
import { pollDelayMs } from '../../../config/config';

// The loop's info logs are expected; keep test output readable.
const QUIET = new DefaultLogger('ERROR');
const FAST: PollPolicy = { initialMs: 1, maxMs: 4, multiplier: 2 };

/**
 * A scripted engine: each query id walks through a list of states, one per status() call, and
 * stays at the last. Unknown ids throw QueryNotFound like the embedded engine after a restart.
 */
class ScriptedEngine implements QueryEngine {
  readonly started: QueryRequest[] = [];
  readonly statusCalls: string[] = [];
  readonly cancelled: string[] = [];
  private readonly scripts = new Map<string, { states: QueryStatus[]; next: number }>();

  constructor(private readonly newQueryStates: QueryStatus[] = [st('SUCCEEDED')]) {}

  /** Registers an existing query (one a previous attempt started). */
  has(id: string, states: QueryStatus[]): this {
    this.scripts.set(id, { states, next: 0 });
    return this;
  }

  async start(request: QueryRequest): Promise<string> {
    this.started.push(request);
    const id = `q-new-${this.started.length}`;
    this.scripts.set(id, { states: this.newQueryStates, next: 0 });
    return id;
  }

  async status(queryId: string): Promise<QueryStatus> {
    this.statusCalls.push(queryId);
    const s = this.scripts.get(queryId);
    if (!s) throw new PipelineError('QueryNotFound', `query ${queryId} is unknown`);
    const state = s.states[Math.min(s.next, s.states.length - 1)]!;
    s.next++;
    return state;
  }

  async results(): Promise<Record<string, unknown>[]> {
    return [];
  }

  async cancel(queryId: string): Promise<void> {
    this.cancelled.push(queryId);
  }
}

function st(state: QueryState, extra: Partial<QueryStatus> = {}): QueryStatus {
  return { state, stats: { bytesScanned: 100, engineMs: 5, queueMs: 1 }, ...extra };
}

/** A request whose token records the epoch it was built for. */
const build = (epoch: number): QueryRequest => ({ sql: 'SELECT 1', params: {}, idempotencyToken: `token-epoch-${epoch}` });

function envWith(heartbeatDetails?: QueryHeartbeat): { env: MockActivityEnvironment; beats: QueryHeartbeat[] } {
  const env = new MockActivityEnvironment(heartbeatDetails ? { heartbeatDetails, attempt: 2 } : undefined, { logger: QUIET });
  const beats: QueryHeartbeat[] = [];
  env.on('heartbeat', (d: QueryHeartbeat) => beats.push(d));
  return { env, beats };
}

/** Runs the loop inside the mock activity context, as a worker would. */
function runLoop(env: MockActivityEnvironment, engine: QueryEngine, policy: PollPolicy = FAST): Promise<CompletedQuery> {
  return env.run<[], CompletedQuery, () => Promise<CompletedQuery>>(() => runEngineQuery(engine, build, policy));
}

describe('activities/runEngineQuery', () => {
  describe('pollDelayMs', () => {
    it('grows geometrically from the initial delay and is capped', () => {
      const policy: PollPolicy = { initialMs: 50, maxMs: 5000, multiplier: 1.5 };
      const table = [0, 1, 2, 3, 4, 10, 11, 12, 50].map((n) => [n, pollDelayMs(policy, n)]);
      assert.deepEqual(table, [
        [0, 50],
        [1, 75],
        [2, 113], // 112.5 rounded
        [3, 169], // 168.75
        [4, 253], // 253.125
        [10, 2883], // 2883.3
        [11, 4325], // 4325.0
        [12, 5000], // 6487.5 capped
        [50, 5000],
      ]);
    });

    it('a multiplier of 1 polls at a constant rate; initial above max is capped at once', () => {
      assert.deepEqual([0, 1, 9].map((n) => pollDelayMs({ initialMs: 200, maxMs: 1000, multiplier: 1 }, n)), [200, 200, 200]);
      assert.equal(pollDelayMs({ initialMs: 500, maxMs: 100, multiplier: 2 }, 0), 100);
    });

    it('never exceeds the cap, even for huge poll numbers', () => {
      assert.equal(pollDelayMs({ initialMs: 10, maxMs: 300_000, multiplier: 10 }, 10_000), 300_000);
    });
  });

  describe('runEngineQuery', () => {
    it('starts once in epoch 0 and returns after SUCCEEDED, counting status calls and heartbeating the id', async () => {
      const engine = new ScriptedEngine([st('QUEUED'), st('RUNNING'), st('RUNNING'), st('SUCCEEDED', { stats: { bytesScanned: 7, engineMs: 3, queueMs: 2, rows: 9 } })]);
      const { env, beats } = envWith();
      const done = await runLoop(env, engine);
      assert.equal(engine.started.length, 1);
      assert.equal(engine.started[0]!.idempotencyToken, 'token-epoch-0');
      assert.equal(done.queryId, 'q-new-1');
      assert.equal(done.statusCalls, 4);
      assert.deepEqual(engine.statusCalls, ['q-new-1', 'q-new-1', 'q-new-1', 'q-new-1']);
      assert.deepEqual(done.status.stats, { bytesScanned: 7, engineMs: 3, queueMs: 2, rows: 9 });
      assert.deepEqual(
        beats,
        [0, 1, 2, 3, 4].map((polls) => ({ queryId: 'q-new-1', epoch: 0, polls })),
      );
      assert.deepEqual(engine.cancelled, []);
    });

    it('waits the first poll delay before the first status call (a query is never done right after start)', async () => {
      const engine = new ScriptedEngine([st('SUCCEEDED')]);
      const startedAt: number[] = [];
      const statusAt: number[] = [];
      const timed: QueryEngine = {
        start: async (r) => (startedAt.push(Date.now()), engine.start(r)),
        status: async (id) => (statusAt.push(Date.now()), engine.status(id)),
        results: async () => [],
        cancel: async () => {},
      };
      const { env } = envWith();
      const done = await runLoop(env, timed, { initialMs: 300, maxMs: 300, multiplier: 1 });
      assert.equal(done.statusCalls, 1);
      assert.ok(statusAt[0]! - startedAt[0]! >= 290, `first status call ${statusAt[0]! - startedAt[0]!} ms after start, expected >= 300 ms`);
    });

    it('FAILED becomes QueryFailed carrying the engine reason, and its retryable flag decides retries', async () => {
      for (const retryable of [true, false, undefined]) {
        const engine = new ScriptedEngine([st('RUNNING'), st('FAILED', { reason: 'Binder Error: column x not found', retryable, errorCategory: 2 })]);
        const { env } = envWith();
        await assert.rejects(runLoop(env, engine), (err: unknown) => {
          assert.ok(err instanceof PipelineError);
          assert.equal(err.type, 'QueryFailed');
          assert.equal(err.message, 'query q-new-1 failed: Binder Error: column x not found');
          assert.deepEqual(err.details, { queryId: 'q-new-1', reason: 'Binder Error: column x not found', errorCategory: 2 });
          assert.equal(err.retryableOverride, retryable);
          assert.equal(isRetryable(err), retryable ?? true);
          return true;
        });
        assert.deepEqual(engine.cancelled, [], 'a failed query is not cancelled');
      }
    });

    it('CANCELLED (outside the workflow) becomes a non-retryable QueryCancelled', async () => {
      const engine = new ScriptedEngine([st('RUNNING'), st('CANCELLED', { reason: 'stopped by operator' })]);
      const { env } = envWith();
      await assert.rejects(runLoop(env, engine), (err: unknown) => {
        assert.ok(err instanceof PipelineError);
        assert.equal(err.type, 'QueryCancelled');
        assert.match(err.message, /^query q-new-1 was cancelled outside this workflow \(stopped by operator\); re-run the hour when ready$/);
        assert.equal(isRetryable(err), false);
        return true;
      });
    });

    it('reattaches to the running query named in the heartbeat details instead of starting a new one', async () => {
      const engine = new ScriptedEngine().has('q-old', [st('RUNNING'), st('RUNNING'), st('SUCCEEDED')]);
      const { env, beats } = envWith({ queryId: 'q-old', epoch: 2, polls: 17 });
      const done = await runLoop(env, engine);
      assert.equal(engine.started.length, 0, 'no new query');
      assert.equal(done.queryId, 'q-old');
      assert.equal(done.statusCalls, 3); // reattach check + 2 polls
      assert.ok(beats.length > 0 && beats.every((b) => b.queryId === 'q-old' && b.epoch === 2));
    });

    it('reattaching to a query that already SUCCEEDED returns it without a new start', async () => {
      const engine = new ScriptedEngine().has('q-old', [st('SUCCEEDED')]);
      const { env } = envWith({ queryId: 'q-old', epoch: 0, polls: 3 });
      const done = await runLoop(env, engine);
      assert.equal(engine.started.length, 0);
      assert.equal(done.queryId, 'q-old');
      assert.equal(done.status.state, 'SUCCEEDED');
    });

    it('moves to the next epoch when the previous attempt left a FAILED query', async () => {
      const engine = new ScriptedEngine([st('RUNNING'), st('SUCCEEDED')]).has('q-old', [st('FAILED', { reason: 'IO Error: disk full', retryable: true })]);
      const { env, beats } = envWith({ queryId: 'q-old', epoch: 1, polls: 4 });
      const done = await runLoop(env, engine);
      assert.deepEqual(
        engine.started.map((r) => r.idempotencyToken),
        ['token-epoch-2'],
      );
      assert.equal(done.queryId, 'q-new-1');
      assert.deepEqual(beats[0], { queryId: 'q-new-1', epoch: 2, polls: 0 });
      assert.ok(beats.every((b) => b.epoch === 2));
    });

    it('moves to the next epoch when the previous attempt left a CANCELLED query', async () => {
      const engine = new ScriptedEngine().has('q-old', [st('CANCELLED')]);
      const { env } = envWith({ queryId: 'q-old', epoch: 0, polls: 1 });
      const done = await runLoop(env, engine);
      assert.deepEqual(engine.started.map((r) => r.idempotencyToken), ['token-epoch-1']);
      assert.equal(done.queryId, 'q-new-1');
    });

    it('resubmits in the next epoch when the engine lost the query (QueryNotFound on reattach): the lost token is spent', async () => {
      const engine = new ScriptedEngine([st('SUCCEEDED')]);
      const { env, beats } = envWith({ queryId: 'q-gone', epoch: 3, polls: 9 });
      const done = await runLoop(env, engine);
      assert.deepEqual(engine.statusCalls, ['q-gone', 'q-new-1']);
      assert.deepEqual(engine.started.map((r) => r.idempotencyToken), ['token-epoch-4']);
      assert.equal(done.queryId, 'q-new-1');
      assert.equal(done.statusCalls, 2);
      assert.deepEqual(beats[0], { queryId: 'q-new-1', epoch: 4, polls: 0 });
    });

    it('other errors on reattach propagate and start nothing', async () => {
      const engine = new ScriptedEngine();
      engine.status = async () => {
        throw new PipelineError('Throttled', 'rate exceeded');
      };
      const { env } = envWith({ queryId: 'q-old', epoch: 0, polls: 1 });
      await assert.rejects(runLoop(env, engine), (err: unknown) => err instanceof PipelineError && err.type === 'Throttled');
      assert.equal(engine.started.length, 0);
    });

    it('on activity cancellation stops the engine query and rethrows CancelledFailure', async () => {
      const engine = new ScriptedEngine([st('RUNNING')]);
      const { env, beats } = envWith();
      env.on('heartbeat', (d: QueryHeartbeat) => {
        if (d.polls === 2) env.cancel();
      });
      await assert.rejects(runLoop(env, engine), CancelledFailure);
      assert.deepEqual(engine.cancelled, ['q-new-1']);
      assert.equal(engine.started.length, 1);
      assert.equal(beats.at(-1)!.polls, 2);
    });

    it('cancellation while sleeping between polls is prompt (does not wait out the poll delay)', async () => {
      const engine = new ScriptedEngine([st('RUNNING')]);
      const { env } = envWith();
      const t0 = Date.now();
      const run = runLoop(env, engine, { initialMs: 60_000, maxMs: 60_000, multiplier: 1 });
      setTimeout(() => env.cancel(), 20);
      await assert.rejects(run, CancelledFailure);
      assert.ok(Date.now() - t0 < 5_000, 'cancelled during the 60 s sleep');
      assert.deepEqual(engine.cancelled, ['q-new-1']);
    });

    it("an engine's end signal cuts the first sleep short once; if status still says RUNNING after it, polls sleep again instead of spinning", async () => {
      // Stand-in for a wrapper whose view lags the engine's (a fault layer): whenEnded has resolved, status says RUNNING 3 more times.
      const engine = Object.assign(new ScriptedEngine([st('RUNNING'), st('RUNNING'), st('RUNNING'), st('SUCCEEDED')]), {
        whenEnded: () => Promise.resolve(),
      });
      const { env } = envWith();
      const t0 = Date.now();
      const done = await runLoop(env, engine, { initialMs: 200, maxMs: 200, multiplier: 1 });
      const tookMs = Date.now() - t0;
      assert.equal(done.statusCalls, 4);
      // First poll woken at once; the three after it slept their 200 ms each.
      assert.ok(tookMs >= 3 * 200 - 20, `took ${tookMs} ms: the polls after the end signal did not sleep`);
    });
  });
});
