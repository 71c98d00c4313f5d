import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { PipelineError } from '../../core/errors';
import { hourOf, withEngineFaults } from './support/engineFaults';
import type { QueryEngine, QueryRequest, QueryStatus } from '../../lake/ports';

/** The fault layer itself (no server): its decisions must be exactly what the fault tests assume. */
class FakeEngine implements QueryEngine {
  started: string[] = [];
  async start(r: QueryRequest): Promise<string> {
    this.started.push(r.idempotencyToken);
    return `real-${r.idempotencyToken}`;
  }
  async status(): Promise<QueryStatus> {
    return { state: 'SUCCEEDED', stats: { bytesScanned: 1, engineMs: 1, queueMs: 0 } };
  }
  async results(): Promise<Record<string, unknown>[]> {
    return [{ ok: 1 }];
  }
  async cancel(): Promise<void> {}
}

const request = (token: string, hour = '2024-01-01T05', sql = 'SELECT 1'): QueryRequest => ({
  sql,
  idempotencyToken: token,
  params: { raw_files: [`s3://b/raw/year=${hour.slice(0, 4)}/month=${hour.slice(5, 7)}/day=${hour.slice(8, 10)}/hour=${hour.slice(11, 13)}/part-0000.jsonl`] },
});

describe('test/faults/support/engineFaults (the test-only fault layer)', () => {
  it('lives under test/, and no production file imports anything from test/', async () => {
    const root = path.resolve(__dirname, '..', '..');
    const offenders: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      for (const e of await fs.readdir(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) await walk(p);
        else if (/\.ts$/.test(e.name) && /from '(\.\.\/)+test\//.test(await fs.readFile(p, 'utf8'))) offenders.push(path.relative(root, p));
      }
    };
    for (const dir of ['activities', 'cli', 'client', 'config', 'core', 'devserver', 'generator', 'lake', 'workers', 'workflows']) {
      await walk(path.join(root, dir)).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
    }
    assert.deepEqual(offenders, []);
  });

  it('finds the hour in any s3:// parameter, or none', () => {
    assert.equal(hourOf(request('t', '2024-02-29T23')), '2024-02-29T23');
    assert.equal(hourOf({ sql: '', idempotencyToken: 't', params: { output_file: 's3://b/c/year=2023/month=12/day=31/hour=00/run=x/p.parquet' } }), '2023-12-31T00');
    assert.equal(hourOf({ sql: '', idempotencyToken: 't', params: { n: 3 } }), undefined);
  });

  it('with no plan it only passes through', async () => {
    const inner = new FakeEngine();
    const e = withEngineFaults(inner, {});
    const id = await e.start(request('a'));
    assert.equal(id, 'real-a');
    assert.equal((await e.status(id)).state, 'SUCCEEDED');
    assert.deepEqual(await e.results(id), [{ ok: 1 }]);
    assert.deepEqual(e.stats, { submitted: 1, injectedRetryable: 0, injectedNonRetryable: 0, throttledStatusCalls: 0 });
  });

  it('retryable failures: deterministic for a seed, FAILED after failAfterMs with retryable=true, never more than maxConsecutiveFailures in a row', async () => {
    let now = 1_000;
    const run = async (seed: number) => {
      const e = withEngineFaults(new FakeEngine(), { seed, retryableFailureRate: 0.5, maxConsecutiveFailures: 2, failAfterMs: 10 }, () => now);
      const outcomes: string[] = [];
      for (let i = 0; i < 40; i++) outcomes.push((await e.start(request(`tok-${i}`))).startsWith('fault-') ? 'F' : 'ok');
      return { e, outcomes };
    };
    const a = await run(7);
    assert.deepEqual((await run(7)).outcomes, a.outcomes, 'same seed, same faults');
    assert.ok(a.outcomes.includes('F') && a.outcomes.includes('ok'));
    assert.ok(!a.outcomes.join(',').includes('F,F,F'), 'at most two failures in a row for one statement');
    const failedId = await a.e.start(request('tok-' + a.outcomes.indexOf('F')));
    assert.equal((await a.e.status(failedId)).state, 'RUNNING');
    now += 10;
    const s = await a.e.status(failedId);
    assert.equal(s.state, 'FAILED');
    assert.equal(s.retryable, true);
    assert.match(s.reason!, /^fault injected \(retryable\)/);
    await assert.rejects(a.e.results(failedId), (err: unknown) => err instanceof PipelineError && err.type === 'QueryFailed');
  });

  it('a start with the same token returns the same query (injected or real) and counts once', async () => {
    const inner = new FakeEngine();
    const e = withEngineFaults(inner, { nonRetryableHours: { '2024-01-01T06': 'bad data' } });
    assert.equal(await e.start(request('x', '2024-01-01T06')), await e.start(request('x', '2024-01-01T06')));
    assert.equal(await e.start(request('y')), await e.start(request('y')));
    assert.deepEqual(inner.started, ['y', 'y'], 'the real engine saw the idempotent re-start (and deduplicates it itself)');
    assert.equal(e.stats.submitted, 2);
  });

  it('non-retryable hours: every query of that hour ends FAILED, not retryable, category 2, with the reason', async () => {
    let now = 0;
    const e = withEngineFaults(new FakeEngine(), { nonRetryableHours: { '2024-01-01T06': 'bad data' }, failAfterMs: 0 }, () => now);
    const id = await e.start(request('x', '2024-01-01T06'));
    now = 1;
    assert.deepEqual(
      { ...(await e.status(id)), stats: undefined },
      { state: 'FAILED', reason: 'fault injected (non-retryable) for hour 2024-01-01T06: bad data', retryable: false, errorCategory: 2, stats: undefined },
    );
    assert.equal(await e.start(request('z', '2024-01-01T07')), 'real-z', 'other hours are untouched');
    assert.equal(e.stats.injectedNonRetryable, 1);
  });

  it('throttles status calls over the rate with a retryable Throttled error, and refills over time', async () => {
    let now = 0;
    const e = withEngineFaults(new FakeEngine(), { statusRateLimit: { perSecond: 2, burst: 2 } }, () => now);
    const id = await e.start(request('a'));
    await e.status(id);
    await e.status(id);
    await assert.rejects(e.status(id), (err: unknown) => err instanceof PipelineError && err.type === 'Throttled');
    now += 500; // one token back
    await e.status(id);
    await assert.rejects(e.status(id));
    assert.equal(e.stats.throttledStatusCalls, 2);
  });

  it('cancel stops an injected query that is still running', async () => {
    let now = 0;
    const e = withEngineFaults(new FakeEngine(), { retryableFailureRate: 1, failAfterMs: 100 }, () => now);
    const id = await e.start(request('a'));
    await e.cancel(id);
    now = 200;
    assert.equal((await e.status(id)).state, 'CANCELLED');
  });
});
