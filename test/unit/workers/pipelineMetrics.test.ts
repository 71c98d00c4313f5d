import assert from 'node:assert/strict';
import { ActivityFailure, ApplicationFailure, RetryState, TimeoutFailure, TimeoutType } from '@temporalio/common';
import type { Catalog, PartitionDef } from '../../../lake/ports';
import { NEWEST_HOUR_TTL_MS, PipelineMetrics } from '../../../workers/pipelineMetrics';
import { failureType } from '../../../core/failureType';

const T0 = Date.UTC(2024, 2, 1, 12, 30); // 2024-03-01 12:30 UTC

function partition(values: string[], validated: boolean): PartitionDef {
  return { values, location: 's3://b/x/', parameters: validated ? { validated: 'true' } : {} };
}

/** A catalog that answers listPartitions from a list the test changes, or fails. */
function fakeCatalog(state: { partitions: PartitionDef[]; fail?: boolean; lists: number }): Catalog {
  return {
    listPartitions: async () => {
      state.lists++;
      if (state.fail) throw new Error('catalog unreachable');
      return state.partitions;
    },
  } as unknown as Catalog;
}

async function gauge(m: PipelineMetrics): Promise<number | undefined> {
  const metric = await m.registry.getSingleMetric('clickstream_freshness_seconds')!.get();
  return metric.values[0]?.value;
}

describe('pipeline metrics: freshness from the catalog at scrape time', () => {
  it('is the age of the end of the newest validated partition, computed at each scrape', async () => {
    let now = T0;
    const state: { lists: number; fail?: boolean; partitions: PartitionDef[] } = { lists: 0, partitions: [partition(['2024', '03', '01', '09'], true), partition(['2024', '03', '01', '10'], true), partition(['2024', '03', '01', '11'], false)] };
    const warnings: string[] = [];
    const m = new PipelineMetrics({ catalog: fakeCatalog(state), database: 'db', table: 't', warn: (msg) => warnings.push(msg), now: () => now });
    // Newest validated is 10:00-11:00; the unvalidated 11 is an interrupted write, not published.
    assert.equal(await gauge(m), 90 * 60);
    now += 10_000; // no publish in between: the gauge still grows
    assert.equal(await gauge(m), 90 * 60 + 10);
    assert.equal(state.lists, 1, 'the catalog is listed at most once per TTL');

    // Another worker publishes 11: seen once the TTL has passed.
    state.partitions[2] = partition(['2024', '03', '01', '11'], true);
    now += NEWEST_HOUR_TTL_MS;
    assert.equal(await gauge(m), (now - Date.UTC(2024, 2, 1, 12)) / 1000);

    // A failed catalog read keeps the last known hour and warns; the scrape still answers.
    state.fail = true;
    now += NEWEST_HOUR_TTL_MS;
    assert.equal(await gauge(m), (now - Date.UTC(2024, 2, 1, 12)) / 1000);
    assert.deepEqual(warnings, ['freshness: reading the catalog failed; reporting the last known newest hour']);
  });

  it('has no freshness sample until an hour is published', async () => {
    const m = new PipelineMetrics({ catalog: fakeCatalog({ lists: 0, partitions: [] }), database: 'db', table: 't', warn: () => undefined, now: () => T0 });
    assert.equal(await gauge(m), undefined);
    assert.match(await m.registry.metrics(), /^clickstream_hours_published_total\{table="t"\} 0$/m);
  });
});

describe('pipeline metrics: backfill progress', () => {
  it('counts finished backfill hours (published or failed, not live ones) and reads running backfills at most once per TTL', async () => {
    let now = T0;
    let running = 2;
    let counts = 0;
    const m = new PipelineMetrics({
      catalog: fakeCatalog({ lists: 0, partitions: [] }),
      countRunningBackfills: async () => (counts++, running),
      database: 'db',
      table: 't',
      warn: () => undefined,
      now: () => now,
    });
    const value = async (name: string) => (await m.registry.getSingleMetric(name)!.get()).values[0]?.value;
    m.hourFailed('RawPartitionMissing', 'backfill');
    m.hourFailed('RawPartitionMissing', 'live');
    assert.equal(await value('clickstream_backfill_hours_finished_total'), 1);
    assert.equal(await value('clickstream_backfills_running'), 2);
    running = 0;
    assert.equal(await value('clickstream_backfills_running'), 2, 'cached within the TTL');
    now += NEWEST_HOUR_TTL_MS;
    assert.equal(await value('clickstream_backfills_running'), 0);
    assert.equal(counts, 2);
  });
});

describe('failureType: the error type an hour failed with', () => {
  it('is the ApplicationFailure type at the root, through activity failures, and Timeout for timeouts', () => {
    const app = ApplicationFailure.nonRetryable('no raw', 'RawPartitionMissing');
    assert.equal(failureType(app), 'RawPartitionMissing');
    const wrapped = new ActivityFailure('activity failed', 'curateToStaging', '1', RetryState.MAXIMUM_ATTEMPTS_REACHED, undefined, ApplicationFailure.retryable('boom', 'QueryFailed'));
    assert.equal(failureType(wrapped), 'QueryFailed');
    const timeout = new ActivityFailure('activity failed', 'curateToStaging', '1', RetryState.TIMEOUT, undefined, new TimeoutFailure('t', undefined, TimeoutType.START_TO_CLOSE));
    assert.equal(failureType(timeout), 'Timeout');
    assert.equal(failureType(ApplicationFailure.create({ message: 'untyped' })), 'ApplicationFailure');
  });
});
