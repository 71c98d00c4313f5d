import assert from 'node:assert/strict';
import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { startHour } from '../../client/hourlyStarter';
import { hourWorkflowId, WORKFLOW_TYPES } from '../../core/ids';
import { parseHour } from '../../core/hours';
import { duckdbStatements } from '../../lake/local/duckdbStatements';
import { loadSql } from '../../lake/sqlFiles';
import type { QueryEngine } from '../../lake/ports';
import { withStatements } from '../support/backendHooks';
import { curatedPartition, publishedRows } from '../support/lakeReads';
import { withWorker } from '../support/pipelineWorker';
import { testTemporal } from '../support/temporalServer';
import { makeRawHour, makeTestLake, type TestLake } from '../support/testLake';
import { sideEffectEvents } from '../support/historyEvents';

/** The ApplicationFailure a workflow failed with, whether thrown by the workflow or by an activity. */
function applicationFailure(err: unknown): ApplicationFailure {
  assert.ok(err instanceof WorkflowFailedError, `expected WorkflowFailedError, got ${String(err)}`);
  let cause: unknown = err.cause;
  if (cause instanceof ActivityFailure) cause = cause.cause;
  assert.ok(cause instanceof ApplicationFailure, `expected ApplicationFailure cause, got ${String(cause)}`);
  return cause;
}

describe('hourly pipeline failures are explained and publish nothing', () => {
  let lake: TestLake;
  beforeEach(async () => {
    lake = await makeTestLake({ CLICKSTREAM_RAW_WAIT_SECONDS: '2', CLICKSTREAM_RAW_RECHECK_SECONDS: '1' });
  });
  afterEach(async () => {
    await lake.cleanup();
  });

  it('a missing raw partition is re-checked on durable timers, then fails non-retryably naming the prefix', async () => {
    const { client } = await testTemporal();
    const err = await withWorker(lake, async () => (await startHour(client, lake.config, '2024-06-01T03')).result().catch((e) => e));
    const failure = applicationFailure(err);
    assert.equal(failure.type, 'RawPartitionMissing');
    assert.equal(failure.nonRetryable, true);
    assert.match(failure.message, /s3:\/\/clickstream-lake\/raw\/clickstream\/year=2024\/month=06\/day=01\/hour=03\//);
    assert.ok((failure.details?.[0] as { checks: number }).checks >= 2, 'checked more than once before giving up');
    const history = await client.workflow.getHandle(hourWorkflowId(lake.config.tables.curated, parseHour('2024-06-01T03'))).fetchHistory();
    assert.ok(history.events!.some((e) => e.timerStartedEventAttributes), 'waited on a durable timer, not in an activity');
  });

  it('raw data that lands while the hour waits is picked up by the next check', async () => {
    const { client } = await testTemporal();
    const slow = { ...lake.config, rawWait: { timeoutSeconds: 60, recheckSeconds: 1 } };
    const report = await withWorker(lake, async () => {
      const handle = await startHour(client, slow, '2024-06-01T04');
      await new Promise((r) => setTimeout(r, 1500));
      await makeRawHour(lake, { hour: '2024-06-01T04', rows: 20 });
      return handle.result();
    });
    assert.ok(report.raw.rawWaitChecks >= 2);
    assert.equal(report.counts.curatedRows, 20);
  });

  it('a validation mismatch fails non-retryably with both numbers and leaves the published data untouched', async () => {
    const { client } = await testTemporal();
    await makeRawHour(lake, { hour: '2024-06-01T05', rows: 80, malformed: 2 });
    const good = await withWorker(lake, async () => (await startHour(client, lake.config, '2024-06-01T05')).result());

    // A deliberately wrong curation (loses one row), run by the real DuckDB: what a curation bug would do.
    const lossy = withStatements(lake.backend, {
      ...duckdbStatements,
      curateHour: (input) => ({
        ...duckdbStatements.curateHour(input),
        sql: loadSql('duckdb', 'curate_hour').replace('ORDER BY event_time, event_id', 'ORDER BY event_time, event_id OFFSET 1'),
      }),
    });
    const err = await withWorker(lake, async () => (await startHour(client, lake.config, '2024-06-01T05')).result().catch((e) => e), lossy);
    const failure = applicationFailure(err);
    assert.equal(failure.type, 'RowCountMismatch');
    assert.equal(failure.nonRetryable, true);
    const details = failure.details?.[0] as { expected: number; actual: number };
    assert.equal(details.expected, 82);
    assert.equal(details.actual, 81);
    assert.match(failure.message, /82 non-blank raw lines, but curated 79 \+ rejected 2 \+ duplicates 0 = 81/);
    assert.equal((await curatedPartition(lake, '2024-06-01T05'))?.location, good.location, 'nothing was published');
    assert.equal((await publishedRows(lake, '2024-06-01T05')).length, 80);
  });

  it('cancelling the workflow stops the running engine query', async () => {
    const { client } = await testTemporal();
    await makeRawHour(lake, { hour: '2024-06-01T06', rows: 10 });
    const started: string[] = [];
    const engine: QueryEngine = {
      start: async (r) => {
        const id = await lake.backend.engine.start(r);
        started.push(id);
        return id;
      },
      status: (id) => lake.backend.engine.status(id),
      results: (id) => lake.backend.engine.results(id),
      cancel: (id) => lake.backend.engine.cancel(id),
    };
    // A curation that runs for minutes, so the cancel surely lands while it runs.
    const slow = withStatements({ ...lake.backend, engine }, {
      ...duckdbStatements,
      curateHour: (input) => ({
        ...duckdbStatements.curateHour(input),
        sql: `COPY (SELECT count(*) AS n FROM range(100000000) a, range(100000) b) TO $output_file (FORMAT parquet)`,
        params: { output_file: duckdbStatements.curateHour(input).params.output_file! },
      }),
    });
    const err = await withWorker(
      lake,
      async () => {
        const handle = await startHour(client, lake.config, '2024-06-01T06');
        while (started.length === 0) await new Promise((r) => setTimeout(r, 50));
        await handle.cancel();
        return handle.result().catch((e) => e);
      },
      slow,
    );
    assert.ok(err instanceof WorkflowFailedError && err.cause instanceof CancelledFailure, `expected cancellation, got ${String(err)}`);
    assert.equal(started.length, 1);
    assert.equal((await lake.backend.engine.status(started[0]!)).state, 'CANCELLED');
    assert.equal(await curatedPartition(lake, '2024-06-01T06'), undefined);
  });

  it('bad workflow input from the UI or CLI fails fast with a message naming the field and the form', async () => {
    const { client } = await testTemporal();
    const cases: Array<[unknown, RegExp]> = [
      [{ hour: '2024-02-30T00' }, /input\.hour '2024-02-30T00': day must be 01-29/],
      [{ hour: '2024-13-01T00' }, /input\.hour '2024-13-01T00': month must be 01-12/],
      [{ hour: '2024-01-01T24' }, /hour must be 00-23/],
      [{ hour: '2999-01-01T00' }, /input\.hour '2999-01-01T00' is in the future/],
      [{ hour: '2024-01-01 00:00' }, /is not in the form YYYY-MM-DDTHH/],
      [{}, /input\.hour must be a string in the form YYYY-MM-DDTHH/],
      ['2024-01-01T00', /workflow input must be a JSON object like \{"hour": "2024-03-01T07"\}/],
      [{ hour: '2024-01-01T00', rawWait: { timeoutSeconds: -1, recheckSeconds: 5 } }, /input\.rawWait\.timeoutSeconds must be a whole number/],
    ];
    await withWorker(lake, async () => {
      for (const [input, message] of cases) {
        const handle = await client.workflow.start(WORKFLOW_TYPES.hourly, {
          taskQueue: lake.config.temporal.taskQueue,
          workflowId: `bad-input-${Math.random()}`,
          args: [input],
        });
        const failure = applicationFailure(await handle.result().catch((e) => e));
        assert.equal(failure.type, 'InvalidInput', JSON.stringify(input));
        assert.match(failure.message, message);
        const history = await handle.fetchHistory();
        assert.equal(sideEffectEvents(history.events).length, 0, 'no activity ran');
      }
    });
  });
});
